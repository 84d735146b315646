/**
 * Abuse limits: sends per number and per IP, destination countries, the hourly budget. Each refusal is a 429
 * or 422 with its code (and Retry-After where waiting helps), sends nothing and changes nothing; reaching a
 * limit is audited and announced once per window. Limits hold across server processes: on one PostgreSQL
 * database, and through Redis.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { STORES, createTestStore, rowCount, startTestServer, type TestServer, type TestStore } from '../helpers/server.js';
import {
  Fapi,
  useAuthServer,
  auditActions,
  eventTypes,
  expectError,
  numbers,
  patchSettings,
  snapshot,
  testNumber,
} from '../auth/helpers.js';
import { ManualClock } from '../helpers/clock.js';
import type { LightMyRequestResponse } from 'fastify';

// Every sign-up of these tests starts from one address: new sign-ups are not what they limit.
const DEFAULT_ABUSE = {
  sends_per_phone_number: null,
  sends_per_ip: null,
  attempts_per_ip: null,
  creates_per_ip: { max: 1_000 },
  hourly_send_budget: null,
  sms_countries: null,
};

describe.each(STORES)('abuse limits on %s', (kind) => {
  let server!: TestServer;
  let fapi!: Fapi;
  const clock = new ManualClock();
  const nextNumber = numbers();
  let ipCounter = 0;
  /** A fresh address per test, so the per-IP counters of one test do not reach the next. */
  let ip = '';

  useAuthServer(
    kind,
    async (s, f) => {
      server = s;
      fapi = f;
      await patchSettings(server, { abuse: DEFAULT_ABUSE });
    },
    { clock, liftIpLimit: false },
  );
  afterEach(async () => {
    await patchSettings(server, { abuse: DEFAULT_ABUSE });
  });

  /** A sign-up of `phone` asking for a code. */
  async function requestCode(phone: string, from = ip) {
    const { id, res } = await fapi.signUp(phone);
    expect(res.statusCode, res.body).toBe(201);
    return fapi.call('POST', `/v1/client/sign_ups/${id}/prepare_verification`, { strategy: 'phone_code' }, { ip: from });
  }

  async function expectRefused(send: () => Promise<LightMyRequestResponse>, status: number, code: string) {
    const before = await snapshot(server);
    const res = await send();
    expectError(res as never, status, code);
    expect(await snapshot(server)).toEqual(before);
    return res;
  }

  const fresh = () => {
    ip = `198.51.100.${++ipCounter}`;
  };

  it('limits codes per number (whatever the address), with Retry-After, audited once per window', async () => {
    fresh();
    await patchSettings(server, { abuse: { sends_per_phone_number: { max: 2, window_seconds: 600 } } });
    const phone = nextNumber();
    expect((await requestCode(phone, '198.51.100.200')).statusCode).toBe(200);
    clock.advance(30_000);
    expect((await requestCode(phone, '198.51.100.201')).statusCode).toBe(200);
    clock.advance(30_000);
    const refused = await expectRefused(() => requestCode(phone, '198.51.100.202'), 429, 'phone_number_send_limit_reached');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(500);
    clock.advance(30_000);
    await expectRefused(() => requestCode(phone, '198.51.100.203'), 429, 'phone_number_send_limit_reached');

    const reached = (await auditActions(server, 'abuse.')).filter((a) => a.data.key === phone);
    expect(reached).toEqual([
      {
        action: 'abuse.limit_reached',
        data: expect.objectContaining({ limit: 'sends_per_phone_number', key: phone, max: 2, window_seconds: 600 }),
      },
    ]);
    expect(await eventTypes(server)).toContain('abuse.limit_reached');
  });

  it('limits codes per address; other addresses are not affected', async () => {
    fresh();
    await patchSettings(server, { abuse: { sends_per_ip: { max: 2, window_seconds: 600 } } });
    expect((await requestCode(nextNumber())).statusCode).toBe(200);
    expect((await requestCode(nextNumber())).statusCode).toBe(200);
    const refused = await expectRefused(() => requestCode(nextNumber()), 429, 'ip_send_limit_reached');
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    expect((await requestCode(nextNumber(), '198.51.100.250')).statusCode).toBe(200);
    expect((await auditActions(server, 'abuse.')).filter((a) => a.data.key === ip)).toHaveLength(1);
  });

  it('limits answers per address across sign-ups and sign-ins, right or wrong; a refusal changes nothing', async () => {
    fresh();
    await patchSettings(server, { abuse: { attempts_per_ip: { max: 3, window_seconds: 300 } } });
    const [a, b] = [nextNumber(), nextNumber()];
    const prepared: Record<string, string> = {};
    for (const phone of [a, b]) {
      const { id } = await fapi.signUp(phone);
      expect(
        (await fapi.call('POST', `/v1/client/sign_ups/${id}/prepare_verification`, { strategy: 'phone_code' }, { ip })).statusCode,
      ).toBe(200);
      prepared[phone] = id;
    }
    const attempt = (phone: string, code: string, from = ip) =>
      fapi.call('POST', `/v1/client/sign_ups/${prepared[phone]}/attempt_verification`, { strategy: 'phone_code', code }, { ip: from });
    const codeB = await fapi.lastCode(b);
    expectError(await attempt(a, Fapi.wrong(await fapi.lastCode(a))), 422, 'form_code_incorrect');
    expectError(await attempt(b, Fapi.wrong(codeB)), 422, 'form_code_incorrect');
    expect((await attempt(a, await fapi.lastCode(a))).statusCode).toBe(200);

    // The fourth answer from this address: refused before it is looked at, even though it is right.
    const challengeB = () =>
      server.running.services.store.db
        .selectFrom('challenges')
        .select(['attempts', 'status'])
        .where('phone_number', '=', b)
        .executeTakeFirstOrThrow();
    const challengeBefore = await challengeB();
    const refused = await expectRefused(() => attempt(b, codeB), 429, 'ip_attempt_limit_reached');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(await challengeB()).toEqual(challengeBefore);
    // Passwords count as answers too.
    expectError(
      await fapi.call('POST', '/v1/client/sign_ins', { identifier: a, password: 'correct horse battery staple' }, { ip }),
      429,
      'ip_attempt_limit_reached',
    );
    // Another address is not affected; the limit is audited once for this one.
    expect((await attempt(b, codeB, '198.51.100.251')).statusCode).toBe(200);
    expect((await auditActions(server, 'abuse.')).filter((x) => x.data.key === ip)).toEqual([
      { action: 'abuse.limit_reached', data: expect.objectContaining({ limit: 'attempts_per_ip', key: ip, max: 3, window_seconds: 300 }) },
    ]);
  });

  it('counts answers on every route that takes one: sign-in first and second factor, MFA enrolment', async () => {
    // Set up from the suite's usual address, before the limit is lowered: a user with a password and a phone
    // second factor, and a second enrolment waiting for its code.
    const [phone, mfa, another] = [nextNumber(), nextNumber(), nextNumber()];
    const password = 'a long enough passphrase';
    const { jwt } = await fapi.signedUpUser(phone, { password });
    const enrol = async (number: string) => {
      const { id } = (await fapi.call('POST', '/v1/me/mfa/phone_numbers', { phone_number: number }, { auth: jwt })).json();
      expect(
        (await fapi.call('POST', `/v1/me/mfa/phone_numbers/${id}/prepare_verification`, { strategy: 'phone_code' }, { auth: jwt }))
          .statusCode,
      ).toBe(200);
      return id as string;
    };
    const enrolled = await enrol(mfa);
    expect(
      (
        await fapi.call(
          'POST',
          `/v1/me/mfa/phone_numbers/${enrolled}/attempt_verification`,
          { strategy: 'phone_code', code: await fapi.lastCode(mfa) },
          { auth: jwt },
        )
      ).statusCode,
    ).toBe(200);
    const waiting = await enrol(another);
    await patchSettings(server, { abuse: { attempts_per_ip: { max: 1, window_seconds: 300 } } });
    const twice = async (answer: (from: string) => Promise<{ statusCode: number; body: string }>, from: string) => {
      expectError((await answer(from)) as never, 422, 'form_code_incorrect');
      await expectRefused(() => answer(from) as never, 429, 'ip_attempt_limit_reached');
    };

    // MFA enrolment.
    const wrongEnrolCode = Fapi.wrong(await fapi.lastCode(another));
    await twice(
      (from) =>
        fapi.call(
          'POST',
          `/v1/me/mfa/phone_numbers/${waiting}/attempt_verification`,
          { strategy: 'phone_code', code: wrongEnrolCode },
          { auth: jwt, ip: from },
        ),
      '198.51.100.241',
    );

    // Sign-in by phone code.
    const byCode = (await fapi.call('POST', '/v1/client/sign_ins', { identifier: phone }, { ip: '198.51.100.242' })).json();
    expect(
      (
        await fapi.call(
          'POST',
          `/v1/client/sign_ins/${byCode.id}/prepare_first_factor`,
          { strategy: 'phone_code' },
          { ip: '198.51.100.242' },
        )
      ).statusCode,
    ).toBe(200);
    const wrongSignInCode = Fapi.wrong(await fapi.lastCode(phone));
    await twice(
      (from) =>
        fapi.call(
          'POST',
          `/v1/client/sign_ins/${byCode.id}/attempt_first_factor`,
          { strategy: 'phone_code', code: wrongSignInCode },
          { ip: from },
        ),
      '198.51.100.242',
    );

    // Password, then the second factor: the password was this address's one answer.
    const byPassword = await fapi.call('POST', '/v1/client/sign_ins', { identifier: phone, password }, { ip: '198.51.100.243' });
    expect(byPassword.json().status).toBe('needs_second_factor');
    const signInId = byPassword.json().id;
    expect(
      (
        await fapi.call(
          'POST',
          `/v1/client/sign_ins/${signInId}/prepare_second_factor`,
          { strategy: 'phone_code' },
          { ip: '198.51.100.243' },
        )
      ).statusCode,
    ).toBe(200);
    await expectRefused(
      () =>
        fapi.call(
          'POST',
          `/v1/client/sign_ins/${signInId}/attempt_second_factor`,
          { strategy: 'phone_code', code: Fapi.wrong('000000') },
          { ip: '198.51.100.243' },
        ),
      429,
      'ip_attempt_limit_reached',
    );
  });

  it('limits new clients, sign-ups and sign-ins per address, before any work is done; a refusal changes nothing', async () => {
    fresh();
    const known = nextNumber();
    // A user to sign in as (made before the limit is lowered).
    await fapi.signedUpUser(known);
    await patchSettings(server, { abuse: { creates_per_ip: { max: 3, window_seconds: 60 } } });
    expect((await fapi.call('POST', '/v1/client', undefined, { auth: null, ip })).statusCode).toBe(201);
    expect(
      (await fapi.call('POST', '/v1/client/sign_ups', { phone_number: nextNumber(), password: 'a long enough passphrase' }, { ip }))
        .statusCode,
    ).toBe(201);
    expect((await fapi.call('POST', '/v1/client/sign_ins', { identifier: known }, { ip })).statusCode).toBe(201);

    const rows = async () => ({
      clients: await rowCount(server, 'clients'),
      sign_ups: await rowCount(server, 'sign_ups'),
      sign_ins: await rowCount(server, 'sign_ins'),
    });
    const before = await rows();
    const refusedClient = await expectRefused(
      () => fapi.call('POST', '/v1/client', undefined, { auth: null, ip }),
      429,
      'ip_create_limit_reached',
    );
    expect(Number(refusedClient.headers['retry-after'])).toBeGreaterThan(0);
    expect(refusedClient.json().token).toBeUndefined();
    await expectRefused(
      () => fapi.call('POST', '/v1/client/sign_ups', { phone_number: nextNumber(), password: 'a long enough passphrase' }, { ip }),
      429,
      'ip_create_limit_reached',
    );
    await expectRefused(
      () => fapi.call('POST', '/v1/client/sign_ins', { identifier: known, password: 'a long enough passphrase' }, { ip }),
      429,
      'ip_create_limit_reached',
    );
    expect(await rows()).toEqual(before);
    // Another address is not affected; the limit is audited once for this one.
    expect((await fapi.call('POST', '/v1/client/sign_ins', { identifier: known }, { ip: '198.51.100.252' })).statusCode).toBe(201);
    expect((await auditActions(server, 'abuse.')).filter((x) => x.data.key === ip)).toEqual([
      { action: 'abuse.limit_reached', data: expect.objectContaining({ limit: 'creates_per_ip', key: ip, max: 3, window_seconds: 60 }) },
    ]);
  });

  it('sends only to allowed countries: US and CA by default', async () => {
    fresh();
    const gb = '+447400123456';
    await expectRefused(() => fapi.signUp(gb).then((r) => r.res), 422, 'phone_country_not_allowed');
    expect((await requestCode('+16135550123')).statusCode).toBe(200);
    await patchSettings(server, { abuse: { sms_countries: { countries: ['US', 'CA', 'GB'] } } });
    expect((await requestCode(gb)).statusCode).toBe(200);
  });

  it('a deny list blocks only its countries; a country blocked after sign-up stops the send', async () => {
    fresh();
    const { id } = await fapi.signUp('+12025550123');
    await patchSettings(server, { abuse: { sms_countries: { mode: 'deny', countries: ['US'] } } });
    await expectRefused(
      () => fapi.call('POST', `/v1/client/sign_ups/${id}/prepare_verification`, { strategy: 'phone_code' }, { ip }),
      422,
      'phone_country_not_allowed',
    );
    expect((await requestCode('+33612345678')).statusCode).toBe(200);
    // Test-range numbers are never sent, so no list stops them.
    expect((await requestCode(testNumber(1))).statusCode).toBe(200);
  });

  it('stops sending once the hourly budget is spent, audits it, and leaves test numbers alone', async () => {
    fresh();
    // Earlier tests spent some of the budget: set it to what is spent plus two.
    const spent =
      (
        await server.running.services.store.db
          .selectFrom('rate_limits')
          .select('points')
          .where('key', '=', 'hourly_send_budget:instance')
          .executeTakeFirst()
      )?.points ?? 0;
    await patchSettings(server, { abuse: { hourly_send_budget: spent + 2 } });
    expect((await requestCode(nextNumber())).statusCode).toBe(200);
    expect((await requestCode(nextNumber())).statusCode).toBe(200);
    const refused = await expectRefused(() => requestCode(nextNumber()), 429, 'sms_send_budget_exhausted');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    await expectRefused(() => requestCode(nextNumber()), 429, 'sms_send_budget_exhausted');
    expect((await auditActions(server, 'abuse.')).filter((a) => a.data.limit === 'hourly_send_budget')).toHaveLength(1);
    expect((await requestCode(testNumber(2))).statusCode).toBe(200);
  });

  it('test numbers skip the per-number and per-IP limits (they are never sent)', async () => {
    fresh();
    await patchSettings(server, {
      abuse: { sends_per_phone_number: { max: 1, window_seconds: 600 }, sends_per_ip: { max: 1, window_seconds: 600 } },
    });
    for (let i = 10; i < 13; i++) {
      expect((await requestCode(testNumber(i))).statusCode).toBe(200);
      clock.advance(30_000);
      expect((await requestCode(testNumber(i))).statusCode).toBe(200);
    }
  });
});

