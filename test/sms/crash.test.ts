/**
 * SIGKILL with messages in flight, then a restart: every message still reaches a terminal status, and the
 * messages sent twice are only those the killed process had in flight (at most its dispatch concurrency).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { STORES, createTestStore, type TestStore } from '../helpers/server.js';
import { spawnServer, type ServerProcess } from '../helpers/cli.js';
import { FakeTwilio, TWILIO_FAILURES } from '../fakes/twilio.js';
import { FakeVonage } from '../fakes/vonage.js';
import { freePort } from '../fakes/common.js';
import { TWILIO, VONAGE, twilioServerEnv } from './harness.js';
import { eventually } from '../helpers/eventually.js';

const MESSAGES = 40;
const CONCURRENCY = 8;
const TERMINAL = new Set(['delivered', 'failed', 'undelivered', 'dropped', 'test_noop', 'operator', 'expired']);

/** Short timeouts and leases, so a killed server's messages fall due again within the test. */
const FAST_DISPATCH = {
  AUTHN_SMS_DISPATCH_CONCURRENCY: String(CONCURRENCY),
  AUTHN_SMS_DISPATCH_POLL_MS: '20',
  AUTHN_CARRIER_TIMEOUT_MS: '2000',
  AUTHN_SMS_LEASE_MS: '3000',
};

const bapiAt = (port: number, secretKey: string) => (method: string, path: string, body?: unknown) =>
  fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { authorization: `Bearer ${secretKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });

describe.each(STORES)('crash on %s', (kind) => {
  let store: TestStore | null = null;
  let twilio: FakeTwilio | null = null;
  let vonage: FakeVonage | null = null;
  let server: ServerProcess | null = null;
  afterEach(async () => {
    if (server && server.child.exitCode === null && server.child.signalCode === null) {
      server.child.kill('SIGKILL');
      await server.exited;
    }
    await twilio?.close();
    await vonage?.close();
    await store?.cleanup();
  });

  it('SIGKILL mid-send loses nothing; duplicates stay within the in-flight bound', async () => {
    store = await createTestStore(kind);
    // Callbacks retry until the server takes them, as carriers do while it is down.
    twilio = await FakeTwilio.start({ ...TWILIO, callbacks: 'auto', retryCallbacks: true });
    // Every create is accepted at once but answered late: at the kill, the carrier has messages we never heard back about.
    twilio.fail({ kind: 'late', ms: 400 }, { times: 10_000 });
    const port = await freePort();
    const env = {
      ...store.env,
      ...twilioServerEnv(port, twilio.url),
      ...FAST_DISPATCH,
    };
    const bapi = bapiAt(port, store.env.AUTHN_SECRET_KEY!);

    server = await spawnServer(env);
    const recipients = Array.from({ length: MESSAGES }, (_, i) => `+1415555${String(4000 + i)}`);
    for (const to of recipients) expect((await bapi('POST', '/v1/sms_messages/test', { to })).status).toBe(202);
    await eventually('messages in flight at the carrier', () => twilio!.messages.size >= CONCURRENCY);
    server.child.kill('SIGKILL');
    expect(await server.exited).toBe('SIGKILL');
    const acceptedBeforeKill = twilio.messages.size;

    server = await spawnServer(env);
    const statuses = await eventually(
      'every message to reach a terminal status',
      async () => {
        const page = (await (await bapi('GET', '/v1/sms_messages?limit=100')).json()) as {
          data: { status: string; to_phone_number: string }[];
        };
        return page.data.length === MESSAGES && page.data.every((m) => TERMINAL.has(m.status)) ? page.data : undefined;
      },
      60_000,
    );
    expect(statuses.every((m) => m.status === 'delivered')).toBe(true);

    const sentTwice = recipients.filter((to) => twilio!.messagesTo(to).length > 1).length;
    for (const to of recipients) expect(twilio.messagesTo(to).length).toBeGreaterThanOrEqual(1);
    expect(recipients.every((to) => twilio!.messagesTo(to).length <= 2)).toBe(true);
    // The bound documented in docs/operations.md: what the killed process had in flight, at most its concurrency.
    expect(sentTwice).toBeLessThanOrEqual(CONCURRENCY);
    expect(acceptedBeforeKill).toBeGreaterThanOrEqual(CONCURRENCY);
  }, 120_000);

  it('SIGKILL mid-failover loses nothing: every message still ends delivered through the second driver', async () => {
    store = await createTestStore(kind);
    // Twilio may not send to the region: every message moves to Vonage, which answers late.
    twilio = await FakeTwilio.start({ ...TWILIO, callbacks: 'auto' });
    twilio.fail(TWILIO_FAILURES.geoBlocked, { times: 10_000 });
    vonage = await FakeVonage.start({ ...VONAGE, receipts: 'auto', retryReceipts: true });
    vonage.fail({ kind: 'slow', ms: 400 }, { times: 10_000 });
    const port = await freePort();
    const env = {
      ...store.env,
      ...twilioServerEnv(port, twilio.url),
      AUTHN_VONAGE_API_URL: vonage.url,
      AUTHN_SMS_VONAGE_API_KEY: VONAGE.apiKey,
      AUTHN_SMS_VONAGE_API_SECRET: VONAGE.apiSecret,
      ...FAST_DISPATCH,
    };
    const bapi = bapiAt(port, store.env.AUTHN_SECRET_KEY!);

    server = await spawnServer(env);
    expect((await bapi('PATCH', '/v1/instance', { sms: { failover: { driver: 'vonage' } } })).status).toBe(200);
    const recipients = Array.from({ length: MESSAGES }, (_, i) => `+1415555${String(4000 + i)}`);
    for (const to of recipients) expect((await bapi('POST', '/v1/sms_messages/test', { to })).status).toBe(202);
    // Some messages have moved and reached Vonage, others are still on their way.
    await eventually('messages moved to Vonage', () => vonage!.requests.length >= CONCURRENCY);
    server.child.kill('SIGKILL');
    expect(await server.exited).toBe('SIGKILL');

    server = await spawnServer(env);
    const statuses = await eventually(
      'every message to reach a terminal status',
      async () => {
        const page = (await (await bapi('GET', '/v1/sms_messages?limit=100')).json()) as { data: { status: string; driver: string }[] };
        return page.data.length === MESSAGES && page.data.every((m) => TERMINAL.has(m.status)) ? page.data : undefined;
      },
      60_000,
    );
    expect(statuses.map((m) => [m.status, m.driver])).toEqual(recipients.map(() => ['delivered', 'vonage']));
    for (const to of recipients) expect(vonage.requests.filter((r) => r.fields.to === to.slice(1)).length).toBeGreaterThanOrEqual(1);
  }, 120_000);
});
