/** Every BAPI route refuses a missing, malformed, unknown or revoked key; FAPI routes need none. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecretKey } from '../../src/auth/secret-keys.js';
import { SYSTEM_ACTOR } from '../../src/audit/audit-log.js';
import { STORES, createTestStore, startTestServer, type TestServer, type TestStore } from '../helpers/server.js';

describe.each(STORES)('BAPI authentication on %s', (kind) => {
  let store: TestStore;
  let server: TestServer;
  let revokedKey: string;

  beforeAll(async () => {
    store = await createTestStore(kind);
    server = await startTestServer(store);
    const { key, secretKey } = await server.running.services.secretKeys.create({ kind: 'live', actor: SYSTEM_ACTOR });
    await server.running.services.secretKeys.revoke(secretKey.id, SYSTEM_ACTOR);
    revokedKey = key;
  });
  afterAll(async () => {
    await server?.close();
    await store?.cleanup();
  });

  const bapiRoutes = () => server.running.app.routeTable.filter((r) => r.tags.includes('BAPI'));
  const concrete = (url: string) => url.replace(/:(\w+)/g, 'x_$1');

  it('knows its BAPI routes', () => {
    expect(bapiRoutes().map((r) => `${r.method} ${r.url}`)).toEqual(
      expect.arrayContaining(['GET /v1/instance', 'PATCH /v1/instance', 'GET /v1/audit_logs']),
    );
  });

  it.each([
    ['no Authorization header', undefined, 'authorization_header_missing'],
    ['an empty header', '', 'authorization_header_missing'],
    ['a non-bearer scheme', 'Basic dXNlcjpwYXNz', 'authorization_header_malformed'],
    ['a malformed key', 'Bearer sk_live_tooshort', 'authorization_header_malformed'],
    ['a publishable-looking key', 'Bearer pk_live_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'authorization_header_malformed'],
    ['an unknown key', () => `Bearer ${generateSecretKey('live')}`, 'secret_key_invalid'],
    ['a revoked key', () => `Bearer ${revokedKey}`, 'secret_key_invalid'],
  ])('refuses %s on every BAPI route', async (_name, header, code) => {
    const before = (await server.bapi('GET', '/v1/audit_logs?limit=500')).json().data.length;
    for (const route of bapiRoutes()) {
      const authorization = typeof header === 'function' ? header() : header;
      const res = await server.inject({
        method: route.method as 'GET',
        url: concrete(route.url),
        headers: { ...(authorization !== undefined ? { authorization } : {}), 'content-type': 'application/json' },
        ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { payload: '{"test_mode":"enabled"}' }),
      });
      expect(res.statusCode, `${route.method} ${route.url}`).toBe(401);
      expect(res.json().errors[0].code, `${route.method} ${route.url}`).toBe(code);
    }
    // Nothing changed anywhere.
    expect((await server.bapi('GET', '/v1/instance')).json().test_mode).toBe('disabled');
    expect((await server.bapi('GET', '/v1/audit_logs?limit=500')).json().data.length).toBe(before);
  });

  it('never echoes the presented key', async () => {
    const key = generateSecretKey('live');
    const res = await server.inject({ method: 'GET', url: '/v1/instance', headers: { authorization: `Bearer ${key}` } });
    expect(res.body).not.toContain(key);
    expect(server.logs.join('')).not.toContain(key);
  });

  it('FAPI routes answer without a key (those of a client or a signed-in user ask for their own token)', async () => {
    const doc = (await server.inject({ method: 'GET', url: '/v1/openapi.json' })).json();
    const fapi = server.running.app.routeTable.filter((r) => r.tags.includes('FAPI') && r.method === 'GET' && !r.url.includes(':'));
    expect(fapi.length).toBeGreaterThan(0);
    for (const route of fapi) {
      const res = await server.inject({ method: 'GET', url: route.url });
      const security = doc.paths[route.url].get.security as Record<string, unknown>[] | undefined;
      if (!security) {
        expect(res.statusCode, route.url).toBe(200);
        continue;
      }
      expect(res.statusCode, route.url).toBe(401);
      expect(res.json().errors[0].code, route.url).toBe(
        security.some((s) => 'clientToken' in s) ? 'client_token_missing' : 'session_token_missing',
      );
    }
  });

  it('names the key a request is made with: the id its audit entries carry, and its hint', async () => {
    const { key, secretKey } = await server.running.services.secretKeys.create({ kind: 'live', name: 'dashboard', actor: SYSTEM_ACTOR });
    const res = await server.inject({ method: 'GET', url: '/v1/secret_keys/current', headers: { authorization: `Bearer ${key}` } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      object: 'secret_key',
      id: secretKey.id,
      kind: 'live',
      name: 'dashboard',
      hint: `sk_live_…${key.slice(-4)}`,
      created_at: secretKey.created_at,
      revoked_at: null,
    });
    expect(res.body).not.toContain(key);
    // The id is the actor of what the key does.
    await server.inject({
      method: 'PATCH',
      url: '/v1/instance',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      payload: '{"app_name":"Acme"}',
    });
    expect((await server.bapi('GET', '/v1/audit_logs?action=instance.updated&limit=1')).json().data[0].actor).toEqual({
      type: 'secret_key',
      id: secretKey.id,
    });
    await server.bapi('PATCH', '/v1/instance', { app_name: 'authn.sh' });
  });

  it('a test key (sk_test_) works like a live one', async () => {
    expect(server.key.startsWith('sk_test_')).toBe(true);
    expect((await server.bapi('GET', '/v1/instance')).statusCode).toBe(200);
  });
});