describe.each([
  { trustProxy: undefined, key: (peer: string) => peer },
  { trustProxy: '1', key: (_peer: string, forwarded: string) => forwarded },
])('the address the per-IP limit counts, AUTHN_TRUST_PROXY=$trustProxy', ({ trustProxy, key }) => {
  let server!: TestServer;
  let fapi!: Fapi;
  const nextNumber = numbers(700);
  useAuthServer(
    'sqlite',
    (s, f) => {
      server = s;
      fapi = f;
    },
    { liftIpLimit: false, env: trustProxy ? { AUTHN_TRUST_PROXY: trustProxy } : {} },
  );

  it('is the forwarded client only when the proxy in front is trusted', async () => {
    await patchSettings(server, { abuse: { sends_per_ip: { max: 1, window_seconds: 600 } } });
    const peer = '10.1.2.3';
    // A client that names its own address (198.51.100.66) when it reaches the proxy: only the last hop counts.
    const viaProxy = (client: string) => ({ ip: peer, headers: { 'x-forwarded-for': `198.51.100.66, ${client}` } });
    const requestCode = async (client: string) => {
      const { id } = await fapi.signUp(nextNumber());
      return fapi.call('POST', `/v1/client/sign_ups/${id}/prepare_verification`, { strategy: 'phone_code' }, viaProxy(client));
    };
    expect((await requestCode('192.0.2.10')).statusCode).toBe(200);
    const second = await requestCode('192.0.2.11');
    const third = await requestCode('192.0.2.10');
    if (trustProxy) {
      // Two clients behind one proxy: each has its own count.
      expect(second.statusCode, second.body).toBe(200);
      expectError(third, 429, 'ip_send_limit_reached');
    } else {
      // X-Forwarded-For is anyone's to write: without a trusted proxy it is ignored, and the peer is counted.
      expectError(second, 429, 'ip_send_limit_reached');
      expectError(third, 429, 'ip_send_limit_reached');
    }
    const created = await server.running.services.store.db
      .selectFrom('audit_logs')
      .select('data')
      .where('action', '=', 'challenge.created')
      .orderBy('id')
      .executeTakeFirstOrThrow();
    expect(JSON.parse(created.data)).toMatchObject({ ip: key(peer, '192.0.2.10') });
    const reached = (await auditActions(server, 'abuse.')).map((a) => a.data.key);
    expect(reached).toEqual([key(peer, '192.0.2.10')]);
    // Without a trusted proxy, the log says once that requests came through one.
    const warnings = server.logs.filter((line) => line.includes('AUTHN_TRUST_PROXY is not set'));
    expect(warnings).toHaveLength(trustProxy ? 0 : 1);
    if (!trustProxy) expect(JSON.parse(warnings[0]!)).toMatchObject({ level: 40, peer });
  });
});

