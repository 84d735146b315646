/**
 * Endpoint health: an endpoint whose every attempt fails for AUTHN_WEBHOOKS_DISABLE_FAILING_AFTER (5 days by
 * default, as Svix; compressed here) is disabled, with an audit entry; its pending deliveries wait and go out
 * once it is enabled again. A success in between starts the count afresh.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordEvent } from '../../src/webhooks/events.js';
import { STORES, createTestStore, startTestServer, type TestServer, type TestStore } from '../helpers/server.js';
import { Receiver, webhookEnv } from './receiver.js';
import { eventually } from '../helpers/eventually.js';
import type { DeliveryView } from '../../src/webhooks/deliveries.js';

describe.each(STORES)('webhook endpoint health on %s', (kind) => {
  let store: TestStore;
  let server: TestServer;
  let receiver: Receiver;

  beforeAll(async () => {
    store = await createTestStore(kind);
    // Attempts at about 0, 0.2, 0.4, 0.6 … s: the endpoint is disabled at the attempt 0.5 s after the first failure.
    server = await startTestServer(store, {
      env: webhookEnv({
        AUTHN_WEBHOOKS_RETRY_SCHEDULE: '200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms',
        AUTHN_WEBHOOKS_DISABLE_FAILING_AFTER: '500ms',
      }),
    });
    receiver = await new Receiver().start();
  });
  afterAll(async () => {
    await receiver?.stop();
    await server?.close();
    await store?.cleanup();
  });

  const services = () => server.running.services;
  const endpointOf = async (id: string) => (await server.bapi('GET', `/v1/webhooks/endpoints/${id}`)).json();
  const deliveriesOf = async (id: string) =>
    (await server.bapi('GET', `/v1/webhooks/endpoints/${id}/deliveries?limit=500`)).json().data as DeliveryView[];

  it('a success clears the failing mark; failing everything for long enough disables the endpoint until it is enabled again', async () => {
    receiver.answer = 'fail';
    const created = await server.bapi('POST', '/v1/webhooks/endpoints', { url: receiver.url });
    expect(created.statusCode, created.body).toBe(200);
    const endpoint = created.json() as { id: string; secret: string; failing_since: number | null };
    expect(endpoint.failing_since).toBeNull();

    // One failure marks it; a success before the limit clears the mark.
    await recordEvent(services().store.db, services().clock, { type: 'user.created', data: { id: 'user_1' } });
    const marked = await eventually('the endpoint is marked failing', async () => {
      const e = await endpointOf(endpoint.id);
      return e.failing_since !== null && e;
    });
    expect(marked).toMatchObject({ enabled: true });
    receiver.answer = 'ok';
    await eventually('the endpoint is healthy again', async () => (await endpointOf(endpoint.id)).failing_since === null);
    expect((await endpointOf(endpoint.id)).enabled).toBe(true);

    // Now it fails for good: disabled once it has failed for 0.5 s, with an audit entry from the system.
    receiver.answer = 'fail';
    await recordEvent(services().store.db, services().clock, { type: 'user.created', data: { id: 'user_2' } });
    const disabled = await eventually('the endpoint is disabled', async () => {
      const e = await endpointOf(endpoint.id);
      return !e.enabled && e;
    });
    expect(disabled.failing_since).toEqual(expect.any(Number));
    const [audit] = (await server.bapi('GET', '/v1/audit_logs?action=webhook_endpoint.disabled')).json().data;
    expect(audit).toMatchObject({
      actor: { type: 'system' },
      target: { type: 'webhook_endpoint', id: endpoint.id },
      data: { reason: 'failing', failing_since: disabled.failing_since },
    });
    // While disabled nothing is attempted, and the delivery waits, pending.
    const requests = receiver.received.length;
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(receiver.received.length).toBe(requests);
    const waiting = (await deliveriesOf(endpoint.id)).find((d) => d.event_type === 'user.created' && d.status === 'pending');
    expect(waiting).toBeDefined();

    // Enabled again, against a receiver that is back: the mark is gone and the waiting delivery goes out.
    receiver.answer = 'ok';
    const enabled = await server.bapi('PATCH', `/v1/webhooks/endpoints/${endpoint.id}`, { enabled: true });
    expect(enabled.json()).toMatchObject({ enabled: true, failing_since: null });
    await eventually('the waiting delivery succeeds', async () => {
      const d = (await server.bapi('GET', `/v1/webhooks/deliveries/${waiting!.id}`)).json();
      return d.status === 'succeeded' && d;
    });
    expect((await endpointOf(endpoint.id)).failing_since).toBeNull();
    const delivered = receiver.verified(endpoint.secret).filter((e) => e.data.id === 'user_2');
    expect(delivered.length).toBeGreaterThan(1);
  });
});
