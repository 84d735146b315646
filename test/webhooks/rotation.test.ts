/** Secret rotation under a fake clock: both secrets verify during the 24 h overlap, only the new one after. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordEvent } from '../../src/webhooks/events.js';
import { SECRET_OVERLAP_MS } from '../../src/webhooks/endpoints.js';
import { STORES, createTestStore, startTestServer, type TestServer, type TestStore } from '../helpers/server.js';
import { Receiver, verifyAt, webhookEnv } from './receiver.js';
import { ManualClock } from '../helpers/clock.js';
import { eventually } from '../helpers/eventually.js';

describe.each(STORES)('webhook secret rotation on %s', (kind) => {
  let store: TestStore;
  let server: TestServer;
  let receiver: Receiver;
  const clock = new ManualClock(Date.now());

  beforeAll(async () => {
    store = await createTestStore(kind);
    receiver = await new Receiver().start();
    server = await startTestServer(store, { env: webhookEnv(), clock });
  });
  afterAll(async () => {
    await server?.close();
    await receiver?.stop();
    await store?.cleanup();
  });

  const deliverOne = async () => {
    const before = receiver.received.length;
    const event = await recordEvent(server.running.services.store.db, clock, { type: 'user.created', data: {} });
    // Wait for the outcome to be recorded, not just received: the test then moves the clock past the lease.
    await eventually('delivered and recorded', async () => {
      const row = await server.running.services.store.db
        .selectFrom('webhook_deliveries')
        .select('status')
        .where('event_id', '=', event.id)
        .executeTakeFirstOrThrow();
      return row.status === 'succeeded';
    });
    expect(receiver.received).toHaveLength(before + 1);
    const request = receiver.received.at(-1)!;
    expect(request.headers['webhook-id']).toBe(event.id);
    expect(request.headers['webhook-timestamp']).toBe(String(Math.floor(clock.now() / 1000)));
    return request;
  };

  it('signs with both secrets during the overlap and with the new one only after it', async () => {
    const created = (await server.bapi('POST', '/v1/webhooks/endpoints', { url: receiver.url })).json();
    const oldSecret: string = created.secret;

    const before = await deliverOne();
    expect(before.headers['webhook-signature']!.split(' ')).toHaveLength(1);
    expect(verifyAt(oldSecret, before, clock)).toMatchObject({ type: 'user.created' });

    clock.advance(60_000);
    const newSecret: string = (await server.bapi('POST', `/v1/webhooks/endpoints/${created.id}/rotate_secret`)).json().secret;
    expect(newSecret).not.toBe(oldSecret);

    const during = await deliverOne();
    expect(during.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(verifyAt(oldSecret, during, clock)).toMatchObject({ type: 'user.created' });
    expect(verifyAt(newSecret, during, clock)).toMatchObject({ type: 'user.created' });

    // Still inside the overlap one millisecond before it ends.
    clock.advance(SECRET_OVERLAP_MS - 1);
    const lastMoment = await deliverOne();
    expect(verifyAt(oldSecret, lastMoment, clock)).toBeTruthy();

    clock.advance(1);
    const after = await deliverOne();
    expect(after.headers['webhook-signature']!.split(' ')).toHaveLength(1);
    expect(verifyAt(newSecret, after, clock)).toMatchObject({ type: 'user.created' });
    expect(() => verifyAt(oldSecret, after, clock)).toThrow('No matching signature found');
    await server.bapi('DELETE', `/v1/webhooks/endpoints/${created.id}`);
  });

  it('a second rotation inside the overlap keeps every secret younger than 24 h signing', async () => {
    const created = (await server.bapi('POST', '/v1/webhooks/endpoints', { url: receiver.url, event_types: ['challenge.created'] })).json();
    const first: string = created.secret;
    const second: string = (await server.bapi('POST', `/v1/webhooks/endpoints/${created.id}/rotate_secret`)).json().secret;
    clock.advance(60_000);
    const third: string = (await server.bapi('POST', `/v1/webhooks/endpoints/${created.id}/rotate_secret`)).json().secret;
    const before = receiver.received.length;
    await recordEvent(server.running.services.store.db, clock, { type: 'challenge.created', data: {} });
    await eventually('delivered', () => receiver.received.slice(before).some((r) => r.body.includes('challenge.created')));
    await server.bapi('DELETE', `/v1/webhooks/endpoints/${created.id}`);
    const request = receiver.received.slice(before).find((r) => r.body.includes('challenge.created'))!;
    expect(request.headers['webhook-signature']!.split(' ')).toHaveLength(3);
    for (const secret of [first, second, third]) expect(verifyAt(secret, request, clock)).toBeTruthy();
  });
});
