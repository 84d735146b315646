/** BAPI users: list (by number, paginated), get, delete — with phone numbers and second factors. */
import { describe, expect, it } from 'vitest';
import { STORES, type TestServer } from '../helpers/server.js';
import { Fapi, ManualClock, useAuthServer, auditActions, eventTypes, expectError, numbers } from './helpers.js';

describe.each(STORES)('BAPI users on %s', (kind) => {
  let server!: TestServer;
  let fapi!: Fapi;
  const nextNumber = numbers();
  // Starts at the real time: session tokens are checked against it.
  const clock = new ManualClock(Date.now());

  useAuthServer(kind, (s, f) => {
    server = s;
    fapi = f;
  }, { clock });

  it('lists users newest first with their numbers and second factors, page by page', async () => {
    const phones = [nextNumber(), nextNumber(), nextNumber()];
    const ids: string[] = [];
    for (const phone of phones) ids.push((await fapi.signedUpUser(phone)).userId);
    const { jwt } = await fapi.signIn(phones[2]!);
    const mfaPhone = nextNumber();
    const started = (await fapi.call('POST', '/v1/me/mfa/phone_numbers', { phone_number: mfaPhone }, { auth: jwt })).json();
    await fapi.call('POST', `/v1/me/mfa/phone_numbers/${started.id}/prepare_verification`, { strategy: 'phone_code' }, { auth: jwt });
    await fapi.call('POST', `/v1/me/mfa/phone_numbers/${started.id}/attempt_verification`, { strategy: 'phone_code', code: await fapi.lastCode(mfaPhone) }, { auth: jwt });

    const first = (await server.bapi('GET', '/v1/users?limit=2')).json();
    expect(first.data.map((u: { id: string }) => u.id)).toEqual([ids[2], ids[1]]);
    expect(first.data[0]).toMatchObject({
      two_factor_enabled: true,
      phone_numbers: [
        { phone_number: phones[2], reserved_for_second_factor: false },
        { phone_number: mfaPhone, reserved_for_second_factor: true, verification: { status: 'verified' } },
      ],
    });
    const second = (await server.bapi('GET', `/v1/users?limit=2&starting_after=${first.next_cursor}`)).json();
    expect(second.data.map((u: { id: string }) => u.id)).toEqual([ids[0]]);
    expect(second.next_cursor).toBeNull();

    const found = (await server.bapi('GET', `/v1/users?phone_number=${encodeURIComponent(phones[1]!)}`)).json();
    expect(found.data.map((u: { id: string }) => u.id)).toEqual([ids[1]]);
    expect((await server.bapi('GET', `/v1/users?phone_number=${encodeURIComponent(mfaPhone)}`)).json().data.map((u: { id: string }) => u.id)).toEqual([ids[2]]);
    expectError(await server.bapi('GET', '/v1/users?phone_number=nope'), 422, 'form_param_format_invalid');
  });

  it('gets one user; an unknown id is 404', async () => {
    const { userId } = await fapi.signedUpUser(nextNumber());
    expect((await server.bapi('GET', `/v1/users/${userId}`)).json()).toMatchObject({ object: 'user', id: userId });
    expectError(await server.bapi('GET', '/v1/users/user_nope'), 404, 'resource_not_found');
  });

  it('deletes a user with their numbers and sessions: their client can mint no more tokens, and the number is free again', async () => {
    const phone = nextNumber();
    const { userId, sessionId, jwt } = await fapi.signedUpUser(phone);
    const res = await server.bapi('DELETE', `/v1/users/${userId}`);
    expect(res.json()).toEqual({ object: 'user', id: userId, deleted: true });
    // The number's next sign-up code (below) comes once the resend cooldown after the deleted account's has passed.
    clock.advance(30_000);
    expectError(await server.bapi('GET', `/v1/users/${userId}`), 404, 'resource_not_found');
    expectError(await fapi.call('POST', `/v1/client/sessions/${sessionId}/tokens`), 404, 'resource_not_found');
    expectError(await fapi.call('GET', '/v1/me', undefined, { auth: jwt }), 401, 'session_token_invalid');
    expect(await eventTypes(server)).toContain('user.deleted');
    expect((await auditActions(server, 'user.deleted'))[0]!.data).toEqual({ phone_numbers: [phone] });
    expect((await fapi.signedUpUser(phone)).userId).not.toBe(userId);
    expectError(await server.bapi('DELETE', `/v1/users/${userId}`), 404, 'resource_not_found');
  });
});
