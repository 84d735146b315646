/** Delivery end to end: a receiver verifies every POST with the standardwebhooks library. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { recordEvent } from '../../src/webhooks/events.js';
import type { EventType } from '../../src/webhooks/catalogue.js';
import { STORES, createTestStore, startTestServer, type TestServer, type TestStore } from '../helpers/server.js';
import { Receiver, webhookEnv } from './receiver.js';
import { eventually } from '../helpers/eventually.js';
import type { DeliveryView } from '../../src/webhooks/deliveries.js';

describe.each(STORES)('webhook delivery on %s', (kind) => {
  let store: TestStore;
  let server: TestServer;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    store = await createTestStore(kind);
    server = await startTestServer(store, {
      env: webhookEnv({ AUTHN_WEBHOOKS_RETRY_SCHEDULE: '50ms,100ms,200ms,400ms,800ms', AUTHN_WEBHOOKS_RESPONSE_BODY_LIMIT_BYTES: '1024' }),
    });
  });
  afterEach(async () => {
    // Each test has its own endpoints; later events must not go to them.
    for (const endpoint of (await server.bapi('GET', '/v1/webhooks/endpoints?limit=500')).json().data) {
      await server.bapi('DELETE', `/v1/webhooks/endpoints/${endpoint.id}`);
    }
    for (const receiver of receivers.splice(0)) await receiver.stop();
  });
  afterAll(async () => {
    await server?.close();
    await store?.cleanup();
  });

  const services = () => server.running.services;
  const record = (type: EventType, data: Record<string, unknown> = {}) =>
    recordEvent(services().store.db, services().clock, { type, data });
  const receiver = async () => {
    const r = await new Receiver().start();
    receivers.push(r);
    return r;
  };
  const createEndpoint = async (body: Record<string, unknown>) => {
    const res = await server.bapi('POST', '/v1/webhooks/endpoints', body);
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { id: string; secret: string };
  };
  const deliveries = async (endpointId: string, query = '') =>
    (await server.bapi('GET', `/v1/webhooks/endpoints/${endpointId}/deliveries?limit=500${query}`)).json().data as DeliveryView[];
  const allFinished = async (endpointId: string, count: number) => {
    const list = await deliveries(endpointId);
    return list.length === count && list.every((d) => d.status !== 'pending') && list;
  };

  it('delivers every event once to every endpoint, signed, in the documented envelope', async () => {
    const [a, b] = [await receiver(), await receiver()];
    const epA = await createEndpoint({ url: a.url });
    const epB = await createEndpoint({ url: b.url, description: 'second' });

    for (let i = 0; i < 10; i++) await record('user.created', { id: `user_${i}` });
    await services()
      .store.db.transaction()
      .execute(async (tx) => {
        for (let i = 0; i < 5; i++) await recordEvent(tx, services().clock, { type: 'challenge.created', data: { n: i } });
      });
    // A rolled-back transaction's event is not delivered.
    await expect(
      services()
        .store.db.transaction()
        .execute(async (tx) => {
          await recordEvent(tx, services().clock, { type: 'user.created', data: { id: 'rolled_back' } });
          throw new Error('abort');
        }),
    ).rejects.toThrow('abort');
    // The engine's sms.queued arrives too, for the reserved test range (a send no-op'd at the engine).
    const sms = await services().sms.send({
      template: 'verification_code',
      to: '+15555550142',
      variables: { code: '123456', expires_in_minutes: '10' },
    });

    const events = await services().store.db.selectFrom('events').selectAll().orderBy('id').execute();
    expect(events).toHaveLength(16);
    for (const [endpoint, r] of [
      [epA, a],
      [epB, b],
    ] as const) {
      const log = await eventually('all deliveries finished', () => allFinished(endpoint.id, 16));
      expect(log.every((d) => d.status === 'succeeded' && d.attempt_count === 1)).toBe(true);
      const received = r.verified(endpoint.secret);
      expect(received).toHaveLength(16);
      expect(received.map((e) => e.id).sort()).toEqual(events.map((e) => e.id).sort());
      for (const envelope of received) {
        const stored = events.find((e) => e.id === envelope.id)!;
        expect(envelope).toEqual({
          id: stored.id,
          type: stored.type,
          object: 'event',
          timestamp: stored.created_at,
          data: JSON.parse(stored.data),
        });
      }
      for (const request of r.received) {
        expect(request.headers['webhook-id']).toBe(JSON.parse(request.body).id);
        expect(request.headers['content-type']).toBe('application/json');
        expect(request.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/=]+$/);
      }
      const queued = received.find((e) => e.type === 'sms.queued')!;
      expect(queued.data).toMatchObject({ id: sms.id, status: 'test_noop', to_phone_number: '+15555550142' });
      // Not the other endpoint's secret.
      expect(() => r.verified(endpoint === epA ? epB.secret : epA.secret)).toThrow();
    }
    const attempt = (await deliveries(epA.id))[0]!.attempts[0]!;
    expect(attempt).toMatchObject({
      object: 'webhook_attempt',
      trigger: 'scheduled',
      url: a.url,
      succeeded: true,
      status_code: 200,
      response_body: '{"received":true}',
      response_body_truncated: false,
      error: null,
    });
    expect(attempt.latency_ms).toBeGreaterThanOrEqual(0);
  });

  it('delivers only the subscribed types, and nothing to a disabled endpoint', async () => {
    const [a, b] = [await receiver(), await receiver()];
    const only = await createEndpoint({ url: a.url, event_types: ['sms.delivered', 'sms.failed'] });
    const off = await createEndpoint({ url: b.url, enabled: false });
    await record('sms.queued');
    await record('sms.delivered', { id: 'msg_1' });
    await record('user.created');
    await record('sms.failed', { id: 'msg_2', error_code: '30003' });
    await eventually('two deliveries', () => allFinished(only.id, 2));
    expect(
      a
        .verified(only.secret)
        .map((e) => e.type)
        .sort(),
    ).toEqual(['sms.delivered', 'sms.failed']);
    expect(await deliveries(off.id)).toEqual([]);
    expect(b.received).toEqual([]);
  });

  it('receiver down, then up: every event arrives after retries', async () => {
    const r = await receiver();
    const endpoint = await createEndpoint({ url: r.url });
    await r.stop();
    for (let i = 0; i < 5; i++) await record('sms.sent', { n: i });
    // Two failed attempts each (connection refused), then the receiver comes back.
    await eventually('two failed attempts each', async () => {
      const list = await deliveries(endpoint.id);
      return list.length === 5 && list.every((d) => d.attempt_count >= 2);
    });
    await r.start();
    const log = await eventually('all delivered', () => allFinished(endpoint.id, 5));
    expect(log.every((d) => d.status === 'succeeded')).toBe(true);
    expect(
      r
        .verified(endpoint.secret)
        .map((e) => e.data.n)
        .sort(),
    ).toEqual([0, 1, 2, 3, 4]);
    for (const delivery of log) {
      const failed = delivery.attempts.filter((a) => !a.succeeded);
      expect(failed.length).toBeGreaterThanOrEqual(2);
      expect(failed.every((a) => a.status_code === null && a.error!.includes('ECONNREFUSED'))).toBe(true);
      expect(delivery.attempts.at(-1)).toMatchObject({ succeeded: true, status_code: 200 });
    }
  });

  it('receiver failing forever: failed after the schedule, visible in the log; a retry delivers once it is back', async () => {
    const r = await receiver();
    r.answer = 'big';
    const endpoint = await createEndpoint({ url: r.url });
    const event = await record('sms.failed', { id: 'msg_x', error_code: '30003' });
    const [failed] = await eventually('the delivery failed', () => allFinished(endpoint.id, 1));
    // The first attempt and the five retries of the schedule.
    expect(failed).toMatchObject({ status: 'failed', attempt_count: 6, next_attempt_at: null, event_id: event.id });
    expect(failed!.attempts).toHaveLength(6);
    for (const attempt of failed!.attempts) {
      expect(attempt).toMatchObject({ succeeded: false, status_code: 500, response_body_truncated: true, error: 'answered 500' });
      expect(attempt.response_body).toBe('x'.repeat(1024));
    }
    expect(await deliveries(endpoint.id, '&status=failed')).toHaveLength(1);
    expect(r.received).toHaveLength(6);
    expect(new Set(r.received.map((q) => q.headers['webhook-id']))).toEqual(new Set([event.id]));

    r.answer = 'ok';
    const retried = await server.bapi('POST', `/v1/webhooks/deliveries/${failed!.id}/retry`);
    expect(retried.statusCode, retried.body).toBe(200);
    expect(retried.json()).toMatchObject({ status: 'pending' });
    const done = await eventually('delivered after retry', async () => {
      const d = (await server.bapi('GET', `/v1/webhooks/deliveries/${failed!.id}`)).json();
      return d.status !== 'pending' && d;
    });
    expect(done).toMatchObject({ status: 'succeeded', attempt_count: 7 });
    expect(done.attempts.at(-1)).toMatchObject({ trigger: 'manual', succeeded: true, status_code: 200 });
    expect(r.received).toHaveLength(7);
    expect(r.verified(endpoint.secret).at(-1)!.id).toBe(event.id);
    const audit = (await server.bapi('GET', '/v1/audit_logs?action=webhook_delivery.retried')).json().data;
    expect(audit[0]).toMatchObject({ target: { type: 'webhook_delivery', id: failed!.id }, data: { previous_status: 'failed' } });
  });

  it('a receiver answering webhook-delivery: abort-message gets no more tries', async () => {
    const r = await receiver();
    r.answer = 'abort';
    const endpoint = await createEndpoint({ url: r.url });
    await record('sms.failed', { id: 'msg_abort' });
    const [failed] = await eventually('the delivery failed', () => allFinished(endpoint.id, 1));
    expect(failed).toMatchObject({ status: 'failed', attempt_count: 1, next_attempt_at: null });
    expect(failed!.attempts[0]).toMatchObject({ succeeded: false, status_code: 410, error: 'answered 410' });
    // Well past the first retry's time (50 ms): still one request.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(r.received).toHaveLength(1);
  });

  it('a failing manual retry of a finished delivery makes one attempt only', async () => {
    const r = await receiver();
    const endpoint = await createEndpoint({ url: r.url });
    await record('user.created');
    const [delivered] = await eventually('delivered', () => allFinished(endpoint.id, 1));
    r.answer = 'fail';
    await server.bapi('POST', `/v1/webhooks/deliveries/${delivered!.id}/retry`);
    const done = await eventually('replayed', async () => {
      const d = (await server.bapi('GET', `/v1/webhooks/deliveries/${delivered!.id}`)).json();
      return d.status !== 'pending' && d;
    });
    expect(done).toMatchObject({ status: 'failed', attempt_count: 2 });
    expect(r.received).toHaveLength(2);
  });

  it('does not follow redirects', async () => {
    const r = await receiver();
    r.answer = 'redirect';
    const endpoint = await createEndpoint({ url: r.url });
    await record('user.created');
    const [failed] = await eventually('failed', () => allFinished(endpoint.id, 1));
    expect(failed!.attempts[0]).toMatchObject({ status_code: 302, succeeded: false, error: 'answered 302: redirects are not followed' });
    expect(r.received.every((q) => q.headers['webhook-id'] && !q.body.includes('elsewhere'))).toBe(true);
    expect(r.received).toHaveLength(failed!.attempt_count);
  });

  it('keeps a binary answer in the log as text', async () => {
    const r = await receiver();
    r.answer = 'binary';
    const endpoint = await createEndpoint({ url: r.url });
    await record('user.created');
    const [delivered] = await eventually('delivered', () => allFinished(endpoint.id, 1));
    expect(delivered!.attempts[0]).toMatchObject({ succeeded: true, status_code: 200, response_body: 'A\uFFFDB' });
  });

  it('sends a test event to one endpoint only', async () => {
    const [a, b] = [await receiver(), await receiver()];
    const target = await createEndpoint({ url: a.url });
    const other = await createEndpoint({ url: b.url });
    const res = await server.bapi('POST', `/v1/webhooks/endpoints/${target.id}/send_test_event`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ object: 'webhook_delivery', endpoint_id: target.id, event_type: 'webhook.test', status: 'pending' });
    await eventually('test delivered', () => allFinished(target.id, 1));
    expect(a.verified(target.secret)).toEqual([
      expect.objectContaining({ type: 'webhook.test', data: expect.objectContaining({ endpoint_id: target.id }) }),
    ]);
    expect(await deliveries(other.id)).toEqual([]);
  });

  it('refuses to retry or test on a disabled endpoint, and answers 404 for unknown ids', async () => {
    const r = await receiver();
    const endpoint = await createEndpoint({ url: r.url });
    await record('user.created');
    const [delivered] = await eventually('delivered', () => allFinished(endpoint.id, 1));
    await server.bapi('PATCH', `/v1/webhooks/endpoints/${endpoint.id}`, { enabled: false });
    for (const url of [`/v1/webhooks/deliveries/${delivered!.id}/retry`, `/v1/webhooks/endpoints/${endpoint.id}/send_test_event`]) {
      const res = await server.bapi('POST', url);
      expect(res.statusCode).toBe(409);
      expect(res.json().errors[0].code).toBe('webhook_endpoint_disabled');
    }
    expect((await server.bapi('GET', `/v1/webhooks/deliveries/${delivered!.id}`)).json()).toMatchObject({
      status: 'succeeded',
      attempt_count: 1,
    });
    for (const [method, url] of [
      ['POST', '/v1/webhooks/deliveries/whd_01J9Z6Q4W8V2K3M5N7P9R1S3T5/retry'],
      ['GET', '/v1/webhooks/deliveries/whd_01J9Z6Q4W8V2K3M5N7P9R1S3T5'],
      ['GET', '/v1/webhooks/endpoints/whe_01J9Z6Q4W8V2K3M5N7P9R1S3T5/deliveries'],
    ] as const) {
      const res = await server.bapi(method, url);
      expect(res.statusCode).toBe(404);
      expect(res.json().errors[0].code).toBe('resource_not_found');
    }
  });
});
