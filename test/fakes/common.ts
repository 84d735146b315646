/**
 * What both carrier fakes share: the contract documents (vendored in test/fakes/contracts), an
 * HTTP server on a free loopback port, request recording, injectable failures, and callback delivery with
 * retries (a server that is down — killed in a test — gets the callback once it is back).
 */
import fs from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';
import { Agent, request } from 'undici';

/** The carriers' published API descriptions and our signature vectors, with their sources and licences in its README. */
const CONTRACTS = fileURLToPath(new URL('./contracts', import.meta.url));

export function readContract<T = unknown>(file: string): T {
  return JSON.parse(fs.readFileSync(path.join(CONTRACTS, file), 'utf8')) as T;
}

/** Ajv for carrier documents: form values arrive as strings (coerced), vendor keywords and formats are ignored. */
export function contractAjv(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true, coerceTypes: true });
  ajvFormats.default(ajv);
  for (const format of ['phone-number', 'date-time-rfc-2822', 'uri-map', 'currency', 'vcard', 'vcal', 'binary'])
    ajv.addFormat(format, () => true);
  return ajv;
}

export function describeErrors(validate: ValidateFunction): string {
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'invalid'}`).join('; ');
}

/** Failures a test can inject; `times` requests matching `match` get it (default: the next one). */
export interface Injected<F> {
  failure: F;
  times: number;
  match?: (fields: Record<string, unknown>) => boolean;
}

export class FailureQueue<F> {
  private readonly queue: Injected<F>[] = [];

  add(failure: F, options: { times?: number; match?: (fields: Record<string, unknown>) => boolean } = {}): void {
    this.queue.push({ failure, times: options.times ?? 1, match: options.match });
  }

  take(fields: Record<string, unknown>): F | null {
    const index = this.queue.findIndex((q) => !q.match || q.match(fields));
    if (index === -1) return null;
    const entry = this.queue[index]!;
    if (--entry.times <= 0) this.queue.splice(index, 1);
    return entry.failure;
  }

  clear(): void {
    this.queue.length = 0;
  }
}

/** The transport-level failures both fakes support. */
export type TransportFailure = { kind: 'slow'; ms: number } | { kind: 'hang' } | { kind: 'reset' };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The body as text. */
  raw: string;
  /** Parsed fields (form or JSON); arrays for repeated form fields. */
  fields: Record<string, string | string[]>;
  status: number;
  at: number;
}

export interface CallbackDelivery {
  url: string;
  method: string;
  fields: Record<string, string>;
  headers: Record<string, string>;
  /** HTTP status of the last try (0: could not connect). */
  status: number;
  tries: number;
}

export function parseForm(raw: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of new URLSearchParams(raw)) {
    const existing = out[name];
    out[name] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return out;
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface FakeServerOptions {
  /**
   * Keep every request, callback and message for the test to read (default true). The benchmark turns it off:
   * over a long run they would all stay in memory (a message is then forgotten once its callbacks are sent).
   */
  keep?: boolean;
}

/** A loopback HTTP server that tracks its sockets so `close()` also ends hanging requests. */
export class FakeServer {
  readonly requests: RecordedRequest[] = [];
  /** Requests the driver got wrong against the contract (a test asserts there are none). */
  readonly violations: string[] = [];
  readonly callbacks: CallbackDelivery[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly pendingCallbacks = new Set<Promise<void>>();
  private server: http.Server | null = null;
  /** Keep-alive connections for callbacks, as a carrier's webhook sender would use. */
  private readonly agent = new Agent({ keepAliveTimeout: 30_000 });
  readonly keep: boolean;
  url = '';
  closed = false;

  constructor(options: FakeServerOptions = {}) {
    this.keep = options.keep ?? true;
  }

  async listen(handler: (req: IncomingMessage, res: ServerResponse, raw: string) => Promise<void>): Promise<void> {
    this.server = http.createServer((req, res) => {
      readBody(req)
        .then((raw) => handler(req, res, raw))
        .catch((error: unknown) => {
          if (!res.headersSent) sendJson(res, 500, { error: String(error) });
        });
    });
    this.server.keepAliveTimeout = 60_000;
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  record(req: IncomingMessage, raw: string, fields: Record<string, string | string[]>, status: number): void {
    if (this.keep)
      this.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, raw, fields, status, at: Date.now() });
  }

  /** Applies a transport failure; returns true when the request must not be answered normally. */
  async transport(failure: TransportFailure, res: ServerResponse): Promise<boolean> {
    switch (failure.kind) {
      case 'slow':
        await sleep(failure.ms);
        return this.closed;
      case 'hang':
        // Never answered: the client's timeout has to deal with it (the socket is ended at close()).
        return true;
      case 'reset':
        res.socket?.destroy();
        return true;
    }
  }

  /**
   * Delivers a callback; with `retry`, a failed one (no connection, non-2xx) is tried again with a growing
   * pause, as carriers do, until it is taken or the fake closes. Resolves with how it went.
   */
  async deliver(delivery: Omit<CallbackDelivery, 'status' | 'tries'>, retry: boolean, body: string | null): Promise<CallbackDelivery> {
    const record: CallbackDelivery = { ...delivery, status: 0, tries: 0 };
    if (this.keep) this.callbacks.push(record);
    const run = (async () => {
      for (let pause = 100; !this.closed; pause = Math.min(pause * 2, 2_000)) {
        record.tries++;
        try {
          const res = await request(delivery.url, {
            method: delivery.method as 'GET' | 'POST',
            headers: delivery.headers,
            body,
            dispatcher: this.agent,
            headersTimeout: 10_000,
            bodyTimeout: 10_000,
          });
          await res.body.dump();
          record.status = res.statusCode;
          if ((res.statusCode >= 200 && res.statusCode < 300) || res.statusCode === 403 || !retry) return;
        } catch {
          record.status = 0;
          if (!retry) return;
        }
        await sleep(pause);
      }
    })();
    this.pendingCallbacks.add(run);
    void run.finally(() => this.pendingCallbacks.delete(run));
    await run;
    return record;
  }

  /** Waits for every callback in progress. */
  async settled(): Promise<void> {
    while (this.pendingCallbacks.size > 0) await Promise.all([...this.pendingCallbacks]);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    await this.settled();
    await this.agent.close();
  }
}

/** What both fakes are: a loopback server, the failures a test injects, and what they received. */
export abstract class FakeCarrier<F> {
  readonly server: FakeServer;
  readonly failures = new FailureQueue<F>();

  /** `recipientField` names the request field `fail(…, { to })` matches (`To` for Twilio, `to` for Vonage). */
  protected constructor(
    private readonly recipientField: string,
    serverOptions: FakeServerOptions = {},
  ) {
    this.server = new FakeServer(serverOptions);
  }

  protected abstract handle(req: IncomingMessage, res: ServerResponse, raw: string): Promise<void>;

  protected async listen(): Promise<this> {
    await this.server.listen((req, res, raw) => this.handle(req, res, raw));
    return this;
  }

  get url(): string {
    return this.server.url;
  }

  get requests(): RecordedRequest[] {
    return this.server.requests;
  }

  get violations(): string[] {
    return this.server.violations;
  }

  /** The next `times` requests (to `to` only, when given) get `failure`. */
  fail(failure: F, options: { times?: number; to?: string } = {}): void {
    this.failures.add(failure, {
      times: options.times,
      match: options.to ? (fields) => fields[this.recipientField] === options.to : undefined,
    });
  }

  close(): Promise<void> {
    return this.server.close();
  }
}

/** A simple segment count, independent of src/sms/encoding.ts: plain ASCII is treated as GSM-7. */
export function carrierSegments(text: string, unicode: boolean): number {
  const [single, multi] = unicode ? [70, 67] : [160, 153];
  return text.length <= single ? 1 : Math.ceil(text.length / multi);
}

/** A port nothing listens on right now (for a server whose public URL must be known before it starts). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = http.createServer();
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}
