/**
 * `allowed_origins` in the instance settings, on SQLite and PostgreSQL: validation (a refused PATCH changes
 * nothing), the audit entry, clearing with null, and the env bootstrap (`AUTHN_ALLOWED_ORIGINS`).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { StartupError } from '../../src/errors.js';
import { STORES, createTestStore, startTestServer, useTestServer, type TestServer, type TestStore } from '../helpers/server.js';

describe.each(STORES)('allowed_origins on %s', (kind) => {
  const ctx = useTestServer(kind);

  async function state() {
    return {
      view: (await ctx.server.bapi('GET', '/v1/instance')).json(),
      current: structuredClone(await ctx.server.running.services.instance.current()),
      audit: (await ctx.server.bapi('GET', '/v1/audit_logs?limit=500')).json().data.length,
    };
  }

  it('is empty by default', async () => {
    expect((await ctx.server.bapi('GET', '/v1/instance')).json().allowed_origins).toEqual([]);
  });

  it.each([
    ['a trailing slash', 'https://app.example.com/', 'is not an origin'],
    ['a path', 'https://app.example.com/login', 'is not an origin'],
    ['a query', 'https://app.example.com?x=1', 'is not an origin'],
    ['credentials', 'https://user:pw@app.example.com', 'is not an origin'],
    ['no scheme', 'app.example.com', 'is not an origin'],
    ['upper case', 'https://App.Example.com', 'https://app.example.com'],
    ['the default port', 'https://app.example.com:443', 'https://app.example.com'],
    ['plain http on a public host', 'http://app.example.com', 'must use https'],
    ['another scheme', 'ftp://app.example.com', 'must use https'],
    ['a wildcard', 'https://*.example.com', 'wildcard'],
    ['a bare wildcard', '*', 'wildcard'],
    ['the null origin', 'null', 'is not an origin'],
    ['an empty string', '', 'is not an origin'],
  ])('refuses %s with the entry named, and changes nothing', async (_name, origin, message) => {
    const before = await state();
    const res = await ctx.server.bapi('PATCH', '/v1/instance', {
      allowed_origins: ['https://ok.example.com', origin],
      test_mode: 'enabled',
    });
    expect(res.statusCode, res.body).toBe(422);
    const [error, ...rest] = res.json().errors;
    expect(rest).toEqual([]);
    expect(error).toMatchObject({ code: 'form_param_value_invalid', meta: { param_name: 'allowed_origins' } });
    expect(error.long_message).toContain('entry 2');
    expect(error.long_message).toContain(message);
    expect(await state()).toEqual(before);
  });

  it.each([
    [
      'a repeated origin',
      { allowed_origins: ['https://app.example.com', 'https://app.example.com'] },
      'form_param_value_invalid',
      'repeats entry 1',
    ],
    [
      'more than 100 origins',
      { allowed_origins: Array.from({ length: 101 }, (_, i) => `https://app${i}.example.com`) },
      'form_param_format_invalid',
      '',
    ],
    ['a non-string', { allowed_origins: [42] }, 'form_param_type_invalid', ''],
    ['a string instead of a list', { allowed_origins: 'https://app.example.com' }, 'form_param_type_invalid', ''],
  ])('refuses %s and changes nothing', async (_name, patch, code, message) => {
    const before = await state();
    const res = await ctx.server.bapi('PATCH', '/v1/instance', patch);
    expect(res.statusCode, res.body).toBe(422);
    expect(res.json().errors[0].code).toBe(code);
    expect(res.json().errors[0].meta.param_name).toMatch(/^allowed_origins/);
    expect(res.json().errors[0].long_message).toContain(message);
    expect(await state()).toEqual(before);
  });

  it('accepts https origins, ports, IP addresses and http on loopback; audits the change; null clears it', async () => {
    const origins = [
      'https://app.example.com',
      'https://app.example.com:8443',
      'http://localhost:5173',
      'http://127.0.0.1:8080',
      'http://[::1]:3000',
      'http://app.localhost',
      'https://203.0.113.9',
    ];
    const res = await ctx.server.bapi('PATCH', '/v1/instance', { allowed_origins: origins });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().allowed_origins).toEqual(origins);
    expect((await ctx.server.running.services.instance.current()).allowed_origins).toEqual(origins);
    const entry = (await ctx.server.bapi('GET', '/v1/audit_logs?action=instance.updated&limit=1')).json().data[0];
    expect(entry.actor).toEqual({ type: 'secret_key', id: expect.stringMatching(/^sk_/) });
    expect(entry.data.changes).toEqual([{ path: 'allowed_origins', old: [], new: origins }]);

    const cleared = await ctx.server.bapi('PATCH', '/v1/instance', { allowed_origins: null });
    expect(cleared.json().allowed_origins).toEqual([]);
    const last = (await ctx.server.bapi('GET', '/v1/audit_logs?action=instance.updated&limit=1')).json().data[0];
    expect(last.data.changes).toEqual([{ path: 'allowed_origins', old: origins, new: [] }]);
  });
});

describe.each(STORES)('AUTHN_ALLOWED_ORIGINS bootstrap on %s', (kind) => {
  let store: TestStore | undefined;
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    await store?.cleanup();
    server = undefined;
    store = undefined;
  });

  it('seeds the list on the first start (comma-separated, spaces ignored), then only warns when it differs', async () => {
    store = await createTestStore(kind);
    server = await startTestServer(store, { env: { AUTHN_ALLOWED_ORIGINS: ' https://app.example.com , http://localhost:5173' } });
    expect((await server.bapi('GET', '/v1/instance')).json().allowed_origins).toEqual(['https://app.example.com', 'http://localhost:5173']);
    const audit = (await server.bapi('GET', '/v1/audit_logs?action=instance.bootstrapped')).json().data;
    expect(audit[0].data.changes).toContainEqual({
      path: 'allowed_origins',
      old: [],
      new: ['https://app.example.com', 'http://localhost:5173'],
    });

    await server.close();
    server = await startTestServer(store, { env: { AUTHN_ALLOWED_ORIGINS: 'https://app.example.com,http://localhost:5173' } });
    expect(server.logs.join('')).not.toContain('differs from the stored setting');

    await server.close();
    server = await startTestServer(store, { env: { AUTHN_ALLOWED_ORIGINS: 'https://other.example.com' } });
    expect((await server.bapi('GET', '/v1/instance')).json().allowed_origins).toEqual(['https://app.example.com', 'http://localhost:5173']);
    const warnings = server.logs.filter((l) => l.includes('"level":40') && l.includes('differs from the stored setting'));
    expect(warnings.map((l) => JSON.parse(l).variable)).toEqual(['AUTHN_ALLOWED_ORIGINS']);
  });

  it('an invalid list stops the first start, names the variable and seeds nothing', async () => {
    store = await createTestStore(kind);
    const error = await startTestServer(store, { env: { AUTHN_ALLOWED_ORIGINS: 'https://app.example.com,https://*.example.com' } }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StartupError);
    expect((error as Error).message).toContain('AUTHN_ALLOWED_ORIGINS');
    expect((error as Error).message).toContain('wildcard');
    server = await startTestServer(store);
    expect((await server.bapi('GET', '/v1/instance')).json().allowed_origins).toEqual([]);
  });
});
