/** The error envelope for every kind of client mistake; never a 500 for one. */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors.js';
import { useTestServer } from '../helpers/server.js';
import type { LightMyRequestResponse } from 'fastify';

describe('HTTP errors', () => {
  const ctx = useTestServer('sqlite', { env: { AUTHN_BODY_LIMIT_BYTES: '2048' } });

  const patch = (payload: string, contentType = 'application/json') =>
    ctx.server.inject({
      method: 'PATCH',
      url: '/v1/instance',
      headers: { authorization: `Bearer ${ctx.server.key}`, 'content-type': contentType },
      payload,
    });

  function expectEnvelope(res: LightMyRequestResponse, status: number, code: string) {
    expect(res.statusCode).toBe(status);
    const body = res.json();
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0]).toMatchObject({ code, message: expect.any(String), long_message: expect.any(String) });
  }

  it.each([
    ['malformed JSON', () => patch('{"sms": {'), 400, 'malformed_request_body'],
    ['an empty JSON body', () => patch(''), 400, 'malformed_request_body'],
    ['a JSON array body', () => patch('[]'), 422, 'form_param_type_invalid'],
    ['a JSON null body', () => patch('null'), 422, 'form_param_type_invalid'],
    ['text/plain', () => patch('test_mode=enabled', 'text/plain'), 415, 'unsupported_media_type'],
    ['a form body', () => patch('test_mode=enabled', 'application/x-www-form-urlencoded'), 415, 'unsupported_media_type'],
    ['a body over the limit', () => patch(JSON.stringify({ test_mode: 'enabled', pad: 'x'.repeat(4096) })), 413, 'request_body_too_large'],
    ['an unknown route', () => ctx.server.inject({ method: 'GET', url: '/v1/nothing-here' }), 404, 'route_not_found'],
    ['a bad query parameter', () => ctx.server.bapi('GET', '/v1/audit_logs?limit=0'), 422, 'form_param_format_invalid'],
    ['an unknown query parameter', () => ctx.server.bapi('GET', '/v1/audit_logs?colour=red'), 422, 'form_param_unknown'],
    ['a cursor we never made', () => ctx.server.bapi('GET', '/v1/audit_logs?starting_after=bm9wZQ'), 422, 'form_param_format_invalid'],
  ])('%s', async (_name, send, status, code) => {
    const before = (await ctx.server.bapi('GET', '/v1/instance')).body;
    expectEnvelope(await send(), status, code);
    expect((await ctx.server.bapi('GET', '/v1/instance')).body).toBe(before);
  });

  it('docs/errors.md documents every error code with its status', () => {
    const page = fs.readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      expect(page, code).toMatch(new RegExp(`\\| \`${code}\` \\| ${spec.status} \\|`));
    }
  });

  it('answers /healthz', async () => {
    const res = await ctx.server.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('publishes an OpenAPI document that lists every route', async () => {
    const res = await ctx.server.inject({ method: 'GET', url: '/v1/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    const documented = new Set<string>();
    for (const [path, ops] of Object.entries<Record<string, unknown>>(doc.paths))
      for (const method of Object.keys(ops)) documented.add(`${method.toUpperCase()} ${path}`);
    const routes = ctx.server.running.app.routeTable.filter((r) => r.documented);
    expect(routes.length).toBeGreaterThan(3);
    for (const route of routes)
      expect(documented, `${route.method} ${route.url}`).toContain(`${route.method} ${route.url.replace(/:(\w+)/g, '{$1}')}`);
    expect(doc.paths['/v1/instance'].patch.security).toEqual([{ secretKey: [] }]);
  });

  it('tags every response with a request id', async () => {
    const res = await ctx.server.inject({ method: 'GET', url: '/v1/environment' });
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
