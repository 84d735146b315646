/**
 * Challenges through the sign-up flow: the code at rest, expiry, attempts, the resend cooldown, one live
 * challenge per purpose and number. Every refusal is checked for its status, code and that it changed nothing
 * (and sent nothing).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { STORES, type TestServer } from '../helpers/server.js';
import { Fapi, useAuthServer, eventTypes, expectError, numbers, patchSettings, snapshot } from '../auth/helpers.js';
import { ManualClock } from '../helpers/clock.js';

describe.each(STORES)('challenges on %s', (kind) => {
  let server!: TestServer;
  let fapi!: Fapi;
  const clock = new ManualClock();
  const nextNumber = numbers();

  useAuthServer(
    kind,
    (s, f) => {
      server = s;
      fapi = f;
    },
    { clock },
  );
  beforeEach(async () => {
    await patchSettings(server, { abuse: { attempts_per_challenge: null } });
  });

  const prepare = (id: string) => fapi.call('POST', `/v1/client/sign_ups/${id}/prepare_verification`, { strategy: 'phone_code' });
  const attempt = (id: string, code: string) =>
    fapi.call('POST', `/v1/client/sign_ups/${id}/attempt_verification`, { strategy: 'phone_code', code });
  const challengeOf = async (id: string) => {
    const { db } = server.running.services.store;
    const signUp = await db.selectFrom('sign_ups').select('challenge_id').where('id', '=', id).executeTakeFirstOrThrow();
    return db.selectFrom('challenges').selectAll().where('id', '=', signUp.challenge_id!).executeTakeFirstOrThrow();
  };

  async function prepared(phone = nextNumber()): Promise<{ id: string; phone: string; code: string }> {
    const { id } = await fapi.signUp(phone);
    const res = await prepare(id);
    expect(res.statusCode, res.body).toBe(200);
    return { id, phone, code: await fapi.lastCode(phone) };
  }

  it('sends a 6-digit code and keeps only its keyed hash', async () => {
    const { id, code } = await prepared();
    expect(code).toMatch(/^\d{6}$/);
    const challenge = await challengeOf(id);
    expect(challenge).toMatchObject({
      purpose: 'sign_up',
      status: 'pending',
      attempts: 0,
      max_attempts: 5,
      expires_at: clock.now() + 600_000,
      resend_at: clock.now() + 30_000,
    });
    expect(challenge.code_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(challenge)).not.toContain(code);
    // The message log holds the SMS as sent, and under the null driver its drop's audit entry echoes it (development
    // only, as the seed says); nothing else does.
    const { db } = server.running.services.store;
    const audits = await db.selectFrom('audit_logs').select(['action', 'data']).execute();
    const elsewhere = [...(await db.selectFrom('events').select('data').execute()), ...audits.filter((a) => a.action !== 'sms.dropped')];
    expect(elsewhere.some((r) => r.data.includes(code))).toBe(false);
    expect(audits.filter((a) => a.action === 'sms.dropped' && a.data.includes(code))).toHaveLength(1);
    expect(await eventTypes(server)).toContain('challenge.created');
  });

  it('accepts the right code once', async () => {
    const { id, code } = await prepared();
    const res = await attempt(id, code);
    expect(res.statusCode).toBe(200);
    expect(res.json().verifications.phone_number).toMatchObject({ status: 'verified', attempts: 1 });
    expectError(await attempt(id, code), 422, 'flow_step_invalid');
  });

  it('refuses an expired code, and counts nothing', async () => {
    const { id, code } = await prepared();
    clock.advance(600_000);
    const before = await snapshot(server);
    const res = await attempt(id, code);
    expectError(res, 422, 'verification_expired');
    expect(await snapshot(server)).toEqual(before);
    expect((await challengeOf(id)).attempts).toBe(0);
    expect((await fapi.call('GET', `/v1/client/sign_ups/${id}`)).json().verifications.phone_number.status).toBe('expired');
  });

  it('counts every attempt; the fifth wrong code fails the challenge, and then even the right one is refused', async () => {
    const { id, code } = await prepared();
    const wrong = Fapi.wrong(code);
    for (let left = 4; left >= 1; left--) {
      const res = await attempt(id, wrong);
      expectError(res, 422, 'form_code_incorrect');
      expect(res.json().errors[0].meta).toEqual({ param_name: 'code', attempts_remaining: left });
    }
    expectError(await attempt(id, wrong), 422, 'verification_failed');
    expect(await challengeOf(id)).toMatchObject({ status: 'failed', attempts: 5 });
    const before = await snapshot(server);
    expectError(await attempt(id, code), 422, 'verification_failed');
    expect(await snapshot(server)).toEqual(before);
    expect((await challengeOf(id)).attempts).toBe(5);
    expect(await eventTypes(server)).toContain('challenge.failed');
  });

  it('takes its attempt count from abuse.attempts_per_challenge', async () => {
    await patchSettings(server, { abuse: { attempts_per_challenge: 2 } });
    const { id, code } = await prepared();
    expectError(await attempt(id, Fapi.wrong(code)), 422, 'form_code_incorrect');
    expectError(await attempt(id, Fapi.wrong(code)), 422, 'verification_failed');
  });

  it('refuses a malformed code without counting it: not an attempt on the challenge, nor one against attempts_per_ip', async () => {
    const { id, code } = await prepared();
    // An address of its own, allowed a single answer.
    const ip = '198.51.100.23';
    await patchSettings(server, { abuse: { attempts_per_ip: { max: 1 } } });
    try {
      for (const malformed of ['12345', '1234567', '12a456']) {
        const before = await snapshot(server);
        const res = await fapi.call(
          'POST',
          `/v1/client/sign_ups/${id}/attempt_verification`,
          { strategy: 'phone_code', code: malformed },
          { ip },
        );
        expectError(res, 422, 'form_param_format_invalid');
        expect(res.json().errors[0].meta.param_name).toBe('code');
        expect(await snapshot(server)).toEqual(before);
      }
      expect((await challengeOf(id)).attempts).toBe(0);
      // The address's one answer was not spent: the right code goes through.
      const res = await fapi.call('POST', `/v1/client/sign_ups/${id}/attempt_verification`, { strategy: 'phone_code', code }, { ip });
      expect(res.statusCode, res.body).toBe(200);
    } finally {
      await patchSettings(server, { abuse: { attempts_per_ip: { max: 1_000 } } });
    }
  });

  it('refuses a resend within 30 s with Retry-After, sending nothing; after it, the new code replaces the old', async () => {
    const { id, code: first } = await prepared();
    clock.advance(10_000);
    const before = await snapshot(server);
    const refused = await prepare(id);
    expectError(refused, 429, 'phone_code_resend_cooldown');
    expect(refused.headers['retry-after']).toBe('20');
    expect(await snapshot(server)).toEqual(before);

    clock.advance(20_000);
    expect((await prepare(id)).statusCode).toBe(200);
    const second = await fapi.lastCode((await fapi.call('GET', `/v1/client/sign_ups/${id}`)).json().phone_number);
    if (first !== second) expectError(await attempt(id, first), 422, 'form_code_incorrect');
    expect((await attempt(id, second)).statusCode).toBe(200);
  });

  it("keeps one live challenge per purpose and number: a second sign-up of the number replaces the first one's code", async () => {
    const phone = nextNumber();
    const a = await prepared(phone);
    const other = await new Fapi(server).start();
    const b = (await other.signUp(phone)).id;
    const prepareB = () => other.call('POST', `/v1/client/sign_ups/${b}/prepare_verification`, { strategy: 'phone_code' });
    expectError(await prepareB(), 429, 'phone_code_resend_cooldown');
    clock.advance(30_000);
    expect((await prepareB()).statusCode).toBe(200);
    const res = await attempt(a.id, a.code);
    expectError(res, 422, 'verification_expired');
    expect(res.json().errors[0].long_message).toContain('newer code');
    const { db } = server.running.services.store;
    const live = await db.selectFrom('challenges').select('id').where('phone_number', '=', phone).where('status', '=', 'pending').execute();
    expect(live).toHaveLength(1);
  });

  it('a right code arriving twice at once succeeds once', async () => {
    const { id, code } = await prepared();
    const results = await Promise.all([attempt(id, code), attempt(id, code)]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 422]);
    const users = await server.running.services.store.db
      .selectFrom('phone_numbers')
      .select('id')
      .where('phone_number', '=', (await challengeOf(id)).phone_number)
      .execute();
    expect(users).toHaveLength(1);
  });

  it('an attempt before any code is refused', async () => {
    const { id } = await fapi.signUp(nextNumber());
    expectError(await attempt(id, '123456'), 422, 'verification_not_prepared');
  });
});
