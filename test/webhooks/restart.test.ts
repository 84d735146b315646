/**
 * Deliveries survive restarts: a graceful restart in the middle of a retry schedule, and a crash (SIGKILL of a
 * real `authn serve` process) in the middle of an attempt, whose lease then runs out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { openStore } from '../../src/store/database.js';
import { recordEvent } from '../../src/webhooks/events.js';
import { spawnServer } from '../helpers/cli.js';
import { STORES, createTestStore, startTestServer, type TestStore } from '../helpers/server.js';
import { Receiver, verifyAt, webhookEnv } from './receiver.js';
import { ManualClock } from '../helpers/clock.js';
import { eventually } from '../helpers/eventually.js';
import type { DeliveryView } from '../../src/webhooks/deliveries.js';

describe.each(STORES)('webhook deliveries across restarts on %s', (kind) => {
  let store: TestStore;
  let receiver: Receiver;
  beforeAll(async () => {
    store = await createTestStore(kind);
    receiver = await new Receiver().start();
  });
  afterAll(async () => {
    await receiver?.stop();
    await store?.cleanup();
  });

  it('a restart in the middle of the retry schedule loses no delivery', async () => {
    const clock = new ManualClock(Date.now());
    const env = webhookEnv({ AUTHN_WEBHOOKS_RETRY_SCHEDULE: '5s,5m,30m,2h,5h,10h,10h' });
    receiver.answer = 'fail';
    const first = await startTestServer(store, { env, clock });
    const endpoint = (await first.bapi('POST', '/v1/webhooks/endpoints', { url: receiver.url })).json();
    const events = [];
    for (let i = 0; i < 3; i++)
      events.push(await recordEvent(first.running.services.store.db, clock, { type: 'sms.delivered', data: { n: i } }));
    const log = async (server: typeof first) =>
      (await server.bapi('GET', `/v1/webhooks/endpoints/${endpoint.id}/deliveries`)).json().data as DeliveryView[];
    // First attempts fail; then 5 s later the second ones do too; the next is due in 5 minutes.
    await eventually('first attempts failed', async () => (await log(first)).every((d) => d.attempt_count === 1));
    clock.advance(6_000);
    await eventually('second attempts failed', async () => (await log(first)).every((d) => d.attempt_count === 2));
    const pending = await log(first);
    expect(pending.every((d) => d.status === 'pending' && d.next_attempt_at! > clock.now() + 4 * 60_000)).toBe(true);
    await first.close();

    receiver.answer = 'ok';
    const failedRequests = receiver.received.length;
    const second = await startTestServer(store, { env, clock });
    try {
      clock.advance(6 * 60_000);
      const done = await eventually('delivered after the restart', async () => {
        const list = await log(second);
        return list.every((d) => d.status === 'succeeded') && list;
      });
      expect(done.map((d) => d.attempt_count)).toEqual([3, 3, 3]);
      const delivered = receiver.received.slice(failedRequests);
      expect(delivered).toHaveLength(3);
      expect(delivered.map((r) => (verifyAt(endpoint.secret, r, clock) as { id: string }).id).sort()).toEqual(
        events.map((e) => e.id).sort(),
      );
      await second.bapi('DELETE', `/v1/webhooks/endpoints/${endpoint.id}`);
    } finally {
      await second.close();
    }
    receiver.received.length = 0;
  });

  it('a crash in the middle of an attempt: the lease runs out and another process delivers it', async () => {
    const env = { ...store.env, ...webhookEnv({ AUTHN_WEBHOOKS_TIMEOUT_MS: '1500', AUTHN_LOG_LEVEL: 'info' }) };
    receiver.answer = 'hang';
    const doomed = await spawnServer(env);
    // biome-ignore lint/suspicious/noExplicitAny: BAPI answers of several shapes, read field by field
    type BapiJson = Record<string, any>;
    const call = (base: string, method: string, path: string, body?: unknown) =>
      fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${store.env.AUTHN_SECRET_KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      }).then((r) => r.json() as Promise<BapiJson>);
    let survivor: Awaited<ReturnType<typeof spawnServer>> | null = null;
    const side = await openStore({ databaseUrl: env.AUTHN_DATABASE_URL ?? null, dataDir: store.dataDir });
    try {
      const endpoint = await call(doomed.url, 'POST', '/v1/webhooks/endpoints', { url: receiver.url, event_types: ['sms.failed'] });
      const event = await recordEvent(side.db, systemClock, { type: 'sms.failed', data: { id: 'msg_crash' } });
      await eventually('the attempt reached the receiver', () => receiver.received.length === 1);
      doomed.child.kill('SIGKILL');
      await doomed.exited;

      receiver.answer = 'ok';
      survivor = await spawnServer(env);
      const delivery = await eventually(
        'delivered by the second process',
        async () => {
          const [d] = (await call(survivor!.url, 'GET', `/v1/webhooks/endpoints/${endpoint.id}/deliveries`)).data;
          return d?.status === 'succeeded' && d;
        },
        30_000,
      );
      // The crashed attempt left no record; the second is the one that counted.
      expect(delivery).toMatchObject({ attempt_count: 1, event_id: event.id });
      expect(delivery.attempts).toEqual([expect.objectContaining({ succeeded: true, status_code: 200 })]);
      expect(receiver.received).toHaveLength(2);
      expect(receiver.received.map((r) => r.headers['webhook-id'])).toEqual([event.id, event.id]);
      expect(receiver.verified(endpoint.secret).map((e) => e.id)).toEqual([event.id, event.id]);
    } finally {
      if (doomed.child.exitCode === null && doomed.child.signalCode === null) doomed.child.kill('SIGKILL');
      if (survivor) {
        survivor.child.kill('SIGTERM');
        await survivor.exited;
      }
      await side.close();
    }
  });
});
