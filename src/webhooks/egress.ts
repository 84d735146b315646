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

type Ranges<A> = readonly { block: [A, number]; name: string }[];

function ranges<A>(parse: (cidr: string) => [A, number], list: readonly [string, string][]): Ranges<A> {
  return list.map(([cidr, name]) => ({ block: parse(cidr), name }));
}

/**
 * IPv4 blocks no webhook may target: every block of the IANA IPv4 special-purpose registry that is not globally
 * reachable (and the whole of 192.0.0.0/24, whose two anycast services receive no webhooks), multicast and the
 * reserved 240/4 (the limited broadcast included). test/webhooks/egress-ranges.test.ts holds the registry.
 */
const REFUSED_IPV4 = ranges(
  (cidr) => ipaddr.IPv4.parseCIDR(cidr),
  [
    ['0.0.0.0/8', 'this-network'],
    ['10.0.0.0/8', 'private-use'],
    ['100.64.0.0/10', 'shared (carrier-grade NAT)'],
    ['127.0.0.0/8', 'loopback'],
    ['169.254.0.0/16', 'link-local'],
    ['172.16.0.0/12', 'private-use'],
    ['192.0.0.0/24', 'protocol-assignment'],
    ['192.0.2.0/24', 'documentation'],
    ['192.88.99.0/24', 'deprecated 6to4 relay anycast'],
    ['192.168.0.0/16', 'private-use'],
    ['198.18.0.0/15', 'benchmarking'],
    ['198.51.100.0/24', 'documentation'],
    ['203.0.113.0/24', 'documentation'],
    ['224.0.0.0/4', 'multicast'],
    ['240.0.0.0/4', 'reserved'],
  ],
);

/** In IPv6 only global unicast is public: the rest of the space is special-purpose or unassigned. */
const GLOBAL_UNICAST_IPV6 = ipaddr.IPv6.parseCIDR('2000::/3');

/**
 * Named for the refusal's message, most specific first. Inside global unicast: the IANA IPv6 special-purpose
 * blocks that are not globally reachable (all of 2001::/23, as 192.0.0.0/24), and the tunnels 6to4 and Teredo,
 * whose far end is an IPv4 address carried inside. Outside it everything is refused, the deprecated
 * IPv4-compatible ::/96 included (`::a9fe:a9fe` reaches 169.254.169.254 where the system still routes it).
 */
const NAMED_IPV6 = ranges(
  (cidr) => ipaddr.IPv6.parseCIDR(cidr),
  [
    ['::/128', 'unspecified'],
    ['::1/128', 'loopback'],
    ['::/96', 'deprecated IPv4-compatible'],
    ['64:ff9b:1::/48', 'local-use IPv4/IPv6 translation'],
    ['100::/64', 'discard-only'],
    ['2001::/32', 'Teredo'],
    ['2001::/23', 'protocol-assignment'],
    ['2001:db8::/32', 'documentation'],
    ['2002::/16', '6to4'],
    ['3fff::/20', 'documentation'],
    ['5f00::/16', 'segment-routing'],
    ['fc00::/7', 'unique-local'],
    ['fe80::/10', 'link-local'],
    ['fec0::/10', 'deprecated site-local'],
    ['ff00::/8', 'multicast'],
  ],
);

/** NAT64's well-known prefix: the gateway connects to the IPv4 address in the last 32 bits. */
const NAT64_IPV6 = ipaddr.IPv6.parseCIDR('64:ff9b::/96');

/**
 * `::1.2.3.4` → `::102:304`. ipaddr.js reads every IPv6 address with a dotted tail as IPv4-mapped, but `::1.2.3.4`
 * is IPv4-compatible, and the system's DNS answers write that range so.
 */
function hexTail(address: string): string {
  if (!address.includes(':')) return address;
  return address.replace(
    /(\d+)\.(\d+)\.(\d+)\.(\d+)(%.*)?$/,
    (_all, a: string, b: string, c: string, d: string, zone: string | undefined) =>
      `${((Number(a) << 8) | Number(b)).toString(16)}:${((Number(c) << 8) | Number(d)).toString(16)}${zone ?? ''}`,
  );
}

function matching<A extends ipaddr.IPv4 | ipaddr.IPv6>(address: A, list: Ranges<A>): string | null {
  return list.find((range) => address.match(range.block))?.name ?? null;
}

/**
 * Why `address` may not be a webhook's target (the name of its range), or null when it may: only ordinary public
 * unicast. IPv4-mapped and NAT64 addresses are judged as the IPv4 address they carry.
 */
function refusedRange(address: string): string | null {
  if (!ipaddr.isValid(address)) return 'invalid';
  const parsed = ipaddr.parse(hexTail(address));
  if (parsed.kind() === 'ipv4') return matching(parsed as ipaddr.IPv4, REFUSED_IPV4);
  const ipv6 = parsed as ipaddr.IPv6;
  if (ipv6.isIPv4MappedAddress()) return matching(ipv6.toIPv4Address(), REFUSED_IPV4);
  if (ipv6.match(NAT64_IPV6)) return matching(new ipaddr.IPv4(ipv6.toByteArray().slice(12)), REFUSED_IPV4);
  return matching(ipv6, NAMED_IPV6) ?? (ipv6.match(GLOBAL_UNICAST_IPV6) ? null : 'reserved');
}

export function isPublicAddress(address: string): boolean {
  return refusedRange(address) === null;
}

function describeRange(address: string): string {
  return refusedRange(address) ?? 'public';
}

/** The endpoint URL's syntax rules (no network): absolute http(s), no credentials, no fragment. */
export function parseEndpointUrl(text: string, paramName = 'url'): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw appError('webhook_url_invalid', {
      paramName,
      longMessage: `${paramName} must be an absolute URL such as https://example.com/webhooks`,
    });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw appError('webhook_url_scheme_unsupported', {
      paramName,
      longMessage: `${paramName} must use http or https (got ${url.protocol.replace(/:$/, '')})`,
    });
  }
  if (url.username || url.password) {
    throw appError('webhook_url_invalid', {
      paramName,
      longMessage: `${paramName} must not carry credentials: receivers authenticate deliveries by their signature`,
    });
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
export async function checkEndpointTarget(
  url: URL,
  allowPrivate: boolean,
  resolve: Resolver = dns.lookup,
  paramName = 'url',
): Promise<void> {
  if (allowPrivate) return;
  const host = hostOf(url);
  let addresses: string[];
  if (ipaddr.isValid(host)) {
    addresses = [host];
  } else {
    try {
      addresses = (
        await new Promise<dns.LookupAddress[]>((ok, fail) =>
          resolve(host, { all: true }, (error, list) => (error ? fail(error) : ok(list))),
        )
      ).map((a) => a.address);
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
    return Promise.resolve({
      statusCode: null,
      responseBody: null,
      truncated: false,
      latencyMs: 0,
      error: new RefusedAddressError(host, host).message,
      retryAfterMs: null,
      abort: false,
    });
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
      const why = ok
        ? null
        : (error ??
          (statusCode !== null && statusCode >= 300 && statusCode < 400
            ? `answered ${statusCode}: redirects are not followed`
            : `answered ${statusCode}`));
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
      abort =
        String(response.headers['webhook-delivery'] ?? '')
          .trim()
          .toLowerCase() === 'abort-message';
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
