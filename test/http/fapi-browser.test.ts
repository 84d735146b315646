/**
 * The FAPI from a browser, through the real HTTP stack on SQLite and PostgreSQL: CORS for allowed origins only,
 * preflights, the CSRF refusal of other origins (nothing changes), the client cookie (browser mode) against the
 * bearer token (native mode), sign-out clearing the cookie, and the faces that never answer cross-origin.
 */
import type { LightMyRequestResponse } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_COOKIE } from '../../src/http/fapi/browser.js';
import { STORES, rowCount, type TestServer } from '../helpers/server.js';
import { type Fapi, expectError, patchSettings, snapshot, testNumber, useAuthServer } from '../auth/helpers.js';

const APP = 'https://app.example.com';
const DEV = 'http://localhost:5173';
const EVIL = 'https://evil.example.com';

/** The cookie a response sets, as its attributes (lower-cased names; the first entry is the cookie itself). */
function setCookie(res: LightMyRequestResponse): Map<string, string> | null {
  const header = res.headers['set-cookie'];
  if (header === undefined) return null;
  const values = [header].flat();
  expect(values).toHaveLength(1);
  const parts = values[0]!.split(';').map((p) => p.trim());
  const [name, ...value] = parts[0]!.split('=');
  const attributes = new Map<string, string>([
    ['name', name!],
    ['value', value.join('=')],
  ]);
  for (const part of parts.slice(1)) {
    const [key, val] = part.split('=');
    attributes.set(key!.toLowerCase(), val ?? '');
  }
  return attributes;
}

const countClients = (server: TestServer) => rowCount(server, 'clients');

async function auditCount(server: TestServer): Promise<number> {
  return (await server.bapi('GET', '/v1/audit_logs?limit=500')).json().data.length;
}

