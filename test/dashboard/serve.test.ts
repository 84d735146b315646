/** The dashboard's files at /dashboard: the app shell for client routes, cache headers, security headers, 404s; `/` leads there. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardRoutes } from '../../src/dashboard/serve.js';
import { createTestStore, startTestServer, type TestServer, type TestStore } from '../helpers/server.js';

describe('serving the dashboard', () => {
  let store: TestStore;
  let server: TestServer;
  beforeAll(async () => {
    store = await createTestStore('sqlite');
    server = await startTestServer(store);
  });
  afterAll(async () => {
    await server?.close();
    await store?.cleanup();
  });

  const get = (url: string) => server.inject({ method: 'GET', url });

  it.each([
    '/dashboard',
    '/dashboard/',
    '/dashboard/configure/messaging/sms',
    '/dashboard/activity/audit-log?action=sms.*',
    '/dashboard/no/such/page',
  ])('answers %s with the app shell, without a secret key', async (url) => {
    const res = await get(url);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toContain('<div id="app"></div>');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
  });

  it('serves the hashed bundles as immutable, and other files for revalidation', async () => {
    const shell = (await get('/dashboard')).body;
    const assets = [...shell.matchAll(/(?:src|href)="(\/dashboard\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.some((a) => a.endsWith('.js'))).toBe(true);
    expect(assets.some((a) => a.endsWith('.css'))).toBe(true);
    for (const asset of assets) {
      const res = await get(asset);
      expect(res.statusCode, asset).toBe(200);
      expect(res.headers['cache-control'], asset).toBe('public, max-age=31536000, immutable');
      expect(res.headers['content-type'], asset).toMatch(asset.endsWith('.js') ? /javascript/ : /text\/css/);
      expect(res.headers['content-security-policy'], asset).toBeDefined();
    }
    const icon = await get('/dashboard/favicon.svg');
    expect(icon.statusCode).toBe(200);
    expect(icon.headers['cache-control']).toBe('no-cache');
  });

  it('answers a missing file with a 404 error, not the app shell', async () => {
    for (const url of ['/dashboard/assets/index-gone.js', '/dashboard/robots.txt']) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(404);
      expect(res.json().errors[0].code, url).toBe('route_not_found');
    }
  });

  it("sends a visitor of the server's root to the dashboard", async () => {
    const res = await get('/');
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('/dashboard');
  });

  it('keeps its routes out of the OpenAPI document', async () => {
    const doc = (await get('/v1/openapi.json')).json();
    expect(Object.keys(doc.paths).filter((p) => p === '/' || p.startsWith('/dashboard'))).toEqual([]);
  });
});

describe('without a build', () => {
  it('warns once at start and answers 404', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'authn-no-dashboard-'));
    const lines: string[] = [];
    const stream = new Writable({
      write: (chunk, _encoding, done) => {
        lines.push(String(chunk));
        done();
      },
    });
    const app = Fastify({ logger: { stream } });
    try {
      await app.register(dashboardRoutes, { root: empty });
      expect((await app.inject({ method: 'GET', url: '/dashboard' })).statusCode).toBe(404);
      // No redirect from the root to a dashboard that is not there.
      expect((await app.inject({ method: 'GET', url: '/' })).statusCode).toBe(404);
      expect(lines.filter((l) => l.includes('dashboard is not built'))).toHaveLength(1);
    } finally {
      await app.close();
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
