/** Several processes on one store deliver each event once; a hanging endpoint holds back no other. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordEvent } from '../../src/webhooks/events.js';
import { STORES, createTestStore, startTestServer, type TestServer, type TestStore } from '../helpers/server.js';
import { Receiver, webhookEnv } from './receiver.js';
import { eventually } from '../helpers/eventually.js';
import type { DeliveryView } from '../../src/webhooks/deliveries.js';

describe.each(STORES)('webhook delivery concurrency on %s', (kind) => {
  let store: TestStore;
  let servers: TestServer[];
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    store = await createTestStore(kind);
    const env = webhookEnv({ AUTHN_WEBHOOKS_TIMEOUT_MS: '10000', AUTHN_WEBHOOKS_ENDPOINT_CONCURRENCY: '2' });
    servers = [await startTestServer(store, { env }), await startTestServer(store, { env })];
  });
  afterAll(async () => {
    for (const server of servers ?? []) await server.close();
    for (const receiver of receivers) await receiver.stop();
    await store?.cleanup();
  });

  const receiver = async () => {
    const r = await new Receiver().start();
    receivers.push(r);
    return r;
  };
  const log = async (endpointId: string) =>
    (await servers[0]!.bapi('GET', `/v1/webhooks/endpoints/${endpointId}/deliveries?limit=500`)).json().data as DeliveryView[];

  it('two server processes on one store deliver every event exactly once', async () => {
    const r = await receiver();
    const endpoint = (await servers[0]!.bapi('POST', '/v1/webhooks/endpoints', { url: r.url, event_types: ['sms.sent'] })).json();
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) {
      const { services } = servers[i % 2]!.running;
      ids.push((await recordEvent(services.store.db, services.clock, { type: 'sms.sent', data: { n: i } })).id);
    }
    const done = await eventually('all delivered', async () => {
      const list = await log(endpoint.id);
      return list.length === 60 && list.every((d) => d.status === 'succeeded') && list;
    });
    expect(done.every((d) => d.attempt_count === 1 && d.attempts.length === 1)).toBe(true);
    expect(r.received).toHaveLength(60);
    expect(
      r
        .verified(endpoint.secret)
        .map((e) => e.id)
        .sort(),
    ).toEqual(ids.sort());
    // No worker ever found its lease taken by the other.
    expect(servers.every((s) => !s.logs.join('').includes('lease lost'))).toBe(true);
  });

  it('a hanging endpoint does not delay another, and gets no more than its concurrency in flight', async () => {
    const [slow, fast] = [await receiver(), await receiver()];
    slow.answer = 'hang';
    const hanging = (await servers[0]!.bapi('POST', '/v1/webhooks/endpoints', { url: slow.url, event_types: ['user.created'] })).json();
    const healthy = (await servers[0]!.bapi('POST', '/v1/webhooks/endpoints', { url: fast.url, event_types: ['user.created'] })).json();
    const { services } = servers[0]!.running;
    for (let i = 0; i < 10; i++) await recordEvent(services.store.db, services.clock, { type: 'user.created', data: { n: i } });

    await eventually('the healthy endpoint got everything', async () => {
      const list = await log(healthy.id);
      return list.length === 10 && list.every((d) => d.status === 'succeeded');
    });
    expect(fast.verified(healthy.secret)).toHaveLength(10);
    // Meanwhile the hanging endpoint has not finished a single attempt (its timeout is 10 s)...
    const stuck = await log(hanging.id);
    expect(stuck.every((d) => d.status === 'pending' && d.attempts.length === 0)).toBe(true);
    // ...and holds at most 2 requests per process (AUTHN_WEBHOOKS_ENDPOINT_CONCURRENCY), 2 processes here.
    await eventually('requests in flight', () => slow.received.length >= 2);
    expect(slow.received.length).toBeLessThanOrEqual(4);

    // An attempt in flight cannot be retried by hand.
    const inFlight = stuck.find((d) => slow.received.some((r) => r.headers['webhook-id'] === d.event_id))!;
    const res = await servers[1]!.bapi('POST', `/v1/webhooks/deliveries/${inFlight.id}/retry`);
    expect(res.statusCode).toBe(409);
    expect(res.json().errors[0].code).toBe('webhook_delivery_in_progress');
    expect((await servers[0]!.bapi('GET', `/v1/webhooks/deliveries/${inFlight.id}`)).json()).toMatchObject({
      status: 'pending',
      attempt_count: 0,
    });

    await servers[0]!.bapi('DELETE', `/v1/webhooks/endpoints/${hanging.id}`);
    await slow.stop();
  });
});
