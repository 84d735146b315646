/** Sign-in by phone code, by password, and by password then the phone second factor; the password lockout. */
import { describe, expect, it } from 'vitest';
import { STORES, rowCount, type TestServer } from '../helpers/server.js';
import { Fapi, useAuthServer, auditActions, eventTypes, expectError, numbers, patchSettings, snapshot } from './helpers.js';

describe.each(STORES)('sign-in on %s', (kind) => {
  let server!: TestServer;
  let fapi!: Fapi;
  const nextNumber = numbers();

  useAuthServer(kind, async (s, f) => {
    server = s;
    fapi = f;
    await patchSettings(server, { abuse: { password_lockout: { max_failures: 3 } } });
  });

  const signIn = (body: Record<string, unknown>) => fapi.call('POST', '/v1/client/sign_ins', body);
  const step = (id: string, action: string, body: Record<string, unknown>) =>
    fapi.call('POST', `/v1/client/sign_ins/${id}/${action}`, body);

  /** A user with a password and a second phone number enrolled as second factor. */
  async function userWithSecondFactor(): Promise<{ phone: string; mfaPhone: string; userId: string }> {
    const phone = nextNumber();
    const mfaPhone = nextNumber();
    const { userId, jwt } = await fapi.signedUpUser(phone, { password: 'correct horse battery' });
    const auth = { auth: jwt };
    const started = (await fapi.call('POST', '/v1/me/mfa/phone_numbers', { phone_number: mfaPhone }, auth)).json();
    await fapi.call('POST', `/v1/me/mfa/phone_numbers/${started.id}/prepare_verification`, { strategy: 'phone_code' }, auth);
    const enrolled = await fapi.call(
      'POST',
      `/v1/me/mfa/phone_numbers/${started.id}/attempt_verification`,
      { strategy: 'phone_code', code: await fapi.lastCode(mfaPhone) },
      auth,
    );
    expect(enrolled.json().reserved_for_second_factor).toBe(true);
    return { phone, mfaPhone, userId };
  }

  it('by phone code: needs_first_factor → code → complete with a session', async () => {
    const phone = nextNumber();
    const { userId } = await fapi.signedUpUser(phone);
    const created = await signIn({ identifier: phone });
    expect(created.statusCode).toBe(201);
    const signInView = created.json();
    expect(signInView).toMatchObject({
      object: 'sign_in',
      status: 'needs_first_factor',
      identifier: phone,
      supported_first_factors: [{ strategy: 'phone_code', safe_identifier: expect.stringMatching(/^\+1•+\d{4}$/) }],
      first_factor_verification: null,
    });
    expect((await step(signInView.id, 'prepare_first_factor', { strategy: 'phone_code' })).json().first_factor_verification).toMatchObject({
      status: 'unverified',
    });
    const done = await step(signInView.id, 'attempt_first_factor', { strategy: 'phone_code', code: await fapi.lastCode(phone) });
    expect(done.json()).toMatchObject({ status: 'complete', session: { user_id: userId, status: 'active' } });
    const user = (await server.bapi('GET', `/v1/users/${userId}`)).json();
    expect(user.last_sign_in_at).toEqual(expect.any(Number));
  });

  it('by password alone when no second factor is enrolled (the password may come with the identifier)', async () => {
    const phone = nextNumber();
    await fapi.signedUpUser(phone, { password: 'correct horse battery' });
    const created = await signIn({ identifier: phone, password: 'correct horse battery' });
    expect(created.json()).toMatchObject({
      status: 'complete',
      first_factor_verification: { status: 'verified', strategy: 'password' },
      session: { status: 'active' },
    });
    const separate = (await signIn({ identifier: phone })).json();
    expect(separate.supported_first_factors.map((f: { strategy: string }) => f.strategy)).toEqual(['phone_code', 'password']);
    expect(
      (await step(separate.id, 'attempt_first_factor', { strategy: 'password', password: 'correct horse battery' })).json().status,
    ).toBe('complete');
  });

  it('by password, then a code to the enrolled second factor', async () => {
    const { phone, mfaPhone, userId } = await userWithSecondFactor();
    const first = (await signIn({ identifier: phone, password: 'correct horse battery' })).json();
    expect(first).toMatchObject({
      status: 'needs_second_factor',
      created_session_id: null,
      supported_second_factors: [{ strategy: 'phone_code', safe_identifier: expect.stringContaining(mfaPhone.slice(-4)) }],
    });
    expect(first.session).toBeUndefined();
    expectError(
      await step(first.id, 'attempt_second_factor', { strategy: 'phone_code', code: '123456' }),
      422,
      'verification_not_prepared',
    );
    await step(first.id, 'prepare_second_factor', { strategy: 'phone_code' });
    const code = await fapi.lastCode(mfaPhone);
    expectError(
      await step(first.id, 'attempt_second_factor', { strategy: 'phone_code', code: Fapi.wrong(code) }),
      422,
      'form_code_incorrect',
    );
    const done = await step(first.id, 'attempt_second_factor', { strategy: 'phone_code', code });
    expect(done.json()).toMatchObject({
      status: 'complete',
      second_factor_verification: { status: 'verified' },
      session: { user_id: userId },
    });
  });

  it('a phone code as first factor needs no second step', async () => {
    const { phone } = await userWithSecondFactor();
    const created = (await signIn({ identifier: phone })).json();
    await step(created.id, 'prepare_first_factor', { strategy: 'phone_code' });
    expect(
      (await step(created.id, 'attempt_first_factor', { strategy: 'phone_code', code: await fapi.lastCode(phone) })).json().status,
    ).toBe('complete');
  });

  it('refuses steps out of order and strategies that do not apply', async () => {
    const phone = nextNumber();
    await fapi.signedUpUser(phone);
    const created = (await signIn({ identifier: phone })).json();
    expectError(await step(created.id, 'prepare_second_factor', { strategy: 'phone_code' }), 422, 'flow_step_invalid');
    expectError(
      await step(created.id, 'attempt_first_factor', { strategy: 'password', password: 'whatever1' }),
      422,
      'strategy_not_allowed',
    );
    expectError(await step(created.id, 'attempt_first_factor', { strategy: 'phone_code' }), 422, 'form_param_missing');
    expectError(
      await step(created.id, 'attempt_first_factor', { strategy: 'phone_code', code: '123456', password: 'x' }),
      422,
      'form_param_unknown',
    );
  });

  it('does not know numbers without an account, and sends nothing to them', async () => {
    const before = await snapshot(server);
    expectError(await signIn({ identifier: nextNumber() }), 422, 'form_identifier_not_found');
    expect(await snapshot(server)).toEqual(before);
  });

  it('a wrong password is refused; after max_failures the account refuses passwords (even the right one) with Retry-After', async () => {
    const phone = nextNumber();
    await fapi.signedUpUser(phone, { password: 'correct horse battery' });
    for (let i = 0; i < 3; i++)
      expectError(await signIn({ identifier: phone, password: 'wrong password' }), 422, 'form_password_incorrect');
    const locked = await signIn({ identifier: phone, password: 'correct horse battery' });
    expectError(locked, 429, 'password_attempts_exceeded');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(3_000);
    expect((await auditActions(server, 'abuse.')).filter((a) => a.data.limit === 'password_lockout')).toHaveLength(1);
    // A phone code still works.
    const created = (await signIn({ identifier: phone })).json();
    await step(created.id, 'prepare_first_factor', { strategy: 'phone_code' });
    expect(
      (await step(created.id, 'attempt_first_factor', { strategy: 'phone_code', code: await fapi.lastCode(phone) })).json().status,
    ).toBe('complete');
  });

  it('an operator lifts a lockout at once over BAPI; an unknown user is a 404 that changes nothing', async () => {
    const phone = nextNumber();
    const { userId } = await fapi.signedUpUser(phone, { password: 'correct horse battery' });
    for (let i = 0; i < 3; i++)
      expectError(await signIn({ identifier: phone, password: 'wrong password' }), 422, 'form_password_incorrect');
    expectError(await signIn({ identifier: phone, password: 'correct horse battery' }), 429, 'password_attempts_exceeded');

    const before = await snapshot(server);
    const auditBefore = (await auditActions(server, 'user.unlocked')).length;
    expectError(await server.bapi('POST', '/v1/users/user_01J9Z6Q4W8V2K3M5N7P9R1S3T5/unlock'), 404, 'resource_not_found');
    expect(await snapshot(server)).toEqual(before);
    expect(await auditActions(server, 'user.unlocked')).toHaveLength(auditBefore);
    expectError(await signIn({ identifier: phone, password: 'correct horse battery' }), 429, 'password_attempts_exceeded');

    const unlocked = await server.bapi('POST', `/v1/users/${userId}/unlock`);
    expect(unlocked.statusCode, unlocked.body).toBe(200);
    expect(unlocked.json()).toMatchObject({ object: 'user', id: userId, password_enabled: true });
    const entries = (await server.bapi('GET', '/v1/audit_logs?action=user.unlocked')).json().data;
    expect(entries[0]).toMatchObject({ action: 'user.unlocked', actor: { type: 'secret_key' }, target: { type: 'user', id: userId } });
    expect((await signIn({ identifier: phone, password: 'correct horse battery' })).json().status).toBe('complete');
  });

  it('a refused password sign-in stores no sign-in: only its counters move', async () => {
    const ip = '198.51.100.19';
    const { db } = server.running.services.store;
    const signIns = () => rowCount(server, 'sign_ins');
    const points = async (key: string) =>
      (await db.selectFrom('rate_limits').select('points').where('key', '=', key).executeTakeFirst())?.points ?? 0;
    const signInFrom = (body: Record<string, unknown>) => fapi.call('POST', '/v1/client/sign_ins', body, { ip });
    const withoutPassword = nextNumber();
    const withPassword = nextNumber();
    const noPasswordUser = (await fapi.signedUpUser(withoutPassword)).userId;
    const passwordUser = (await fapi.signedUpUser(withPassword, { password: 'correct horse battery' })).userId;

    const refusals: [Record<string, unknown>, number, string, string][] = [
      [{ identifier: withoutPassword, password: 'whatever1' }, 422, 'strategy_not_allowed', noPasswordUser],
      [{ identifier: withPassword, password: 'wrong password' }, 422, 'form_password_incorrect', passwordUser],
    ];
    for (const [body, status, code, userId] of refusals) {
      const before = {
        signIns: await signIns(),
        rows: await snapshot(server),
        audit: await auditActions(server, ''),
        events: await eventTypes(server),
      };
      const counters = {
        creates: await points(`creates_per_ip:${ip}`),
        attempts: await points(`attempts_per_ip:${ip}`),
        lockout: await points(`password_lockout:${userId}`),
      };
      expectError(await signInFrom(body), status, code);
      expect(await signIns(), code).toBe(before.signIns);
      expect(await snapshot(server)).toEqual(before.rows);
      expect(await auditActions(server, '')).toEqual(before.audit);
      expect(await eventTypes(server)).toEqual(before.events);
      // Documented: creates_per_ip and attempts_per_ip count every request; a wrong password counts towards the lockout.
      expect(await points(`creates_per_ip:${ip}`)).toBe(counters.creates + 1);
      expect(await points(`attempts_per_ip:${ip}`)).toBe(counters.attempts + 1);
      expect(await points(`password_lockout:${userId}`)).toBe(counters.lockout + (code === 'form_password_incorrect' ? 1 : 0));
    }

    // Locked out: refused before the password is looked at, and still nothing stored.
    for (let i = 0; i < 2; i++)
      expectError(await signInFrom({ identifier: withPassword, password: 'wrong password' }), 422, 'form_password_incorrect');
    const before = await signIns();
    expectError(await signInFrom({ identifier: withPassword, password: 'correct horse battery' }), 429, 'password_attempts_exceeded');
    expect(await signIns()).toBe(before);

    // A right password stores the sign-in, complete.
    await server.bapi('POST', `/v1/users/${passwordUser}/unlock`);
    const done = await signInFrom({ identifier: withPassword, password: 'correct horse battery' });
    expect(done.statusCode, done.body).toBe(201);
    expect(await signIns()).toBe(before + 1);
    expect((await fapi.call('GET', `/v1/client/sign_ins/${done.json().id}`)).json()).toMatchObject({
      status: 'complete',
      created_session_id: done.json().session.id,
    });
  });

  it('a right password clears earlier failures', async () => {
    const phone = nextNumber();
    await fapi.signedUpUser(phone, { password: 'correct horse battery' });
    for (let i = 0; i < 2; i++)
      expectError(await signIn({ identifier: phone, password: 'wrong password' }), 422, 'form_password_incorrect');
    expect((await signIn({ identifier: phone, password: 'correct horse battery' })).json().status).toBe('complete');
    for (let i = 0; i < 2; i++)
      expectError(await signIn({ identifier: phone, password: 'wrong password' }), 422, 'form_password_incorrect');
    expect((await signIn({ identifier: phone, password: 'correct horse battery' })).json().status).toBe('complete');
  });
});
