/**
 * When a new code may be sent and how long a code works: the resend cooldown counts from the last code sent for
 * a purpose and number whatever became of its challenge; after wrong codes the next code waits longer each time
 * (abuse.wrong_code_backoff), kept in the store so every process enforces it; a right code starts the wait
 * again from the first step; abuse.code_lifetime_minutes sets `expire_at` and `{{expires_in_minutes}}`.
 */
import type { LightMyRequestResponse } from 'fastify';
import { beforeEach, describe, expect, it } from 'vitest';
import { STORES, startTestServer, type TestServer } from '../helpers/server.js';
import { Fapi, expectError, numbers, patchSettings, snapshot, useAuthServer } from '../auth/helpers.js';
import { ManualClock } from '../helpers/clock.js';

describe.each(STORES)('resend waits and code lifetime on %s', (kind) => {
  let server!: TestServer;
  let fapi!: Fapi;
  const clock = new ManualClock();
  const nextNumber = numbers(500);

  useAuthServer(
    kind,
    (s, f) => {
      server = s;
      fapi = f;
    },
    { clock },
  );
  beforeEach(async () => {
    await patchSettings(server, {
      abuse: {
        attempts_per_challenge: null,
        wrong_code_backoff: null,
        code_lifetime_minutes: null,
        sends_per_phone_number: { max: 1_000 },
      },
    });
  });

  const prepare = (id: string, via = fapi) =>
    via.call('POST', `/v1/client/sign_ups/${id}/prepare_verification`, { strategy: 'phone_code' });
  const attempt = (id: string, code: string) =>
    fapi.call('POST', `/v1/client/sign_ups/${id}/attempt_verification`, { strategy: 'phone_code', code });

  async function signUpPrepared(phone = nextNumber()): Promise<{ id: string; phone: string; code: string }> {
    const { id } = await fapi.signUp(phone);
    const res = await prepare(id);
    expect(res.statusCode, res.body).toBe(200);
    return { id, phone, code: await fapi.lastCode(phone) };
  }

  /** Spends every attempt of the flow's challenge on wrong codes. */
  async function fail(id: string, code: string, attempts = 5): Promise<void> {
    for (let i = 1; i < attempts; i++) expectError(await attempt(id, Fapi.wrong(code)), 422, 'form_code_incorrect');
    expectError(await attempt(id, Fapi.wrong(code)), 422, 'verification_failed');
  }

  /** A refused code request: status, code, Retry-After and `meta.next_code_at` agree, and nothing was sent or stored. */
  async function expectWait(
    request: () => Promise<LightMyRequestResponse>,
    code: string,
    seconds: { min: number; max: number },
  ): Promise<number> {
    const before = await snapshot(server);
    const res = await request();
    expectError(res, 429, code);
    const retryAfter = Number(res.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(seconds.min);
    expect(retryAfter).toBeLessThanOrEqual(seconds.max);
    const nextCodeAt = res.json().errors[0].meta.next_code_at;
    expect(Math.ceil((nextCodeAt - clock.now()) / 1000)).toBe(retryAfter);
    expect(await snapshot(server)).toEqual(before);
    return nextCodeAt;
  }

  it('keeps the cooldown after a failed challenge: no fresh code (and five fresh guesses) in the same second', async () => {
    await patchSettings(server, { abuse: { wrong_code_backoff: { initial_seconds: 0 } } });
    const { id, code } = await signUpPrepared();
    clock.advance(5_000);
    await fail(id, code);
    await expectWait(() => prepare(id), 'phone_code_resend_cooldown', { min: 25, max: 25 });
    clock.advance(25_000);
    expect((await prepare(id)).statusCode).toBe(200);
  });

  it('keeps the cooldown after a verified challenge: it counts from the last code sent, whatever became of it', async () => {
    const phone = nextNumber();
    await fapi.signedUpUser(phone);
    const signIn = (await fapi.call('POST', '/v1/client/sign_ins', { identifier: phone })).json().id;
    const prepareSignIn = () => fapi.call('POST', `/v1/client/sign_ins/${signIn}/prepare_first_factor`, { strategy: 'phone_code' });
    expect((await prepareSignIn()).statusCode).toBe(200);
    expect(
      (
        await fapi.call('POST', `/v1/client/sign_ins/${signIn}/attempt_first_factor`, {
          strategy: 'phone_code',
          code: await fapi.lastCode(phone),
        })
      ).statusCode,
    ).toBe(200);
    const again = (await fapi.call('POST', '/v1/client/sign_ins', { identifier: phone })).json().id;
    await expectWait(
      () => fapi.call('POST', `/v1/client/sign_ins/${again}/prepare_first_factor`, { strategy: 'phone_code' }),
      'phone_code_resend_cooldown',
      { min: 30, max: 30 },
    );
  });

  it('doubles the wait after each failed challenge, up to the maximum, with jitter; the wait shows as next_resend_at', async () => {
    await patchSettings(server, { abuse: { wrong_code_backoff: { initial_seconds: 60, max_seconds: 200 } } });
    const { id, code } = await signUpPrepared();
    await fail(id, code);
    // 60 s, 120 s, 200 s (240 capped), 200 s: each up to a fifth shorter.
    for (const full of [60, 120, 200, 200]) {
      const nextCodeAt = await expectWait(() => prepare(id), 'phone_code_failure_backoff', { min: Math.floor(full * 0.8), max: full });
      const shown = (await fapi.call('GET', `/v1/client/sign_ups/${id}`)).json().verifications.phone_number;
      expect(shown).toMatchObject({ status: 'failed', next_resend_at: nextCodeAt });
      clock.advance(nextCodeAt - clock.now() - 1_000);
      expectError(await prepare(id), 429, 'phone_code_failure_backoff');
      clock.advance(1_000);
      expect((await prepare(id)).statusCode).toBe(200);
      await fail(id, await fapi.lastCode((await fapi.call('GET', `/v1/client/sign_ups/${id}`)).json().phone_number));
    }
  });

  it('counts a challenge abandoned after a wrong code like a failed one: asking for a new code does not skip the wait', async () => {
    const { id, code } = await signUpPrepared();
    clock.advance(10_000);
    expectError(await attempt(id, Fapi.wrong(code)), 422, 'form_code_incorrect');
    clock.advance(30_000);
    // The wait (48–60 s) counts from the wrong code, 30 s ago.
    await expectWait(() => prepare(id), 'phone_code_failure_backoff', { min: 18, max: 30 });
    clock.advance(30_000);
    expect((await prepare(id)).statusCode).toBe(200);
    // That challenge ended on a wrong code too: the next one to fail waits the second step.
    await fail(id, await fapi.lastCode((await fapi.call('GET', `/v1/client/sign_ups/${id}`)).json().phone_number));
    await expectWait(() => prepare(id), 'phone_code_failure_backoff', { min: 96, max: 120 });
  });

  it('starts the wait again from the first step after a right code', async () => {
    const phone = nextNumber();
    await fapi.signedUpUser(phone);
    clock.advance(30_000);
    const signIn = async () => {
      const id = (await fapi.call('POST', '/v1/client/sign_ins', { identifier: phone })).json().id as string;
      const prepareIt = () => fapi.call('POST', `/v1/client/sign_ins/${id}/prepare_first_factor`, { strategy: 'phone_code' });
      const attemptIt = (code: string) =>
        fapi.call('POST', `/v1/client/sign_ins/${id}/attempt_first_factor`, { strategy: 'phone_code', code });
      return { prepareIt, attemptIt };
    };
    const failSignIn = async (flow: Awaited<ReturnType<typeof signIn>>) => {
      expect((await flow.prepareIt()).statusCode).toBe(200);
      const code = await fapi.lastCode(phone);
      for (let i = 1; i < 5; i++) expectError(await flow.attemptIt(Fapi.wrong(code)), 422, 'form_code_incorrect');
      expectError(await flow.attemptIt(Fapi.wrong(code)), 422, 'verification_failed');
    };

    const first = await signIn();
    await failSignIn(first);
    clock.advance((await expectWait(first.prepareIt, 'phone_code_failure_backoff', { min: 48, max: 60 })) - clock.now());
    await failSignIn(first);
    clock.advance((await expectWait(first.prepareIt, 'phone_code_failure_backoff', { min: 96, max: 120 })) - clock.now());
    expect((await first.prepareIt()).statusCode).toBe(200);
    expect((await first.attemptIt(await fapi.lastCode(phone))).statusCode).toBe(200);

    clock.advance(30_000);
    const second = await signIn();
    await failSignIn(second);
    await expectWait(second.prepareIt, 'phone_code_failure_backoff', { min: 48, max: 60 });
  });

  it('ends the wait with a right code: a code after a mistyped one leaves only the cooldown', async () => {
    const phone = nextNumber();
    await fapi.signedUpUser(phone);
    const id = (await fapi.call('POST', '/v1/client/sign_ins', { identifier: phone })).json().id;
    expect((await fapi.call('POST', `/v1/client/sign_ins/${id}/prepare_first_factor`, { strategy: 'phone_code' })).statusCode).toBe(200);
    const code = await fapi.lastCode(phone);
    clock.advance(20_000);
    expectError(
      await fapi.call('POST', `/v1/client/sign_ins/${id}/attempt_first_factor`, { strategy: 'phone_code', code: Fapi.wrong(code) }),
      422,
      'form_code_incorrect',
    );
    expect((await fapi.call('POST', `/v1/client/sign_ins/${id}/attempt_first_factor`, { strategy: 'phone_code', code })).statusCode).toBe(
      200,
    );
    const again = (await fapi.call('POST', '/v1/client/sign_ins', { identifier: phone })).json().id;
    await expectWait(
      () => fapi.call('POST', `/v1/client/sign_ins/${again}/prepare_first_factor`, { strategy: 'phone_code' }),
      'phone_code_resend_cooldown',
      { min: 10, max: 10 },
    );
    clock.advance(10_000);
    expect((await fapi.call('POST', `/v1/client/sign_ins/${again}/prepare_first_factor`, { strategy: 'phone_code' })).statusCode).toBe(200);
  });

  it('keeps the wait in the store: another server process on the same store refuses too', async () => {
    const { id, code } = await signUpPrepared();
    await fail(id, code);
    const nextCodeAt = await expectWait(() => prepare(id), 'phone_code_failure_backoff', { min: 48, max: 60 });
    const other = await startTestServer(server.store, { clock });
    try {
      const otherFapi = new Fapi(other);
      otherFapi.token = fapi.token;
      const refused = await prepare(id, otherFapi);
      expectError(refused, 429, 'phone_code_failure_backoff');
      expect(refused.json().errors[0].meta.next_code_at).toBe(nextCodeAt);
    } finally {
      await other.close();
    }
  });

  it('lets a wait of 0 switch the backoff off, leaving the plain cooldown', async () => {
    await patchSettings(server, { abuse: { wrong_code_backoff: { initial_seconds: 0, max_seconds: 0 } } });
    const { id, code } = await signUpPrepared();
    await fail(id, code);
    clock.advance(30_000);
    expect((await prepare(id)).statusCode).toBe(200);
  });

  it('takes the code lifetime from abuse.code_lifetime_minutes: expire_at, the SMS text and the expiry itself', async () => {
    await patchSettings(server, { abuse: { code_lifetime_minutes: 2 } });
    const { id, phone, code } = await signUpPrepared();
    const shown = (await fapi.call('GET', `/v1/client/sign_ups/${id}`)).json().verifications.phone_number;
    expect(shown.expire_at).toBe(clock.now() + 120_000);
    const sms = await server.running.services.store.db
      .selectFrom('sms_messages')
      .select(['body', 'expires_at'])
      .where('to_number', '=', phone)
      .executeTakeFirstOrThrow();
    expect(sms.body).toContain('It expires in 2 minutes.');
    expect(Number(sms.expires_at)).toBe(clock.now() + 120_000);
    clock.advance(120_000);
    expectError(await attempt(id, code), 422, 'verification_expired');
  });
});
