/** BAPI users: list (by number, paginated), get, delete — with phone numbers, second factors and the password lockout. */
import { describe, expect, it } from 'vitest';
import { STORES, type TestServer } from '../helpers/server.js';
import { type Fapi, useAuthServer, auditActions, eventTypes, expectError, numbers, patchSettings, testNumber } from './helpers.js';
import { ManualClock } from '../helpers/clock.js';

describe.each(STORES)('BAPI users on %s', (kind) => {
  let server!: TestServer;
  let fapi!: Fapi;
  const nextNumber = numbers();
  // Starts at the real time: session tokens are checked against it.
  const clock = new ManualClock(Date.now());

  useAuthServer(
    kind,
    (s, f) => {
      server = s;
      fapi = f;
    },
    { clock },
  );

  it('lists users newest first with their numbers and second factors, page by page', async () => {
    const phones = [nextNumber(), nextNumber(), nextNumber()];
    const ids: string[] = [];
    for (const phone of phones) ids.push((await fapi.signedUpUser(phone)).userId);
    const { jwt } = await fapi.signIn(phones[2]!);
    const mfaPhone = nextNumber();
    const started = (await fapi.call('POST', '/v1/me/mfa/phone_numbers', { phone_number: mfaPhone }, { auth: jwt })).json();
    await fapi.call('POST', `/v1/me/mfa/phone_numbers/${started.id}/prepare_verification`, { strategy: 'phone_code' }, { auth: jwt });
    await fapi.call(
      'POST',
      `/v1/me/mfa/phone_numbers/${started.id}/attempt_verification`,
      { strategy: 'phone_code', code: await fapi.lastCode(mfaPhone) },
      { auth: jwt },
    );

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
    expect(
      (await server.bapi('GET', `/v1/users?phone_number=${encodeURIComponent(mfaPhone)}`)).json().data.map((u: { id: string }) => u.id),
    ).toEqual([ids[2]]);
    expectError(await server.bapi('GET', '/v1/users?phone_number=nope'), 422, 'form_param_format_invalid');
  });

  it('finds a user by a national number of the countries codes may go to, and says what a search accepts', async () => {
    const phone = nextNumber();
    const { userId } = await fapi.signedUpUser(phone);
    const { userId: testUserId } = await fapi.signedUpUser(testNumber(12));
    const find = (query: string) => server.bapi('GET', `/v1/users?phone_number=${encodeURIComponent(query)}`);
    const national = `(${phone.slice(2, 5)}) ${phone.slice(5, 8)}-${phone.slice(8)}`;
    expect((await find(national)).json().data.map((u: { id: string }) => u.id)).toEqual([userId]);
    expect((await find('(555) 555-0112')).json().data.map((u: { id: string }) => u.id)).toEqual([testUserId]);

    const refused = await find('555-0112');
    expectError(refused, 422, 'form_param_format_invalid');
    expect(refused.json().errors[0]).toMatchObject({
      long_message: 'phone_number is not a valid national number of US, CA: write it with + and its country code, such as +14155550123',
      meta: { param_name: 'phone_number' },
    });
  });

  it('shows whether password sign-in is locked out and until when, to operators only; unlocking clears it', async () => {
    await patchSettings(server, { abuse: { password_lockout: { max_failures: 2, window_seconds: 600 } } });
    const [locked, other] = [nextNumber(), nextNumber()];
    const { userId, jwt } = await fapi.signedUpUser(locked, { password: 'correct horse battery' });
    const { userId: otherId } = await fapi.signedUpUser(other, { password: 'correct horse battery' });
    const lockedUntil = async (id: string) => (await server.bapi('GET', `/v1/users/${id}`)).json().password_locked_until;
    expect(await lockedUntil(userId)).toBeNull();

    for (let i = 0; i < 2; i++)
      expectError(
        await fapi.call('POST', '/v1/client/sign_ins', { identifier: locked, password: 'wrong password' }),
        422,
        'form_password_incorrect',
      );
    // One wrong password does not lock: only the window's last failure does.
    expectError(
      await fapi.call('POST', '/v1/client/sign_ins', { identifier: other, password: 'wrong password' }),
      422,
      'form_password_incorrect',
    );
    const refusal = await fapi.call('POST', '/v1/client/sign_ins', { identifier: locked, password: 'correct horse battery' });
    expectError(refusal, 429, 'password_attempts_exceeded');
    const until = await lockedUntil(userId);
    expect(until).toBeGreaterThan(clock.now());
    expect(until).toBeLessThanOrEqual(clock.now() + 600_000);
    // The same moment as the refusal's Retry-After, give or take the seconds it is rounded to.
    expect(Math.abs(until - (clock.now() + Number(refusal.headers['retry-after']) * 1000))).toBeLessThan(5_000);
    const listed = (await server.bapi('GET', '/v1/users?limit=10')).json().data as { id: string; password_locked_until: number | null }[];
    // Read again from the counter's time to live, so within the moments between the two reads.
    expect(Math.abs(listed.find((u) => u.id === userId)!.password_locked_until! - until)).toBeLessThan(1_000);
    expect(listed.find((u) => u.id === otherId)?.password_locked_until).toBeNull();
    // The user's own view does not carry it.
    expect((await fapi.call('GET', '/v1/me', undefined, { auth: jwt })).json()).not.toHaveProperty('password_locked_until');

    const unlocked = await server.bapi('POST', `/v1/users/${userId}/unlock`);
    expect(unlocked.statusCode, unlocked.body).toBe(200);
    expect(unlocked.json()).toMatchObject({ id: userId, password_locked_until: null });
    expect(await lockedUntil(userId)).toBeNull();
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
    expect((await auditActions(server, 'user.deleted'))[0]!.data).toEqual({
      object: 'user',
      id: userId,
      deleted: true,
      phone_numbers: [phone],
    });
    expect((await fapi.signedUpUser(phone)).userId).not.toBe(userId);
    expectError(await server.bapi('DELETE', `/v1/users/${userId}`), 404, 'resource_not_found');
  });
});
