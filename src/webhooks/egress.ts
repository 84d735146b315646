/**
 * Outbound HTTP to operator-given URLs, with the SSRF rules: http(s) only; no private, loopback, link-local
 * (or otherwise non-public) target unless allowed; the check applies to every address a name resolves to, at
 * creation and again at connection time, on the very addresses the socket connects to (so a DNS answer that
 * changes in between — rebinding — is caught); redirects are not followed; answers are read up to a limit;
 * one timeout covers the whole exchange.
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import ipaddr from 'ipaddr.js';
import { appError } from '../errors.js';

export type Resolver = typeof dns.lookup;

/** Only ordinary public unicast addresses; IPv4-mapped IPv6 is judged as the IPv4 address it carries. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'unicast';
}

function describeRange(address: string): string {
  return ipaddr.isValid(address) ? ipaddr.process(address).range() : 'invalid';
}

/** The endpoint URL's syntax rules (no network): absolute http(s), no credentials, no fragment. */
export function parseEndpointUrl(text: string, paramName = 'url'): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw appError('webhook_url_invalid', { paramName, longMessage: `${paramName} must be an absolute URL such as https://example.com/webhooks` });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw appError('webhook_url_scheme_unsupported', { paramName, longMessage: `${paramName} must use http or https (got ${url.protocol.replace(/:$/, '')})` });
  }
  if (url.username || url.password) {
    throw appError('webhook_url_invalid', { paramName, longMessage: `${paramName} must not carry credentials: receivers authenticate deliveries by their signature` });
  }
  if (url.hash) throw appError('webhook_url_invalid', { paramName, longMessage: `${paramName} must not have a #fragment` });
  return url;
}

/** `[::1]` → `::1`: URL keeps IPv6 literals bracketed. */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/**
 * Creation-time check: refuses a non-public literal address, or a name that does not resolve or resolves to
 * any non-public address. Skipped entirely when private targets are allowed.
 */
export async function checkEndpointTarget(url: URL, allowPrivate: boolean, resolve: Resolver = dns.lookup, paramName = 'url'): Promise<void> {
  if (allowPrivate) return;
  const host = hostOf(url);
  let addresses: string[];
  if (ipaddr.isValid(host)) {
    addresses = [host];
  } else {
    try {
      addresses = (await new Promise<dns.LookupAddress[]>((ok, fail) => resolve(host, { all: true }, (error, list) => (error ? fail(error) : ok(list))))).map((a) => a.address);
    } catch {
      throw appError('webhook_url_unresolvable', { paramName, longMessage: `${paramName}: the host ${host} does not resolve` });
    }
  }
  const refused = addresses.find((a) => !isPublicAddress(a));
  if (refused !== undefined) {
    throw appError('webhook_url_private', {
      paramName,
      longMessage: `${paramName}: ${host} is a ${describeRange(refused)} address (${refused}); only public addresses are allowed unless AUTHN_WEBHOOKS_ALLOW_PRIVATE=true`,
    });
  }
}

export class RefusedAddressError extends Error {
  constructor(host: string, address: string) {
    super(`${host} resolves to ${address}, a ${describeRange(address)} address: refused (AUTHN_WEBHOOKS_ALLOW_PRIVATE is off)`);
    this.name = 'RefusedAddressError';
  }
}

/** A `lookup` for sockets that refuses non-public answers: what is checked is what the socket connects to. */
export function guardedLookup(resolve: Resolver = dns.lookup): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error, list) => {
      if (error) return callback(error, '', 0);
      const refused = list.find((a) => !isPublicAddress(a.address));
      if (refused) return callback(new RefusedAddressError(hostname, refused.address), '', 0);
      // Node asks for `all` when it races address families (autoSelectFamily); otherwise it wants one.
      if (options.all) return (callback as unknown as (e: null, all: dns.LookupAddress[]) => void)(null, list);
      const first = list[0];
      if (!first) return callback(new Error(`${hostname} has no address`), '', 0);
      callback(null, first.address, first.family);
    });
  };
}

export interface PostOptions {
  allowPrivate: boolean;
  timeoutMs: number;
  bodyLimitBytes: number;
  agents: { http: http.Agent; https: https.Agent };
  /** Injected in tests to play a DNS answer that changes (rebinding). */
  resolve?: Resolver;
}

export interface PostResult {
  /** Null when no HTTP answer came. */
  statusCode: number | null;
  responseBody: string | null;
  truncated: boolean;
  latencyMs: number;
  /** Why the attempt failed without (or despite) an answer; null on a 2xx. */
  error: string | null;
  /** A 429 / 503 answer's `Retry-After`, in ms. */
  retryAfterMs: number | null;
  /** The receiver answered `webhook-delivery: abort-message` (Svix's convention): try no more. */
  abort: boolean;
}

function parseRetryAfter(value: string | undefined, now: number): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1_000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** POSTs `body` to `url`; never throws: every failure is described in the result. */
export function postJson(url: URL, body: string, headers: Record<string, string>, options: PostOptions): Promise<PostResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const host = hostOf(url);
  if (!options.allowPrivate && ipaddr.isValid(host) && !isPublicAddress(host)) {
    return Promise.resolve({ statusCode: null, responseBody: null, truncated: false, latencyMs: 0, error: new RefusedAddressError(host, host).message, retryAfterMs: null, abort: false });
  }
  const secure = url.protocol === 'https:';
  return new Promise((resolve) => {
    let statusCode: number | null = null;
    let retryAfterMs: number | null = null;
    let abort = false;
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    let settled = false;

    // `destroy` false only after a complete answer: its socket then goes back to the agent's keep-alive pool.
    const finish = (error: string | null, destroy = true) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Kept as text in the log; PostgreSQL text cannot hold NUL, so binary answers lose those bytes.
      const responseBody = statusCode === null ? null : Buffer.concat(chunks).toString('utf8').replaceAll('\0', '\uFFFD');
      const ok = statusCode !== null && statusCode >= 200 && statusCode < 300;
      const why = ok ? null : (error ?? (statusCode !== null && statusCode >= 300 && statusCode < 400 ? `answered ${statusCode}: redirects are not followed` : `answered ${statusCode}`));
      resolve({ statusCode, responseBody, truncated, latencyMs: elapsed(), error: why, retryAfterMs, abort });
      if (destroy) request.destroy();
    };

    const request = (secure ? https : http).request(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
      agent: secure ? options.agents.https : options.agents.http,
      lookup: options.allowPrivate ? (options.resolve as LookupFunction | undefined) : guardedLookup(options.resolve),
    });
    const timer = setTimeout(() => finish(`no complete answer within ${options.timeoutMs} ms`), options.timeoutMs);
    request.on('error', (error) => finish(error.message));
    request.on('response', (response) => {
      statusCode = response.statusCode ?? null;
      if (statusCode === 429 || statusCode === 503) retryAfterMs = parseRetryAfter(response.headers['retry-after'], Date.now());
      abort = String(response.headers['webhook-delivery'] ?? '').trim().toLowerCase() === 'abort-message';
      response.on('data', (chunk: Buffer) => {
        const room = options.bodyLimitBytes - size;
        if (chunk.length > room) {
          chunks.push(chunk.subarray(0, room));
          size += room;
          truncated = true;
          finish(null);
          return;
        }
        chunks.push(chunk);
        size += chunk.length;
      });
      response.on('end', () => finish(null, false));
      response.on('error', (error) => finish(error.message));
    });
    request.end(body);
  });
}
