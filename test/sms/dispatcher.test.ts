/**
 * The dispatcher's guarantees, on both stores: two workers never send one message twice, a dead worker's
 * messages are taken over when its lease ends (and not before), and a graceful stop finishes or releases
 * what is in flight.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { STORES, createTestStore, startTestServer, type TestServer, type TestStore } from '../helpers/server.js';
import { FakeTwilio } from '../fakes/twilio.js';
import { freePort } from '../fakes/common.js';
import { spawnServer } from '../helpers/cli.js';
import { FAST_DISPATCH, TWILIO, storeReader, twilioServerEnv } from './harness.js';
import { eventually } from '../helpers/eventually.js';

describe.each(STORES)('dispatcher on %s', (kind) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setup(): Promise<{ store: TestStore; twilio: FakeTwilio; start: (env?: Record<string, string>) => Promise<TestServer> }> {
    const store = await createTestStore(kind);
    cleanups.push(() => store.cleanup());
    const twilio = await FakeTwilio.start({ ...TWILIO, callbacks: 'manual' });
    cleanups.push(() => twilio.close());
    const start = async (env: Record<string, string> = {}) => {
      const port = await freePort();
      const server = await startTestServer(store, {
        listen: true,
        env: { ...twilioServerEnv(port, twilio.url), ...FAST_DISPATCH, ...env },
      });
      let closed = false;
      const close = server.close.bind(server);
      server.close = async () => {
        if (!closed) await close();
        closed = true;
      };
      cleanups.push(() => server.close());
      return server;
    };
    return { store, twilio, start };
  }

  const recipients = (n: number) => Array.from({ length: n }, (_, i) => `+1415555${String(3000 + i)}`);

  it('two worker processes on one store never send a message twice', async () => {
    const { store, twilio, start } = await setup();
    // A generous timeout: a timed-out call that the carrier did take is a (legitimate) second send, not what this tests.
    const small = {
      AUTHN_SMS_DISPATCH_CONCURRENCY: '6',
      AUTHN_SMS_DISPATCH_BATCH: '5',
      AUTHN_CARRIER_TIMEOUT_MS: '10000',
      AUTHN_SMS_LEASE_MS: '60000',
    };
    const a = await start(small);
    // The second worker is a real `authn serve` process (two SQLite connections in one process would block
    // each other's event loop; two processes is also how it is deployed).
    const port = await freePort();
    const b = await spawnServer({
      ...store.env,
      ...twilioServerEnv(port, twilio.url),
      ...FAST_DISPATCH,
      ...small,
    });
    cleanups.push(async () => {
      b.child.kill('SIGTERM');
      await b.exited;
    });
    const to = recipients(120);
    const ids: string[] = [];
    for (const number of to) ids.push((await a.running.services.sms.send({ template: 'password_changed', to: number, variables: {} })).id);
    const read = storeReader(a);
    await eventually(
      'every message sent',
      async () => {
        const rows = await a.running.services.store.db.selectFrom('sms_messages').select('status').where('status', '!=', 'sent').execute();
        return rows.length === 0;
      },
      30_000,
    );
    const attempts = await a.running.services.store.db
      .selectFrom('sms_message_attempts')
      .select(['message_id', 'worker', 'outcome'])
      .execute();
    expect(attempts.filter((x) => x.outcome !== 'accepted')).toEqual([]);
    for (const number of to) expect(twilio.messagesTo(number), number).toHaveLength(1);
    expect(attempts).toHaveLength(120);
    expect(new Set(attempts.map((x) => x.message_id)).size).toBe(120);
    // Both took part.
    const workers = new Set(attempts.map((x) => x.worker));
    expect(workers.size).toBe(2);
    expect(workers).toContain(a.running.services.dispatcher.worker);
    expect((await read.history(ids[0]!)).map((r) => r.status)).toEqual(['sent']);
  });

  it('takes over a dead worker’s message when its lease ends, and not before', async () => {
    const { twilio, start } = await setup();
    const server = await start({ AUTHN_SMS_DISPATCHER: 'off' });
    const { sms, store } = server.running.services;
    const [expired, live] = await Promise.all(recipients(2).map((to) => sms.send({ template: 'password_changed', to, variables: {} })));
    const now = Date.now();
    // What a worker leaves behind when it dies mid-send: the rows are `sending`, leased to it.
    const claimed = { status: 'sending' as const, lease_owner: 'dead-host:4242:abcdef', attempts: 1, updated_at: now - 30_000 };
    await store.db
      .updateTable('sms_messages')
      .set({ ...claimed, lease_expires_at: now - 1, next_attempt_at: now - 1 })
      .where('id', '=', expired!.id)
      .execute();
    await store.db
      .updateTable('sms_messages')
      .set({ ...claimed, lease_expires_at: now + 600_000, next_attempt_at: now + 600_000 })
      .where('id', '=', live!.id)
      .execute();

    server.running.services.dispatcher.start();
    const read = storeReader(server);
    const sent = await read.waitForStatus(expired!.id, 'sent');
    expect(sent.attempts).toBe(2);
    expect((await read.attempts(expired!.id)).map((a) => [a.attempt, a.outcome, a.worker])).toEqual([
      [1, 'lease_expired', 'dead-host:4242:abcdef'],
      [2, 'accepted', server.running.services.dispatcher.worker],
    ]);
    expect(await read.message(live!.id)).toMatchObject({ status: 'sending', lease_owner: 'dead-host:4242:abcdef' });
    expect(twilio.requests).toHaveLength(1);
  });

  it('on stop, lets in-flight sends finish and records them', async () => {
    const { twilio, start } = await setup();
    const server = await start({ AUTHN_CARRIER_TIMEOUT_MS: '5000', AUTHN_SMS_LEASE_MS: '10000' });
    for (let i = 0; i < 4; i++) twilio.fail({ kind: 'late', ms: 400 });
    const ids = await Promise.all(
      recipients(4).map(async (to) => (await server.running.services.sms.send({ template: 'password_changed', to, variables: {} })).id),
    );
    await eventually('four messages at the carrier', () => twilio.messages.size === 4);
    await server.close();

    const after = await start({ AUTHN_SMS_DISPATCHER: 'off' });
    const read = storeReader(after);
    for (const id of ids) expect(await read.message(id)).toMatchObject({ status: 'sent', lease_owner: null, attempts: 1 });
  });

  it('on stop, releases sends that outlast the grace period; the next start sends them', async () => {
    const { twilio, start } = await setup();
    const server = await start({ AUTHN_SMS_SHUTDOWN_GRACE_MS: '0', AUTHN_CARRIER_TIMEOUT_MS: '5000', AUTHN_SMS_LEASE_MS: '600000' });
    for (let i = 0; i < 3; i++) twilio.fail({ kind: 'hang' });
    const ids = await Promise.all(
      recipients(3).map(async (to) => (await server.running.services.sms.send({ template: 'password_changed', to, variables: {} })).id),
    );
    await eventually('three requests hanging at the carrier', () => twilio.requests.length === 3);
    await server.close();

    const again = await start();
    const read = storeReader(again);
    for (const id of ids) {
      await read.waitForStatus(id, 'sent');
      expect((await read.attempts(id)).map((a) => [a.outcome, a.error_code])).toEqual([
        ['released', 'aborted'],
        ['accepted', null],
      ]);
    }
  });
});