describe.each(STORES)('FAPI in the browser on %s', (kind) => {
  let server: TestServer;
  let native: Fapi;
  useAuthServer(kind, async (s, f) => {
    server = s;
    native = f;
    await patchSettings(server, { allowed_origins: [APP, DEV], test_mode: 'enabled' });
  });

  /** A FAPI call from a page on `origin`, with the browser's cookie when given and no Authorization header. */
  const fromPage = (
    origin: string,
    method: 'GET' | 'POST' | 'DELETE' | 'OPTIONS',
    url: string,
    options: { body?: unknown; cookie?: string; headers?: Record<string, string> } = {},
  ) =>
    server.inject({
      method,
      url,
      remoteAddress: '203.0.113.7',
      headers: {
        origin,
        ...(options.cookie ? { cookie: `other=1; ${CLIENT_COOKIE}=${options.cookie}` } : {}),
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...options.headers,
      },
      ...(options.body !== undefined ? { payload: JSON.stringify(options.body) } : {}),
    });

  /** A browser client: POST /v1/client from an allowed page; returns the cookie's value. */
  async function browserClient(origin = APP): Promise<string> {
    const res = await fromPage(origin, 'POST', '/v1/client');
    expect(res.statusCode, res.body).toBe(201);
    return setCookie(res)!.get('value')!;
  }

  describe('CORS', () => {
    it('echoes an allowed origin with credentials, Vary: Origin and the exposed headers', async () => {
      for (const origin of [APP, DEV]) {
        const res = await fromPage(origin, 'GET', '/v1/environment');
        expect(res.statusCode).toBe(200);
        expect(res.headers['access-control-allow-origin']).toBe(origin);
        expect(res.headers['access-control-allow-credentials']).toBe('true');
        expect(res.headers.vary).toBe('Origin');
        expect(String(res.headers['access-control-expose-headers']).split(', ')).toEqual(
          expect.arrayContaining(['Retry-After', 'X-Request-Id']),
        );
      }
    });

    it('error answers to an allowed origin carry the CORS headers too (the SDK reads their codes and Retry-After)', async () => {
      const res = await fromPage(APP, 'GET', '/v1/client');
      expectError(res, 401, 'client_token_missing');
      expect(res.headers['access-control-allow-origin']).toBe(APP);
    });

    it('gives another origin, or none, no CORS header (and still Vary: Origin, for caches)', async () => {
      for (const origin of [EVIL, 'null', `${APP}:8443`, 'http://app.example.com', APP.toUpperCase()]) {
        const res = await fromPage(origin, 'GET', '/v1/environment');
        expect(res.statusCode, origin).toBe(200);
        expect(res.headers['access-control-allow-origin'], origin).toBeUndefined();
        expect(res.headers['access-control-allow-credentials'], origin).toBeUndefined();
        expect(res.headers.vary).toBe('Origin');
      }
      const bare = await server.inject({ method: 'GET', url: '/.well-known/jwks.json' });
      expect(bare.headers['access-control-allow-origin']).toBeUndefined();
      expect(bare.headers.vary).toBe('Origin');
    });

    it('answers the preflight of an allowed origin with the methods and headers the SDK uses', async () => {
      for (const [url, method] of [
        ['/v1/client', 'POST'],
        ['/v1/client/sign_ins/sia_x/attempt_first_factor', 'POST'],
        ['/v1/me/mfa/phone_numbers/idn_x', 'DELETE'],
        ['/v1/me', 'GET'],
        ['/v1/environment', 'GET'],
      ] as const) {
        const res = await fromPage(APP, 'OPTIONS', url, {
          headers: { 'access-control-request-method': method, 'access-control-request-headers': 'authorization,content-type' },
        });
        expect(res.statusCode, url).toBe(204);
        expect(res.headers['access-control-allow-origin'], url).toBe(APP);
        expect(res.headers['access-control-allow-credentials'], url).toBe('true');
        expect(String(res.headers['access-control-allow-methods']).split(', '), url).toContain(method);
        expect(String(res.headers['access-control-allow-headers']).toLowerCase().split(', '), url).toEqual(
          expect.arrayContaining(['authorization', 'content-type']),
        );
        expect(Number(res.headers['access-control-max-age'])).toBeGreaterThan(0);
        expect(res.headers.vary).toBe('Origin');
      }
    });

    it('refuses the preflight of any other origin', async () => {
      for (const origin of [EVIL, 'null']) {
        const res = await fromPage(origin, 'OPTIONS', '/v1/client/sign_ups', { headers: { 'access-control-request-method': 'POST' } });
        expectError(res, 403, 'origin_not_allowed');
        expect(res.headers['access-control-allow-origin']).toBeUndefined();
        expect(res.headers['access-control-allow-methods']).toBeUndefined();
      }
    });

    it('BAPI, carrier callbacks, /metrics, /healthz and the dashboard never answer cross-origin, even to an allowed origin', async () => {
      const withKey = { authorization: `Bearer ${server.key}` };
      const answers = [
        await fromPage(APP, 'OPTIONS', '/v1/instance', {
          headers: { 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'authorization' },
        }),
        await fromPage(APP, 'OPTIONS', '/v1/users', { headers: { 'access-control-request-method': 'GET' } }),
        await fromPage(APP, 'GET', '/v1/instance', { headers: withKey }),
        await fromPage(APP, 'GET', '/v1/users', { headers: withKey }),
        await fromPage(APP, 'OPTIONS', '/callbacks/twilio/status/msg_x', { headers: { 'access-control-request-method': 'POST' } }),
        await fromPage(APP, 'POST', '/callbacks/twilio/status/msg_x', { body: {} }),
        await fromPage(APP, 'GET', '/metrics'),
        await fromPage(APP, 'OPTIONS', '/metrics', { headers: { 'access-control-request-method': 'GET' } }),
        await fromPage(APP, 'GET', '/healthz'),
        await fromPage(APP, 'GET', '/dashboard'),
        await fromPage(APP, 'OPTIONS', '/dashboard', { headers: { 'access-control-request-method': 'GET' } }),
      ];
      expect(answers[2]!.statusCode).toBe(200);
      for (const res of answers) {
        expect(res.headers['access-control-allow-origin'], res.raw.req.url).toBeUndefined();
        expect(res.headers['access-control-allow-credentials'], res.raw.req.url).toBeUndefined();
      }
      // No preflight outside the FAPI succeeds.
      for (const res of answers.filter((r) => r.raw.req.method === 'OPTIONS'))
        expect(res.statusCode, res.raw.req.url).toBeGreaterThanOrEqual(400);
    });
  });

  describe('CSRF: a state-changing request from another origin', () => {
    it('is refused with origin_not_allowed and changes nothing: no client, no flow, no message, no audit entry', async () => {
      const clients = await countClients(server);
      const rows = await snapshot(server);
      const audit = await auditCount(server);
      const cookie = await browserClient();
      const after = await countClients(server);
      expect(after).toBe(clients + 1);

      const refusals = [
        await fromPage(EVIL, 'POST', '/v1/client'),
        // A simple request (text/plain), as a cross-site form or fetch without preflight would send it.
        await fromPage(EVIL, 'POST', '/v1/client/sign_ups', { cookie, headers: { 'content-type': 'text/plain' } }),
        await fromPage(EVIL, 'POST', '/v1/client/sign_ups', { cookie, body: { phone_number: testNumber(40) } }),
        // Even with the client's own bearer token: the page that sends it is not trusted.
        await fromPage('null', 'POST', '/v1/client/sign_ups', {
          headers: { authorization: `Bearer ${native.token}` },
          body: { phone_number: testNumber(41) },
        }),
        await fromPage(EVIL, 'DELETE', '/v1/me/mfa/phone_numbers/idn_x', { headers: { authorization: 'Bearer x' } }),
      ];
      for (const res of refusals) {
        expectError(res, 403, 'origin_not_allowed');
        expect(res.json().errors[0].long_message).toContain('allowed_origins');
        expect(res.headers['access-control-allow-origin']).toBeUndefined();
        expect(res.headers['set-cookie']).toBeUndefined();
      }
      expect(await countClients(server)).toBe(after);
      expect(await snapshot(server)).toEqual(rows);
      expect(await auditCount(server)).toBe(audit);
    });

    it('is documented on every FAPI route but the reads', async () => {
      const doc = (await server.inject({ method: 'GET', url: '/v1/openapi.json' })).json();
      expect(Object.keys(doc.paths['/v1/client'].post.responses)).toContain('403');
      expect(Object.keys(doc.paths['/v1/me/mfa/phone_numbers/{id}'].delete.responses)).toContain('403');
      expect(Object.keys(doc.paths['/v1/environment'].get.responses)).not.toContain('403');
    });

    it('is allowed from an allowed origin, and without any Origin (native apps and servers)', async () => {
      const cookie = await browserClient();
      const fromApp = await fromPage(APP, 'POST', '/v1/client/sign_ups', { cookie, body: { phone_number: testNumber(42) } });
      expect(fromApp.statusCode, fromApp.body).toBe(201);
      const fromNative = await native.call('POST', '/v1/client/sign_ups', { phone_number: testNumber(43) });
      expect(fromNative.statusCode, fromNative.body).toBe(201);
    });

    it('a removed origin is refused at once (the settings change applies to the next request)', async () => {
      await patchSettings(server, { allowed_origins: [APP] });
      try {
        expectError(await fromPage(DEV, 'POST', '/v1/client'), 403, 'origin_not_allowed');
        expect((await fromPage(APP, 'POST', '/v1/client')).statusCode).toBe(201);
      } finally {
        await patchSettings(server, { allowed_origins: [APP, DEV] });
      }
    });
  });

  describe('browser mode: the client cookie', () => {
    it('POST /v1/client from an allowed page sets an HttpOnly, Secure, SameSite=Strict, host-only cookie and leaves the token out of the body', async () => {
      const res = await fromPage(APP, 'POST', '/v1/client');
      expect(res.statusCode).toBe(201);
      const body = res.json();
      expect(Object.keys(body).sort()).toEqual(['created_at', 'id', 'object']);
      expect(res.body).not.toContain('ct_');
      const cookie = setCookie(res)!;
      expect(cookie.get('name')).toBe('__Host-authn_client');
      expect(cookie.get('value')).toMatch(/^ct_[A-Za-z0-9_-]{43}$/);
      expect(cookie.has('httponly')).toBe(true);
      expect(cookie.has('secure')).toBe(true);
      expect(cookie.get('samesite')).toBe('Strict');
      expect(cookie.get('path')).toBe('/');
      expect(cookie.has('domain')).toBe(false);
      expect(cookie.get('max-age')).toBe(String(7 * 24 * 3600));
    });

    it('POST /v1/client without an Origin (native mode) shows the token once and sets no cookie', async () => {
      const res = await server.inject({ method: 'POST', url: '/v1/client', remoteAddress: '203.0.113.7' });
      expect(res.statusCode).toBe(201);
      expect(res.json().token).toMatch(/^ct_/);
      expect(res.headers['set-cookie']).toBeUndefined();
    });

    it('the cookie carries the client through a whole sign-up, and each use renews it', async () => {
      const cookie = await browserClient();
      const phone = testNumber(44);
      const created = await fromPage(APP, 'POST', '/v1/client/sign_ups', { cookie, body: { phone_number: phone } });
      expect(created.statusCode, created.body).toBe(201);
      const renewed = setCookie(created)!;
      expect(renewed.get('value')).toBe(cookie);
      expect(renewed.get('max-age')).toBe(String(7 * 24 * 3600));
      const id = created.json().id;
      expect(
        (await fromPage(APP, 'POST', `/v1/client/sign_ups/${id}/prepare_verification`, { cookie, body: { strategy: 'phone_code' } }))
          .statusCode,
      ).toBe(200);
      const done = await fromPage(APP, 'POST', `/v1/client/sign_ups/${id}/attempt_verification`, {
        cookie,
        body: { strategy: 'phone_code', code: '424242' },
      });
      expect(done.statusCode, done.body).toBe(200);
      const sessionId = done.json().created_session_id;
      const state = await fromPage(APP, 'GET', '/v1/client', { cookie });
      expect(state.json().sessions.map((s: { id: string }) => s.id)).toEqual([sessionId]);
      const token = await fromPage(APP, 'POST', `/v1/client/sessions/${sessionId}/tokens`, { cookie });
      expect(token.statusCode).toBe(200);
      // Another client's cookie sees nothing of it.
      const other = await browserClient();
      expectError(await fromPage(APP, 'POST', `/v1/client/sessions/${sessionId}/tokens`, { cookie: other }), 404, 'resource_not_found');
    });

    it('an Authorization header wins over the cookie; an unknown cookie is client_token_invalid', async () => {
      const cookie = await browserClient();
      const res = await fromPage(APP, 'GET', '/v1/client', { cookie, headers: { authorization: `Bearer ${native.token}` } });
      expect(res.statusCode).toBe(200);
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(res.json().id).not.toBe((await fromPage(APP, 'GET', '/v1/client', { cookie })).json().id);
      expectError(await fromPage(APP, 'GET', '/v1/client', { cookie: `ct_${'A'.repeat(43)}` }), 401, 'client_token_invalid');
    });

    it('signing out of the last live session clears the cookie; signing out of one of two keeps it', async () => {
      const cookie = await browserClient();
      const viaCookie = (method: 'GET' | 'POST', url: string, body?: unknown) =>
        fromPage(APP, method, url, { cookie, ...(body !== undefined ? { body } : {}) });
      const signIn = async (phone: string) => {
        const created = await viaCookie('POST', '/v1/client/sign_ins', { identifier: phone });
        expect(created.statusCode, created.body).toBe(201);
        const id = created.json().id;
        await viaCookie('POST', `/v1/client/sign_ins/${id}/prepare_first_factor`, { strategy: 'phone_code' });
        const done = await viaCookie('POST', `/v1/client/sign_ins/${id}/attempt_first_factor`, { strategy: 'phone_code', code: '424242' });
        expect(done.statusCode, done.body).toBe(200);
        return done.json().session.id as string;
      };
      await native.signedUpUser(testNumber(45));
      await native.signedUpUser(testNumber(46));
      const first = await signIn(testNumber(45));
      const second = await signIn(testNumber(46));

      const endFirst = await viaCookie('POST', `/v1/client/sessions/${first}/end`);
      expect(endFirst.statusCode).toBe(200);
      expect(setCookie(endFirst)!.get('max-age')).toBe(String(7 * 24 * 3600));

      const endSecond = await viaCookie('POST', `/v1/client/sessions/${second}/end`);
      expect(endSecond.statusCode).toBe(200);
      expect(endSecond.json().status).toBe('ended');
      const cleared = setCookie(endSecond)!;
      expect(cleared.get('name')).toBe(CLIENT_COOKIE);
      expect(cleared.get('value')).toBe('');
      expect(cleared.get('max-age')).toBe('0');
      expect(cleared.has('secure') && cleared.has('httponly') && cleared.get('path') === '/').toBe(true);
    });

    it('native sign-out (bearer token) sets no cookie', async () => {
      const user = await native.signedUpUser(testNumber(47));
      const res = await native.call('POST', `/v1/client/sessions/${user.sessionId}/end`);
      expect(res.statusCode).toBe(200);
      expect(res.headers['set-cookie']).toBeUndefined();
    });
  });
});

describe.each(STORES)('FAPI with no allowed origin (the default) on %s', (kind) => {
  let server: TestServer;
  useAuthServer(kind, (s) => {
    server = s;
  });
  beforeAll(async () => {
    expect((await server.bapi('GET', '/v1/instance')).json().allowed_origins).toEqual([]);
  });

  it('no page may change anything, and native clients work as before', async () => {
    const clients = await countClients(server);
    const res = await server.inject({ method: 'POST', url: '/v1/client', headers: { origin: 'http://localhost:3000' } });
    expectError(res, 403, 'origin_not_allowed');
    expect(await countClients(server)).toBe(clients);
    const native = await server.inject({ method: 'POST', url: '/v1/client' });
    expect(native.statusCode).toBe(201);
  });
});
