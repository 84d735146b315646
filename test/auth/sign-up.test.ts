/** Sign-up by phone (and optional password): the flow, its client binding, and what it records. */
import { describe, expect, it } from 'vitest';
import { STORES, type TestServer } from '../helpers/server.js';
import { Fapi, useAuthServer, auditActions, eventTypes, expectError, numbers, snapshot } from './helpers.js';
import { ManualClock } from '../helpers/clock.js';

describe.each(STORES)('sign-up on %s', (kind) => {
  let server!: TestServer;
  let fapi!: Fapi;
  const nextNumber = numbers();
  const clock = new ManualClock();

  useAuthServer(
    kind,
    (s, f) => {
      server = s;
      fapi = f;
    },
    { clock },
  );

  it('creates the user with a verified number and a session, and says so in events and the audit log', async () => {
    const phone = '+1 (201) 555-0147';
    const { id, res } = await fapi.signUp(phone);
    expect(res.json()).toMatchObject({
      object: 'sign_up',
      status: 'missing_requirements',
      phone_number: '+12015550147',
      password_enabled: false,
      unverified_fields: ['phone_number'],
      verifications: { phone_number: null },
    });
    const prepared = await fapi.call('POST', `/v1/client/sign_ups/${id}/prepare_verification`, { strategy: 'phone_code' });
    expect(prepared.json().verifications.phone_number).toMatchObject({
      status: 'unverified',
      strategy: 'phone_code',
      attempts: 0,
      attempts_remaining: 5,
    });
    const done = await fapi.call('POST', `/v1/client/sign_ups/${id}/attempt_verification`, {
      strategy: 'phone_code',
      code: await fapi.lastCode('+12015550147'),
    });
    expect(done.statusCode).toBe(200);
    const signUp = done.json();
    expect(signUp).toMatchObject({
      status: 'complete',
      unverified_fields: [],
      created_user_id: expect.stringMatching(/^user_/),
      created_session_id: expect.stringMatching(/^sess_/),
    });
    expect(signUp.session).toMatchObject({
      id: signUp.created_session_id,
      user_id: signUp.created_user_id,
      status: 'active',
      last_active_token: { object: 'token', jwt: expect.any(String) },
    });

    const user = (await server.bapi('GET', `/v1/users/${signUp.created_user_id}`)).json();
    expect(user).toMatchObject({
      object: 'user',
      password_enabled: false,
      two_factor_enabled: false,
      phone_numbers: [{ phone_number: '+12015550147', verification: { status: 'verified' }, reserved_for_second_factor: false }],
    });
    expect(user.primary_phone_number_id).toBe(user.phone_numbers[0].id);
    expect(await eventTypes(server)).toEqual(
      expect.arrayContaining(['sms.queued', 'challenge.created', 'challenge.verified', 'user.created', 'session.created']),
    );
    expect((await auditActions(server, 'user.')).map((a) => a.action)).toEqual(['user.created']);
  });

  it('stores an optional password as an argon2id hash only', async () => {
    const phone = nextNumber();
    const { userId } = await fapi.signedUpUser(phone, { password: 'correct horse battery' });
    const row = await server.running.services.store.db
      .selectFrom('users')
      .select('password_hash')
      .where('id', '=', userId)
      .executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
    expect((await server.bapi('GET', `/v1/users/${userId}`)).json().password_enabled).toBe(true);
  });

  it.each([
    ['a short password', { phone_number: '+12015550148', password: 'short' }, 'form_param_format_invalid', 'password'],
    ['an invalid number', { phone_number: '+1 201 555' }, 'form_param_format_invalid', 'phone_number'],
    ['text for a number', { phone_number: 'call me' }, 'form_param_format_invalid', 'phone_number'],
    ['an unknown field', { phone_number: '+12015550148', email: 'a@b.c' }, 'form_param_unknown', 'email'],
  ])('refuses %s', async (_name, body, code, param) => {
    const before = await snapshot(server);
    const res = await fapi.call('POST', '/v1/client/sign_ups', body);
    expectError(res, 422, code);
    expect(res.json().errors[0].meta.param_name).toBe(param);
    expect(await snapshot(server)).toEqual(before);
  });

  it('refuses a number that already has an account, at the start and at the end', async () => {
    const phone = nextNumber();
    const early = await fapi.signUp(phone);
    await fapi.signedUpUser(phone);
    expectError((await fapi.signUp(phone)).res, 422, 'form_identifier_exists');
    // The sign-up started before the account existed cannot take the number either (its code comes once the
    // resend cooldown after the account's code has passed).
    clock.advance(30_000);
    await fapi.call('POST', `/v1/client/sign_ups/${early.id}/prepare_verification`, { strategy: 'phone_code' });
    const res = await fapi.call('POST', `/v1/client/sign_ups/${early.id}/attempt_verification`, { strategy: 'phone_code', code: '000000' });
    expectError(res, 422, 'form_identifier_exists');
  });

  it('belongs to the client that made it', async () => {
    const { id } = await fapi.signUp(nextNumber());
    const stranger = await new Fapi(server).start();
    expectError(await stranger.call('GET', `/v1/client/sign_ups/${id}`), 404, 'resource_not_found');
    expectError(
      await stranger.call('POST', `/v1/client/sign_ups/${id}/prepare_verification`, { strategy: 'phone_code' }),
      404,
      'resource_not_found',
    );
    expectError(await fapi.call('GET', `/v1/client/sign_ups/${id}`, undefined, { auth: null }), 401, 'client_token_missing');
    expectError(
      await fapi.call('GET', `/v1/client/sign_ups/${id}`, undefined, { auth: `ct_${'A'.repeat(43)}` }),
      401,
      'client_token_invalid',
    );
    expectError(await fapi.call('GET', `/v1/client/sign_ups/${id}`, undefined, { auth: 'nonsense' }), 401, 'client_token_invalid');
  });

  it('refuses another strategy', async () => {
    const { id } = await fapi.signUp(nextNumber());
    expectError(
      await fapi.call('POST', `/v1/client/sign_ups/${id}/prepare_verification`, { strategy: 'email_code' }),
      422,
      'form_param_value_invalid',
    );
  });
});
