/**
 * A webhook receiver for tests: a real HTTP server on loopback that records every request and answers as
 * told (200, 500, a redirect, a big body, or never). `verified()` checks each request with the
 * `standardwebhooks` library, the way an operator's code would.
 */
import type dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, vi } from 'vitest';
import { Webhook } from 'standardwebhooks';
import type { Clock } from '../../src/clock.js';
import type { Resolver } from '../../src/webhooks/egress.js';

export interface Received {
  headers: Record<string, string>;
  body: string;
}

export interface Envelope {
  id: string;
  type: string;
  object: 'event';
  timestamp: number;
  data: Record<string, unknown>;
}

export type Answer = 'ok' | 'fail' | 'abort' | 'hang' | 'redirect' | 'big' | 'binary';

export class Receiver {
  readonly received: Received[] = [];
  answer: Answer = 'ok';
  private server: http.Server | null = null;
  private hanging: http.ServerResponse[] = [];
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  /** Starts listening (on the same port as before when restarted). */
  async start(): Promise<this> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
        this.received.push({ headers, body: Buffer.concat(chunks).toString('utf8') });
        switch (this.answer) {
          case 'ok':
            return res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
          case 'fail':
            return res.writeHead(500).end('receiver broke');
          case 'abort':
            // Svix's convention for "stop trying this message".
            return res.writeHead(410, { 'webhook-delivery': 'abort-message' }).end('gone for good');
          case 'big':
            return res.writeHead(500).end('x'.repeat(20_000));
          case 'binary':
            return res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.from([0x41, 0x00, 0x42]));
          case 'redirect':
            return res.writeHead(302, { location: `http://127.0.0.1:${this.port}/elsewhere` }).end();
          case 'hang':
            this.hanging.push(res);
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  /** Stops listening: connections are then refused (the port stays reserved for a restart). */
  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.hanging = [];
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  events(): Envelope[] {
    return this.received.map((r) => JSON.parse(r.body) as Envelope);
  }

  /** Every request verified with `secret`; throws on the first that does not verify. */
  verified(secret: string, clock?: Clock): Envelope[] {
    return this.received.map((r) => verifyAt(secret, r, clock) as Envelope);
  }
}

/**
 * Verifies with the library. Its timestamp tolerance reads the system time, so under a fake clock the check
 * runs with `Date` set to the fake time (synchronously: nothing else runs meanwhile).
 */
export function verifyAt(secret: string, request: Received, clock?: Clock): unknown {
  if (!clock) return new Webhook(secret).verify(request.body, request.headers);
  vi.useFakeTimers({ toFake: ['Date'] });
  try {
    vi.setSystemTime(clock.now());
    return new Webhook(secret).verify(request.body, request.headers);
  } finally {
    vi.useRealTimers();
  }
}

/** Env for a test server: private targets allowed, fast polling, a compressed retry schedule. */
export function webhookEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    AUTHN_WEBHOOKS_ALLOW_PRIVATE: 'true',
    AUTHN_WEBHOOKS_POLL_INTERVAL_MS: '20',
    AUTHN_WEBHOOKS_RETRY_SCHEDULE: '50ms,50ms,50ms',
    // Generous: under a fake clock a timed-out attempt's retry never comes due, and the machine may be busy.
    AUTHN_WEBHOOKS_TIMEOUT_MS: '10000',
    AUTHN_LOG_LEVEL: 'warn',
    ...overrides,
  };
}

/** For a describe block: a receiver, and the HTTP agents a delivery made straight with `postJson` goes through. */
export function useEgressReceiver(): { receiver: () => Receiver; agents: { http: http.Agent; https: https.Agent } } {
  let receiver: Receiver | undefined;
  const agents = { http: new http.Agent(), https: new https.Agent() };
  beforeAll(async () => {
    receiver = await new Receiver().start();
  });
  afterAll(async () => {
    await receiver?.stop();
    agents.http.destroy();
    agents.https.destroy();
  });
  return { receiver: () => receiver!, agents };
}

/** A DNS that answers `address` for every name, as a rebinding attacker's would on the second query. */
export const answering = (address: string): Resolver =>
  ((_host: string, _options: unknown, callback: (e: Error | null, list: dns.LookupAddress[]) => void) =>
    callback(null, [{ address, family: address.includes(':') ? 6 : 4 }])) as unknown as Resolver;
