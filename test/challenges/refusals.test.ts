/**
 * A refusal that records itself commits what it records (src/refusal.ts): a wrong code's attempt stays counted
 * after the 422, and so does the challenge that failed with it. Were the refusal thrown inside its transaction
 * instead of returned, both would roll back and a guess would cost nothing.
 */
import { describe, expect, it } from 'vitest';
import type { AppError } from '../../src/errors.js';
import { appError } from '../../src/errors.js';
import { Refusal } from '../../src/refusal.js';
import type { Transactions } from '../../src/store/group-commit.js';
import { STORES, type TestServer } from '../helpers/server.js';
import { Fapi, useAuthServer, expectError, numbers, patchSettings } from '../auth/helpers.js';

describe.each(STORES)('refusals that record themselves, on %s', (kind) => {
  let server!: TestServer;
  let fapi!: Fapi;
  const nextNumber = numbers(700);

  useAuthServer(kind, (s, f) => {
    server = s;
    fapi = f;
  });

  const attempt = (id: string, code: string) =>
    fapi.call('POST', `/v1/client/sign_ups/${id}/attempt_verification`, { strategy: 'phone_code', code });
  const challengeOf = async (id: string) => {
    const { db } = server.running.services.store;
    const signUp = await db.selectFrom('sign_ups').select('challenge_id').where('id', '=', id).executeTakeFirstOrThrow();
    return db.selectFrom('challenges').select(['attempts', 'status']).where('id', '=', signUp.challenge_id!).executeTakeFirstOrThrow();
  };

  it('keeps a wrong code counted after its 422, and the failed challenge failed after the last one', async () => {
    await patchSettings(server, { abuse: { attempts_per_challenge: 2 } });
    const phone = nextNumber();
    const { id } = await fapi.signUp(phone);
    expect((await fapi.call('POST', `/v1/client/sign_ups/${id}/prepare_verification`, { strategy: 'phone_code' })).statusCode).toBe(200);
    const wrong = Fapi.wrong(await fapi.lastCode(phone));

    const first = await attempt(id, wrong);
    expectError(first, 422, 'form_code_incorrect');
    expect(first.json().errors[0].meta).toEqual({ param_name: 'code', attempts_remaining: 1 });
    expect(await challengeOf(id)).toEqual({ attempts: 1, status: 'pending' });

    expectError(await attempt(id, wrong), 422, 'verification_failed');
    expect(await challengeOf(id)).toEqual({ attempts: 2, status: 'failed' });
  });
});

describe('the refusal type', () => {
  it('is not an Error, and its error cannot be read or thrown but through a committed transaction', () => {
    const refusal = Refusal.of('form_code_incorrect', { paramName: 'code' });
    expect(refusal).not.toBeInstanceOf(Error);
    expect(() => Refusal.settle(refusal)).toThrow(expect.objectContaining({ code: 'form_code_incorrect', status: 422 }));
    expect(Refusal.settle('value')).toBe('value');
  });

  // Checked by `tsc` (npm test runs it first): each wrong form below must stay a compile error.
  it('makes the wrong forms compile errors', () => {
    const wrongForms = (transactions: Transactions, error: AppError) => [
      // @ts-expect-error A transaction returns a Refusal, never an Error: `run` would otherwise not know to commit it.
      transactions.run(async () => appError('form_code_incorrect')),
      // @ts-expect-error Nor an Error among its results.
      transactions.run(async () => (Math.random() > 1 ? error : 'done')),
      // @ts-expect-error A refusal is made with Refusal.of or Refusal.from.
      new Refusal(error),
      // @ts-expect-error The error inside a refusal is private: it cannot be thrown before the commit.
      Refusal.of('form_code_incorrect').error,
    ];
    expect(wrongForms).toBeTypeOf('function');
  });
});
