/**
 * The SDK core against a real authn.sh (listening on a port, called through Node's fetch), on SQLite and
 * PostgreSQL: every FAPI flow, refusals as values, resend countdowns, getToken() refreshing with one request in
 * flight (a fake clock shared by the SDK and the server), sign-out and session events.
 */
import { describe, expect, it } from 'vitest';
import { STORES, type TestServer } from '../helpers/server.js';
import { Fapi, numbers, patchSettings, snapshot, testNumber, useAuthServer } from '../auth/helpers.js';
import {
  type AuthnClient,
  createAuthn,
  memoryTokenStore,
  resendIn,
  type AuthEvent,
  type AuthnOptions,
} from '../../packages/sdk/src/index.js';
import { ManualClock } from '../helpers/clock.js';

/** A fetch that counts the requests by `METHOD /path` and keeps what each one sent. */
function recordingFetch() {
  const calls: { route: string; init: RequestInit | undefined }[] = [];
  const recorded: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    calls.push({ route: `${init?.method ?? 'GET'} ${url.pathname}`, init });
    return fetch(input, init);
  };
  return { fetch: recorded, calls, count: (route: string) => calls.filter((c) => c.route === route).length };
}

describe.each(STORES)('SDK client against the server on %s', (kind) => {
  let server!: TestServer;
  let codes!: Fapi;
  const clock = new ManualClock();
  const nextNumber = numbers();

  useAuthServer(
    kind,
    (s, f) => {
      server = s;
      codes = f;
    },
    { clock, listen: true },
  );

  const sdk = (options: Partial<AuthnOptions> = {}) =>
    createAuthn({ url: server.running.url!, mode: 'native', now: clock.now, ...options });

  async function signedUp(authn: AuthnClient, phone: string, password?: string) {
    expect((await authn.signUp.create({ phoneNumber: phone, ...(password ? { password } : {}) })).error).toBeNull();
    expect((await authn.signUp.verifications.sendPhoneCode()).error).toBeNull();
    const done = await authn.signUp.verifications.verifyPhoneCode({ code: await codes.lastCode(phone) });
    expect(done.error).toBeNull();
    return done.data!;
  }

  it('loads the environment and an empty client', async () => {
    const authn = sdk();
    const { data, error } = await authn.load();
    expect(error).toBeNull();
    expect(data!.environment).toMatchObject({ object: 'environment', multi_factor: { phone_code: { enabled: true } } });
    expect(authn.environment).toEqual(data!.environment);
    expect(data!.sessions).toEqual([]);
    expect(authn.session).toBeNull();
    expect(await authn.getToken()).toEqual({ data: null, error: null });
  });

  it('signs up: create, send a code, verify; the new session is active and its token works', async () => {
    const phone = nextNumber();
    const authn = sdk();
    const events: AuthEvent[] = [];
    authn.onAuthStateChange((event) => events.push(event));
    const created = await authn.signUp.create({ phoneNumber: phone });
    expect(created.data).toMatchObject({ object: 'sign_up', status: 'missing_requirements', phone_number: phone });
    const sent = await authn.signUp.verifications.sendPhoneCode({ channel: 'sms' });
    expect(sent.data!.verifications.phone_number).toMatchObject({ status: 'unverified', strategy: 'phone_code' });
    expect(authn.session).toBeNull();
    const done = await authn.signUp.verifications.verifyPhoneCode({ code: await codes.lastCode(phone) });
    expect(done.data).toMatchObject({ status: 'complete', created_user_id: expect.any(String) });
    expect(authn.signUp.current()).toEqual(done.data);
    expect(authn.session).toMatchObject({ id: done.data!.created_session_id, status: 'active' });
    expect(authn.session).not.toHaveProperty('last_active_token');
    expect(events).toEqual(['SIGNED_IN']);
    const me = await authn.user.get();
    expect(me.data).toMatchObject({ id: done.data!.created_user_id, phone_numbers: [{ phone_number: phone }] });
  });

  it('signs up a test number with 424242 under test_mode: enabled', async () => {
    await patchSettings(server, { test_mode: 'enabled' });
    try {
      const authn = sdk();
      await authn.signUp.create({ phoneNumber: testNumber(1) });
      await authn.signUp.verifications.sendPhoneCode();
      const done = await authn.signUp.verifications.verifyPhoneCode({ code: '424242' });
      expect(done.data?.status).toBe('complete');
      expect(authn.session).not.toBeNull();
    } finally {
      await patchSettings(server, { test_mode: 'disabled' });
    }
  });

  it('a refusal is a value: the server code, the field, the status; nothing thrown, nothing changed', async () => {
    const phone = nextNumber();
    const authn = sdk();
    await authn.signUp.create({ phoneNumber: phone });
    await authn.signUp.verifications.sendPhoneCode();
    const before = await snapshot(server);
    const wrong = await authn.signUp.verifications.verifyPhoneCode({ code: Fapi.wrong(await codes.lastCode(phone)) });
    expect(wrong.data).toBeNull();
    expect(wrong.error).toMatchObject({ name: 'AuthnError', code: 'form_code_incorrect', paramName: 'code', status: 422 });
    expect(wrong.error!.errors[0]).toMatchObject({ code: 'form_code_incorrect', meta: { param_name: 'code' } });
    // The flow was not replaced by the refusal; the number is still unverified.
    expect(authn.signUp.current()!.status).toBe('missing_requirements');
    expect(await snapshot(server)).toEqual(before);
    expect(authn.session).toBeNull();

    const badFormat = await authn.signUp.verifications.verifyPhoneCode({ code: '12' });
    expect(badFormat.error).toMatchObject({ code: 'form_param_format_invalid', paramName: 'code', status: 422 });

    const taken = await sdk().signUp.create({ phoneNumber: (await signedUp(sdk(), nextNumber())).phone_number });
    expect(taken.error).toMatchObject({ code: 'form_identifier_exists', status: 422 });
  });

  it('resend countdown: from next_resend_at, and Retry-After on the cooldown refusal', async () => {
    const phone = nextNumber();
    const authn = sdk();
    await authn.signUp.create({ phoneNumber: phone });
    expect(authn.signUp.verifications.resendIn()).toBe(0);
    const sent = await authn.signUp.verifications.sendPhoneCode();
    const nextResendAt = sent.data!.verifications.phone_number!.next_resend_at!;
    expect(nextResendAt).toBeGreaterThan(clock.now());
    const countdown = Math.ceil((nextResendAt - clock.now()) / 1000);
    expect(authn.signUp.verifications.resendIn()).toBe(countdown);
    expect(resendIn(sent.data!.verifications.phone_number, clock.now())).toBe(countdown);

    const again = await authn.signUp.verifications.sendPhoneCode();
    expect(again.error).toMatchObject({ code: 'phone_code_resend_cooldown', status: 429, retryAfterSeconds: expect.any(Number) });
    expect(again.error!.retryAfterSeconds).toBeGreaterThan(0);

    clock.advance(countdown * 1000);
    expect(authn.signUp.verifications.resendIn()).toBe(0);
    expect((await authn.signUp.verifications.sendPhoneCode()).error).toBeNull();
  });

  it('signs in by phone code, in one call (phoneNumber) or after create()', async () => {
    const phone = nextNumber();
    const user = await signedUp(sdk(), phone);
    const authn = sdk();
    const sent = await authn.signIn.phoneCode.sendCode({ phoneNumber: phone });
    expect(sent.data).toMatchObject({
      object: 'sign_in',
      status: 'needs_first_factor',
      identifier: phone,
      first_factor_verification: { status: 'unverified' },
    });
    expect(authn.signIn.phoneCode.resendIn()).toBeGreaterThan(0);
    const done = await authn.signIn.phoneCode.verifyCode({ code: await codes.lastCode(phone) });
    expect(done.data).toMatchObject({ status: 'complete' });
    expect(authn.session).toMatchObject({ user_id: user.created_user_id });
    expect(authn.signIn.current()).toEqual(done.data);

    clock.advance(60_000);
    const second = sdk();
    expect((await second.signIn.create({ identifier: phone })).data?.status).toBe('needs_first_factor');
    await second.signIn.phoneCode.sendCode();
    expect((await second.signIn.phoneCode.verifyCode({ code: await codes.lastCode(phone) })).data?.status).toBe('complete');

    const unknown = await sdk().signIn.create({ identifier: nextNumber() });
    expect(unknown.error).toMatchObject({ code: 'form_identifier_not_found', status: 422 });
  });

  it('password sign-in, MFA enrolment (add, send, verify, list, remove) and the phone second factor', async () => {
    const phone = nextNumber();
    const mfaPhone = nextNumber();
    const password = 'correct horse battery';
    const owner = sdk();
    await signedUp(owner, phone, password);

    const started = await owner.user.phoneMfa.add({ phoneNumber: mfaPhone });
    expect(started.data).toMatchObject({ object: 'phone_number', phone_number: mfaPhone, reserved_for_second_factor: false });
    const id = started.data!.id;
    const sent = await owner.user.phoneMfa.sendCode({ id });
    expect(owner.user.phoneMfa.resendIn(sent.data!)).toBeGreaterThan(0);
    const wrong = await owner.user.phoneMfa.verifyCode({ id, code: Fapi.wrong(await codes.lastCode(mfaPhone)) });
    expect(wrong.error).toMatchObject({ code: 'form_code_incorrect', paramName: 'code' });
    const enrolled = await owner.user.phoneMfa.verifyCode({ id, code: await codes.lastCode(mfaPhone) });
    expect(enrolled.data).toMatchObject({ reserved_for_second_factor: true, verification: { status: 'verified' } });
    expect((await owner.user.phoneMfa.list()).data!.map((p) => p.id)).toEqual([id]);
    expect((await owner.user.get()).data!.two_factor_enabled).toBe(true);

    const badPassword = await sdk().signIn.password({ identifier: phone, password: 'not the password' });
    expect(badPassword.error).toMatchObject({ code: 'form_password_incorrect', paramName: 'password' });

    const authn = sdk();
    const first = await authn.signIn.password({ identifier: phone, password });
    expect(first.data).toMatchObject({
      status: 'needs_second_factor',
      supported_second_factors: [{ strategy: 'phone_code', phone_number_id: id }],
    });
    expect(authn.session).toBeNull();
    await authn.signIn.mfa.sendPhoneCode();
    expect(authn.signIn.mfa.resendIn()).toBeGreaterThan(0);
    const done = await authn.signIn.mfa.verifyPhoneCode({ code: await codes.lastCode(mfaPhone) });
    expect(done.data?.status).toBe('complete');
    expect(authn.session).not.toBeNull();

    const removed = await owner.user.phoneMfa.remove({ id });
    expect(removed.data).toMatchObject({ id, reserved_for_second_factor: false });
    expect((await owner.user.phoneMfa.list()).data).toEqual([]);
    expect((await sdk().signIn.password({ identifier: phone, password })).data?.status).toBe('complete');
  });

  it('getToken() reuses the token, then refreshes before expiry with one request for many callers', async () => {
    const recorder = recordingFetch();
    const authn = sdk({ fetch: recorder.fetch });
    const events: AuthEvent[] = [];
    authn.onAuthStateChange((event) => events.push(event));
    await signedUp(authn, nextNumber());
    const firstJwt = (await authn.getToken()).data!;
    const tokens = `POST /v1/client/sessions/${authn.session!.id}/tokens`;

    const reused = await Promise.all(Array.from({ length: 20 }, () => authn.getToken()));
    expect(reused.map((r) => r.data)).toEqual(Array(20).fill(firstJwt));
    expect(recorder.count(tokens)).toBe(0);

    // 49 s into the 60 s token: still used. 51 s: inside the 10 s leeway, so a new one, fetched once.
    clock.advance(49_000);
    expect((await authn.getToken()).data).toBe(firstJwt);
    clock.advance(2_000);
    const refreshed = await Promise.all(Array.from({ length: 20 }, () => authn.getToken()));
    expect(recorder.count(tokens)).toBe(1);
    const secondJwt = refreshed[0]!.data!;
    expect(secondJwt).not.toBe(firstJwt);
    expect(refreshed.every((r) => r.data === secondJwt)).toBe(true);
    expect(events).toEqual(['SIGNED_IN', 'TOKEN_REFRESHED']);

    // Past the first token's expiry, calls that need the session still work (with the new one).
    clock.advance(15_000);
    expect((await authn.user.get()).error).toBeNull();
    expect(recorder.count(tokens)).toBe(1);
    clock.advance(50_000);
    expect((await authn.user.get()).error).toBeNull();
    expect(recorder.count(tokens)).toBe(2);
  });

  it('sessions: list, sign-out (event, no more tokens), and a session revoked elsewhere signs the client out', async () => {
    const authn = sdk();
    const events: [AuthEvent, string | null][] = [];
    const unsubscribe = authn.onAuthStateChange((event, session) => events.push([event, session?.id ?? null]));
    await signedUp(authn, nextNumber());
    const sessionId = authn.session!.id;
    expect((await authn.sessions.list()).data!.map((s) => s.id)).toEqual([sessionId]);

    const out = await authn.signOut();
    expect(out.data).toMatchObject({ id: sessionId, status: 'ended' });
    expect(authn.session).toBeNull();
    expect(await authn.getToken()).toEqual({ data: null, error: null });
    expect((await authn.user.get()).error).toMatchObject({ code: 'signed_out', status: 0 });
    expect((await authn.sessions.list()).data).toEqual([]);
    expect(events).toEqual([
      ['SIGNED_IN', sessionId],
      ['SIGNED_OUT', null],
    ]);
    expect((await authn.signOut()).error).toMatchObject({ code: 'signed_out' });

    unsubscribe();
    const revoked = sdk();
    const revokedEvents: AuthEvent[] = [];
    revoked.onAuthStateChange((event) => revokedEvents.push(event));
    await signedUp(revoked, nextNumber());
    expect((await server.bapi('POST', `/v1/sessions/${revoked.session!.id}/revoke`)).statusCode).toBe(200);
    clock.advance(55_000);
    const token = await revoked.getToken();
    expect(token.error).toMatchObject({ code: 'session_inactive', status: 401 });
    expect(revoked.session).toBeNull();
    expect(revokedEvents).toEqual(['SIGNED_IN', 'SIGNED_OUT']);
    expect(events).toHaveLength(2);
  });

  it('several sessions on one client: setActive switches, an unknown id is a resource_not_found value', async () => {
    const store = memoryTokenStore();
    const authn = sdk({ tokenStore: store });
    const first = await signedUp(authn, nextNumber());
    const second = await signedUp(authn, nextNumber());
    expect(authn.session?.id).toBe(second.created_session_id);
    expect((await authn.sessions.list()).data!.map((s) => s.id)).toEqual([second.created_session_id, first.created_session_id]);
    const events: AuthEvent[] = [];
    authn.onAuthStateChange((event) => events.push(event));
    const switched = await authn.sessions.setActive(first.created_session_id!);
    expect(switched.data?.id).toBe(first.created_session_id);
    expect((await authn.user.get()).data?.id).toBe(first.created_user_id);
    expect(events).toEqual(['SIGNED_IN', 'TOKEN_REFRESHED']);
    const unknown = await authn.sessions.setActive('sess_unknown');
    expect(unknown.error).toMatchObject({ code: 'resource_not_found', paramName: 'sessionId', status: 404 });
    expect(authn.session?.id).toBe(first.created_session_id);
  });

  it('getToken() answers for the session active when its token arrives, if another became active meanwhile', async () => {
    // A fetch that holds token requests back until the test lets them go.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const gated: typeof fetch = async (input, init) => {
      if (String(input).endsWith('/tokens')) await gate;
      return fetch(input, init);
    };
    const authn = sdk({ fetch: gated });
    const first = await signedUp(authn, nextNumber());
    await signedUp(authn, nextNumber());
    clock.advance(51_000);
    const pending = authn.getToken();
    expect((await authn.sessions.setActive(first.created_session_id!)).error).toBeNull();
    release();
    const { data: jwt } = await pending;
    const payload = JSON.parse(Buffer.from(jwt!.split('.')[1]!, 'base64url').toString()) as { sid: string };
    expect(payload.sid).toBe(first.created_session_id);
  });

  it('phone MFA switched off: adding a second factor is refused with phone_mfa_disabled and nothing is stored', async () => {
    const authn = sdk();
    await signedUp(authn, nextNumber());
    await patchSettings(server, { multi_factor: { phone_code: { enabled: false } } });
    try {
      expect((await authn.getEnvironment()).data!.multi_factor.phone_code.enabled).toBe(false);
      const before = await snapshot(server);
      const refused = await authn.user.phoneMfa.add({ phoneNumber: nextNumber() });
      expect(refused).toEqual({ data: null, error: expect.objectContaining({ code: 'phone_mfa_disabled', status: 422 }) });
      expect(await snapshot(server)).toEqual(before);
      expect((await authn.user.phoneMfa.list()).data).toEqual([]);
    } finally {
      await patchSettings(server, { multi_factor: { phone_code: { enabled: true } } });
    }
  });

  it('native mode keeps the client token in the store it is given: a restarted app is still signed in', async () => {
    const store = memoryTokenStore();
    const first = sdk({ tokenStore: store });
    await signedUp(first, nextNumber());
    const token = await store.get();
    expect(token).toMatch(/^ct_/);

    const restarted = sdk({ tokenStore: store });
    const events: AuthEvent[] = [];
    restarted.onAuthStateChange((event) => events.push(event));
    const loaded = await restarted.load();
    expect(loaded.data!.sessions.map((s) => s.id)).toEqual([first.session!.id]);
    expect(restarted.session?.id).toBe(first.session!.id);
    expect(events).toEqual(['SIGNED_IN']);
    expect((await restarted.user.get()).error).toBeNull();

    // A token the server does not know (a wiped store): the SDK makes a new client and carries on.
    const staleStore = memoryTokenStore('ct_not_a_real_token');
    expect((await sdk({ tokenStore: staleStore }).sessions.list()).data).toEqual([]);
    expect(await staleStore.get()).toMatch(/^ct_/);
    expect(await staleStore.get()).not.toBe('ct_not_a_real_token');
  });

  it('browser mode sends cookies (credentials: include) and never an Authorization header or a client token', async () => {
    expect(() => createAuthn({ url: server.running.url!, mode: 'browser', tokenStore: memoryTokenStore() })).toThrow(/tokenStore/);
    const recorder = recordingFetch();
    const authn = sdk({ mode: 'browser', fetch: recorder.fetch });
    expect((await authn.getEnvironment()).error).toBeNull();
    // Without the cookie support of the browser FAPI, the server refuses; the SDK still sent no token.
    const refused = await authn.signUp.create({ phoneNumber: nextNumber() });
    expect(refused.error?.code).toMatch(/^client_token_/);
    expect(recorder.calls.length).toBeGreaterThan(1);
    for (const call of recorder.calls) {
      expect(call.init?.credentials).toBe('include');
      expect(new Headers(call.init?.headers).get('authorization')).toBeNull();
    }
  });

  it('programmer errors throw; a server out of reach is a network_error value', async () => {
    const authn = sdk();
    await expect(authn.signIn.phoneCode.verifyCode({ code: '123456' })).rejects.toThrow(/signIn.phoneCode.sendCode/);
    await expect(authn.signUp.verifications.sendPhoneCode()).rejects.toThrow(/signUp.create/);
    await expect(authn.signIn.mfa.verifyPhoneCode({ code: '123456' })).rejects.toThrow(/signIn/);
    expect(() => createAuthn({ url: '' })).toThrow(/url/);
    const offline = createAuthn({ url: 'http://127.0.0.1:9', mode: 'native' });
    expect((await offline.getEnvironment()).error).toMatchObject({ code: 'network_error', status: 0 });
  });
});
