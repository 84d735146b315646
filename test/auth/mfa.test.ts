/** The phone second factor of a signed-in user: enrol, list, remove; and the multi_factor.phone_code toggle. */
import { describe, expect, it } from 'vitest';
import { STORES, type TestServer } from '../helpers/server.js';
import { type Fapi, useAuthServer, auditActions, eventTypes, expectError, numbers, patchSettings, snapshot } from './helpers.js';

describe.each(STORES)('phone MFA on %s', (kind) => {
  let server!: TestServer;
  let fapi!: Fapi;
  const nextNumber = numbers();

  useAuthServer(kind, (s, f) => {
    server = s;
    fapi = f;
  });

  const me = (jwt: string) => ({ auth: jwt });

  async function enrol(jwt: string, phone: string) {
    const started = await fapi.call('POST', '/v1/me/mfa/phone_numbers', { phone_number: phone }, me(jwt));
    expect(started.statusCode, started.body).toBe(201);
    const id = started.json().id;
    await fapi.call('POST', `/v1/me/mfa/phone_numbers/${id}/prepare_verification`, { strategy: 'phone_code' }, me(jwt));
    return fapi.call(
      'POST',
      `/v1/me/mfa/phone_numbers/${id}/attempt_verification`,
      { strategy: 'phone_code', code: await fapi.lastCode(phone) },
      me(jwt),
    );
  }

  /** Password sign-in: `complete` or `needs_second_factor`. */
  async function passwordSignInStatus(phone: string): Promise<string> {
    return (await fapi.call('POST', '/v1/client/sign_ins', { identifier: phone, password: 'correct horse battery' })).json().status;
  }

  it('enrols a new number, lists it, shows it on the user, and removes it', async () => {
    const phone = nextNumber();
    const mfaPhone = nextNumber();
    const { userId, jwt } = await fapi.signedUpUser(phone, { password: 'correct horse battery' });
    const started = await fapi.call('POST', '/v1/me/mfa/phone_numbers', { phone_number: mfaPhone }, me(jwt));
    expect(started.json()).toMatchObject({
      object: 'phone_number',
      phone_number: mfaPhone,
      verification: null,
      reserved_for_second_factor: false,
    });
    const listed = (await fapi.call('GET', '/v1/me/mfa/phone_numbers', undefined, me(jwt))).json().data;
    expect(listed.map((p: { phone_number: string }) => p.phone_number)).toEqual([mfaPhone]);

    const enrolled = await fapi.call(
      'POST',
      `/v1/me/mfa/phone_numbers/${started.json().id}/prepare_verification`,
      { strategy: 'phone_code' },
      me(jwt),
    );
    expect(enrolled.json().verification).toMatchObject({ status: 'unverified' });
    const done = await fapi.call(
      'POST',
      `/v1/me/mfa/phone_numbers/${started.json().id}/attempt_verification`,
      { strategy: 'phone_code', code: await fapi.lastCode(mfaPhone) },
      me(jwt),
    );
    expect(done.json()).toMatchObject({ reserved_for_second_factor: true, verification: { status: 'verified' } });

    const user = (await server.bapi('GET', `/v1/users/${userId}`)).json();
    expect(user.two_factor_enabled).toBe(true);
    expect(user.phone_numbers.find((p: { phone_number: string }) => p.phone_number === mfaPhone)).toMatchObject({
      reserved_for_second_factor: true,
    });
    expect((await fapi.call('GET', '/v1/me', undefined, me(jwt))).json()).toMatchObject({ id: userId, two_factor_enabled: true });
    expect(await passwordSignInStatus(phone)).toBe('needs_second_factor');

    const removed = await fapi.call('DELETE', `/v1/me/mfa/phone_numbers/${started.json().id}`, undefined, me(jwt));
    expect(removed.json()).toMatchObject({ reserved_for_second_factor: false });
    expect((await server.bapi('GET', `/v1/users/${userId}`)).json()).toMatchObject({
      two_factor_enabled: false,
      phone_numbers: [{ phone_number: phone }],
    });
    expect(await passwordSignInStatus(phone)).toBe('complete');
    expect(await eventTypes(server)).toEqual(expect.arrayContaining(['mfa.enrolled', 'mfa.removed']));
    expect((await auditActions(server, 'mfa.')).map((a) => a.action)).toEqual(['mfa.enrolled', 'mfa.removed']);
  });

  it('enrols the sign-up number itself (with a fresh code); removing it keeps the number', async () => {
    const phone = nextNumber();
    const { userId, jwt } = await fapi.signedUpUser(phone);
    expect((await enrol(jwt, phone)).json().reserved_for_second_factor).toBe(true);
    expectError(await fapi.call('POST', '/v1/me/mfa/phone_numbers', { phone_number: phone }, me(jwt)), 422, 'mfa_already_enrolled');
    const id = (await server.bapi('GET', `/v1/users/${userId}`)).json().primary_phone_number_id;
    await fapi.call('DELETE', `/v1/me/mfa/phone_numbers/${id}`, undefined, me(jwt));
    expect((await server.bapi('GET', `/v1/users/${userId}`)).json()).toMatchObject({
      primary_phone_number_id: id,
      two_factor_enabled: false,
    });
  });

  it("refuses another account's number", async () => {
    const taken = nextNumber();
    await fapi.signedUpUser(taken);
    const { jwt } = await fapi.signedUpUser(nextNumber());
    expectError(await fapi.call('POST', '/v1/me/mfa/phone_numbers', { phone_number: taken }, me(jwt)), 422, 'form_identifier_exists');
  });

  it('multi_factor.phone_code.enabled: false refuses new enrolments; existing ones survive and work again once it is back on', async () => {
    const phone = nextNumber();
    const { userId, jwt } = await fapi.signedUpUser(phone, { password: 'correct horse battery' });
    expect((await enrol(jwt, nextNumber())).statusCode).toBe(200);
    const pending = (await fapi.call('POST', '/v1/me/mfa/phone_numbers', { phone_number: nextNumber() }, me(jwt))).json();
    const factors = async () => {
      const user = (await server.bapi('GET', `/v1/users/${userId}`)).json();
      return { two_factor_enabled: user.two_factor_enabled, phone_numbers: user.phone_numbers };
    };
    const factorsBefore = await factors();

    await patchSettings(server, { multi_factor: { phone_code: { enabled: false } } });
    expect((await fapi.call('GET', '/v1/environment', undefined, { auth: null })).json().multi_factor.phone_code.enabled).toBe(false);
    const before = await snapshot(server);
    expectError(await fapi.call('POST', '/v1/me/mfa/phone_numbers', { phone_number: nextNumber() }, me(jwt)), 422, 'phone_mfa_disabled');
    expectError(
      await fapi.call('POST', `/v1/me/mfa/phone_numbers/${pending.id}/prepare_verification`, { strategy: 'phone_code' }, me(jwt)),
      422,
      'phone_mfa_disabled',
    );
    expectError(
      await fapi.call(
        'POST',
        `/v1/me/mfa/phone_numbers/${pending.id}/attempt_verification`,
        { strategy: 'phone_code', code: '123456' },
        me(jwt),
      ),
      422,
      'phone_mfa_disabled',
    );
    expect(await snapshot(server)).toEqual(before);
    // The enrolment is untouched, but sign-in does not ask for it while the factor is off.
    expect(await factors()).toEqual(factorsBefore);
    expect(await passwordSignInStatus(phone)).toBe('complete');

    await patchSettings(server, { multi_factor: { phone_code: { enabled: true } } });
    expect(await factors()).toEqual(factorsBefore);
    expect(await passwordSignInStatus(phone)).toBe('needs_second_factor');
  });

  it('needs a live session token', async () => {
    const { jwt, sessionId } = await fapi.signedUpUser(nextNumber());
    expectError(await fapi.call('GET', '/v1/me/mfa/phone_numbers', undefined, { auth: null }), 401, 'session_token_missing');
    expectError(await fapi.call('GET', '/v1/me/mfa/phone_numbers', undefined, { auth: fapi.token }), 401, 'session_token_invalid');
    await fapi.call('POST', `/v1/client/sessions/${sessionId}/end`);
    expectError(await fapi.call('GET', '/v1/me/mfa/phone_numbers', undefined, me(jwt)), 401, 'session_inactive');
  });
});
