/**
 * The HTTP client drivers call carriers with: one keep-alive connection pool per process (a TLS handshake per
 * message would cost more than the message), a hard timeout on every call, and network failures turned into
 * transient `CarrierError`s.
 */
import { Agent, request } from 'undici';
import { transient, type CarrierError } from './driver.js';

export interface CarrierResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export class CarrierHttp {
  private readonly agent: Agent;

  constructor(
    readonly timeoutMs: number,
    connections = 128,
  ) {
    this.agent = new Agent({ connections, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000, connectTimeout: timeoutMs });
  }

  post(url: string, headers: Record<string, string>, body: string, signal?: AbortSignal): Promise<CarrierResponse> {
    return this.call('POST', url, headers, body, signal);
  }

  get(url: string, headers: Record<string, string>, signal?: AbortSignal): Promise<CarrierResponse> {
    return this.call('GET', url, headers, undefined, signal);
  }

  private async call(
    method: 'GET' | 'POST',
    url: string,
    headers: Record<string, string>,
    body: string | undefined,
    signal?: AbortSignal,
  ): Promise<CarrierResponse> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      const res = await request(url, {
        method,
        headers,
        body,
        dispatcher: this.agent,
        signal: combined,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
    } catch (error) {
      if (signal?.aborted) throw transient('aborted', 'the request was abandoned at shutdown; the carrier may or may not have it');
      const name = (error as Error).name;
      if (timeout.aborted || /Timeout/.test(name) || (error as { code?: string }).code?.includes('TIMEOUT')) {
        throw transient('timeout', `no answer from the carrier within ${this.timeoutMs} ms`);
      }
      const code = (error as { code?: string }).code;
      throw transient('network_error', `could not reach the carrier${code ? ` (${code})` : ''}`);
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/** Retry-After in seconds or as an HTTP date, in milliseconds; null when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, now: number): number | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** A carrier's 429 or 5xx: try again, no sooner than its Retry-After asks. */
export function carrierBusy(carrier: string, res: CarrierResponse): CarrierError {
  return transient(
    `http_${res.status}`,
    `${carrier} answered HTTP ${res.status}`,
    res.status,
    retryAfterMs(res.headers['retry-after'], Date.now()),
  );
}

export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}
