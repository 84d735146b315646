/**
 * The HTTP client drivers call carriers with: one keep-alive connection pool per process (a TLS handshake per
 * message would cost more than the message), a hard timeout on every call, and network failures turned into
 * transient `CarrierError`s.
 */
import { Agent, request } from 'undici';
import { transient } from './driver.js';

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

  /**
   * Each phase of a call (connecting, waiting for the answer's headers, each wait for more of its body) is cut
   * off after `timeoutMs` by undici's own timers: a timer and an `AbortSignal` of our own per call cost more
   * than a tenth of what the call does.
   */
  private async call(method: 'GET' | 'POST', url: string, headers: Record<string, string>, body: string | undefined, signal?: AbortSignal): Promise<CarrierResponse> {
    try {
      const res = await request(url, { method, headers, body, dispatcher: this.agent, signal, headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs });
      return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
    } catch (error) {
      if (signal?.aborted) throw transient('aborted', 'the request was abandoned at shutdown; the carrier may or may not have it');
      const { name, code } = error as { name?: string; code?: string };
      if (/Timeout/.test(name ?? '') || code?.includes('TIMEOUT')) throw transient('timeout', `no answer from the carrier within ${this.timeoutMs} ms`);
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

export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}
