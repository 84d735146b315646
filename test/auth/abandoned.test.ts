/**
 * Abandoned flows: a sign-up or sign-in not completed within 24 hours refuses every further step (reads still
 * work), and housekeeping deletes it a week later. Completed flows are kept.
 */
import { describe, expect, it } from 'vitest';
import { STORES, type TestServer } from '../helpers/server.js';
import { type Fapi, useAuthServer, expectError, numbers, snapshot } from './helpers.js';
import { ManualClock } from '../helpers/clock.js';

const HOUR = 3_600_000;

describe.each(STORES)('abandoned sign-ups and sign-ins on %s', (kind) => {
  let server!: TestServer;
  let fapi!: Fapi;
  const clock = new ManualClock();
  const nextNumber = numbers(900);
  const countRows = async (table: 'sign_ups' | 'sign_ins', complete: boolean) => {
    const { db } = server.running.services.store;
    const row = await db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', complete ? '=' : '!=', 'complete')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  };

  useAuthServer(
    kind,
    (s, f) => {
      server = s;
      fapi = f;
    },
    { clock },
  );

  it('refuses every step 24 hours after the start, changes nothing, and is deleted a week later', async () => {
    const user = nextNumber();
    await fapi.signedUpUser(user);
    const { id: signUpId, res } = await fapi.signUp(nextNumber());
    expect(res.json().abandon_at).toBe(res.json().created_at + 24 * HOUR);
    const signIn = (await fapi.call('POST', '/v1/client/sign_ins', { identifier: user })).json();
    expect(signIn.abandon_at).toBe(signIn.created_at + 24 * HOUR);

    // A millisecond before: steps still work.
    clock.advance(24 * HOUR - 1);
    expect((await fapi.call('POST', `/v1/client/sign_ins/${signIn.id}/prepare_first_factor`, { strategy: 'phone_code' })).statusCode).toBe(
      200,
    );
    const code = await fapi.lastCode(user);

    // At abandon_at: refused, and nothing is written or sent.
    clock.advance(1);
    const before = await snapshot(server);
    expectError(
      await fapi.call('POST', `/v1/client/sign_ups/${signUpId}/prepare_verification`, { strategy: 'phone_code' }),
      422,
      'flow_abandoned',
    );
    expectError(
      await fapi.call('POST', `/v1/client/sign_ins/${signIn.id}/attempt_first_factor`, { strategy: 'phone_code', code }),
      422,
      'flow_abandoned',
    );
    expect(await snapshot(server)).toEqual(before);
    // Reads still answer.
    expect((await fapi.call('GET', `/v1/client/sign_ups/${signUpId}`)).json()).toMatchObject({ status: 'missing_requirements' });
    expect((await fapi.call('GET', `/v1/client/sign_ins/${signIn.id}`)).json()).toMatchObject({ status: 'needs_first_factor' });

    // Housekeeping keeps them for a week after that, then deletes them; completed flows stay.
    const { housekeeping } = server.running.services;
    const completed = { sign_ups: await countRows('sign_ups', true), sign_ins: await countRows('sign_ins', true) };
    expect(await housekeeping.sweep()).toEqual({ sign_ups: 0, sign_ins: 0 });
    clock.advance(7 * 24 * HOUR);
    const deleted = await housekeeping.sweep();
    expect(deleted.sign_ups).toBeGreaterThanOrEqual(1);
    expect(deleted.sign_ins).toBeGreaterThanOrEqual(1);
    expectError(await fapi.call('GET', `/v1/client/sign_ups/${signUpId}`), 404, 'resource_not_found');
    expectError(await fapi.call('GET', `/v1/client/sign_ins/${signIn.id}`), 404, 'resource_not_found');
    expect({ sign_ups: await countRows('sign_ups', true), sign_ins: await countRows('sign_ins', true) }).toEqual(completed);
    expect(await countRows('sign_ups', false)).toBe(0);
    // A later run has nothing left to do.
    expect(await housekeeping.sweep()).toEqual({ sign_ups: 0, sign_ins: 0 });
  });
});
