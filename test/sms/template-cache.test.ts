/**
 * The send path keeps the templates it read for a second (as it keeps the instance settings): a change made
 * through this server is used by the very next send, one made through another server process on the same store
 * within that second.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORES, createTestStore, startTestServer, type TestServer, type TestStore } from '../helpers/server.js';
import { ManualClock } from '../helpers/clock.js';

describe.each(STORES)('templates read by sends on %s', (kind) => {
  let store: TestStore;
  let sender: TestServer;
  let other: TestServer;
  const clock = new ManualClock();

  beforeAll(async () => {
    store = await createTestStore(kind);
    sender = await startTestServer(store, { clock });
    other = await startTestServer(store);
  });
  afterAll(async () => {
    await other?.close();
    await sender?.close();
    await store?.cleanup();
  });

  const send = async (server: TestServer) => {
    const { id } = await server.running.services.sms.send({
      template: 'verification_code',
      to: '+14155550123',
      variables: { code: '654321', expires_in_minutes: '10' },
    });
    const row = await server.running.services.store.db
      .selectFrom('sms_messages')
      .select('body')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    return row.body;
  };
  const patch = async (server: TestServer, body: string) =>
    expect((await server.bapi('PATCH', '/v1/templates/sms/verification_code', { body })).statusCode).toBe(200);
  const DEFAULT = '654321 is your authn.sh verification code. It expires in 10 minutes.';

  it('a change through this server reaches the next send at once', async () => {
    expect(await send(sender)).toBe(DEFAULT);
    await patch(sender, 'First {{code}}');
    expect(await send(sender)).toBe('First 654321');
    expect((await sender.bapi('POST', '/v1/templates/sms/verification_code/revert')).statusCode).toBe(200);
    expect(await send(sender)).toBe(DEFAULT);
  });

  it('a change through another server process reaches sends within a second', async () => {
    clock.advance(5_000);
    expect(await send(sender)).toBe(DEFAULT);
    await patch(other, 'Second {{code}}');
    clock.advance(999);
    expect(await send(sender)).toBe(DEFAULT);
    clock.advance(1);
    expect(await send(sender)).toBe('Second 654321');
    // The other server read nothing before its change: it sends the new body straight away.
    expect(await send(other)).toBe('Second 654321');
  });
});