describe('limits shared by two server processes on one PostgreSQL database', () => {
  let store: TestStore;
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    store = await createTestStore('postgres');
    a = await startTestServer(store);
    b = await startTestServer(store);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await store?.cleanup();
  });

  it('counts sends to one address on either server', async () => {
    await patchSettings(a, { abuse: { sends_per_ip: { max: 2, window_seconds: 600 } } });
    const next = numbers(500);
    const viaA = await new Fapi(a).start();
    const viaB = await new Fapi(b).start();
    const send = async (fapi: Fapi) => {
      const { id } = await fapi.signUp(next());
      return fapi.call('POST', `/v1/client/sign_ups/${id}/prepare_verification`, { strategy: 'phone_code' }, { ip: '192.0.2.9' });
    };
    // b reads the settings a wrote once its cached copy is a second old.
    await new Promise((r) => setTimeout(r, 1_100));
    expect((await send(viaA)).statusCode).toBe(200);
    expect((await send(viaB)).statusCode).toBe(200);
    expectError(await send(viaA), 429, 'ip_send_limit_reached');
    expectError(await send(viaB), 429, 'ip_send_limit_reached');
  });
});

describe('limits kept in Redis (AUTHN_REDIS_URL), shared by two servers', () => {
  const REDIS_URL = 'redis://127.0.0.1:6379/7';
  let stores: TestStore[] = [];
  let servers: TestServer[] = [];
  beforeAll(async () => {
    const redis = new Redis(REDIS_URL);
    await redis.flushdb();
    await redis.quit();
    stores = [await createTestStore('sqlite'), await createTestStore('sqlite')];
    servers = await Promise.all(stores.map((s) => startTestServer(s, { env: { AUTHN_REDIS_URL: REDIS_URL } })));
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
    for (const s of stores) await s.cleanup();
  });

  it('counts sends to one number on either server', async () => {
    for (const server of servers) await patchSettings(server, { abuse: { sends_per_phone_number: { max: 1, window_seconds: 600 } } });
    const phone = '+12125550100';
    const send = async (server: TestServer) => {
      const fapi = await new Fapi(server).start();
      const { id } = await fapi.signUp(phone);
      return fapi.call('POST', `/v1/client/sign_ups/${id}/prepare_verification`, { strategy: 'phone_code' });
    };
    expect((await send(servers[0]!)).statusCode).toBe(200);
    const before = await snapshot(servers[1]!);
    expectError(await send(servers[1]!), 429, 'phone_number_send_limit_reached');
    expect(await snapshot(servers[1]!)).toEqual(before);
  });
});
