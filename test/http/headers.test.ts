/**
 * Every API answer (BAPI, FAPI, carrier callbacks, errors included) says `X-Content-Type-Options: nosniff` and
 * `Cache-Control: no-store`; answers that set their own caching (the JWKS; the dashboard's files, see
 * test/dashboard/serve.test.ts) keep it.
 */
import { describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { useTestServer } from '../helpers/server.js';

describe('API answer headers', () => {
  const suite = useTestServer('sqlite');

  function expectApiHeaders(res: LightMyRequestResponse, what: string, cacheControl = 'no-store'): void {
    expect(res.statusCode, what).toBeLessThan(500);
    expect(res.headers['x-content-type-options'], what).toBe('nosniff');
    expect(res.headers['cache-control'], what).toBe(cacheControl);
  }

  it('on every route, answered or refused, with and without a secret key', async () => {
    const { server } = suite;
    const routes = server.running.app.routeTable.filter((r) => !r.url.startsWith('/dashboard'));
    expect(routes.length).toBeGreaterThan(40);
    for (const route of routes) {
      const url = route.url.replace(/:(\w+)/g, 'x_$1');
      const body =
        route.method === 'GET' || route.method === 'DELETE' ? {} : { headers: { 'content-type': 'application/json' }, payload: '{}' };
      // A preflight answers no-store like any other answer: Access-Control-Max-Age says how long a browser keeps it.
      const cache = route.url === '/.well-known/jwks.json' && route.method === 'GET' ? 'public, max-age=300' : 'no-store';
      const method = route.method as 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';
      expectApiHeaders(await server.inject({ method, url, ...body }), `${route.method} ${route.url} without a key`, cache);
      // Secret-key answers only from reads: the writes would change the instance under the other checks.
      if (route.method === 'GET') {
        expectApiHeaders(
          await server.inject({ method, url, headers: { authorization: `Bearer ${server.key}` } }),
          `${route.method} ${route.url} with a key`,
          cache,
        );
      }
    }
  });

  it('on answers that carry personal data or tokens, and on errors the router makes', async () => {
    const { server } = suite;
    const client = await server.inject({ method: 'POST', url: '/v1/client' });
    expect(client.statusCode).toBe(201);
    expect(client.json().token).toMatch(/^ct_/);
    expectApiHeaders(client, 'a new client token');
    expectApiHeaders(await server.bapi('GET', '/v1/users'), 'the user list');
    expectApiHeaders(await server.bapi('GET', '/v1/instance'), 'the instance settings');
    expectApiHeaders(await server.inject({ method: 'GET', url: '/no/such/route' }), 'a 404');
    expectApiHeaders(
      await server.inject({ method: 'POST', url: '/v1/client', headers: { 'content-type': 'text/plain' }, payload: 'x' }),
      'a 415',
    );
    expectApiHeaders(
      await server.inject({ method: 'POST', url: '/v1/client', headers: { 'content-type': 'application/json' }, payload: '{' }),
      'a 400',
    );
    expectApiHeaders(await server.inject({ method: 'GET', url: '/v1/client/sign_ins/%ZZ' }), 'a path the router cannot decode');
    expectApiHeaders(
      await server.inject({ method: 'GET', url: `/v1/users/${'a'.repeat(101)}` }),
      'a path parameter the router refuses as too long',
    );
  });
});
