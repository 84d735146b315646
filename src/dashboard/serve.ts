/**
 * Serves the built dashboard (a single-page app, `vite build` → `dist/dashboard`) at `/dashboard`. The app talks
 * to the server only through the BAPI with the operator's secret key: these routes hand out files and nothing else.
 *
 * Client routes (`/dashboard/configure/…`) get `index.html` (the SPA fallback); a missing file with an extension
 * is a plain 404, so a stale page asking for an old bundle fails loudly rather than receiving HTML. `/` leads here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';

export const DASHBOARD_PREFIX = '/dashboard';

/** `dist/dashboard` of this package, found from here both in `src/` (tsx, tests) and in `dist/src/` (built). */
export function defaultDashboardDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('package.json not found above the dashboard module');
    dir = parent;
  }
  return path.join(dir, 'dist', 'dashboard');
}

// Everything the page needs comes from this origin; nothing may frame it (it holds a secret key).
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

// Vite names every bundle after its content hash, so a file under assets/ never changes; the rest must revalidate.
const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

export interface DashboardOptions {
  /** The `vite build` output. */
  root: string;
}

export const dashboardRoutes: FastifyPluginAsync<DashboardOptions> = async (app, { root }) => {
  if (!fs.existsSync(path.join(root, 'index.html'))) {
    app.log.warn({ root }, 'the dashboard is not built, so /dashboard answers 404: run "npm run build"');
    return;
  }
  app.addHook('onSend', async (_request, reply) => {
    reply.headers(SECURITY_HEADERS);
  });
  await app.register(fastifyStatic, {
    root,
    prefix: `${DASHBOARD_PREFIX}/`,
    // One route per file found now (the build happens before start), which leaves the wildcard free for the fallback.
    wildcard: false,
    index: false,
    cacheControl: false,
    setHeaders: (res, file) => {
      const relative = path.relative(root, file);
      res.setHeader('cache-control', relative.startsWith(`assets${path.sep}`) ? IMMUTABLE : REVALIDATE);
    },
  });
  const appShell = async (request: FastifyRequest, reply: FastifyReply) => {
    const last = request.url.split('?')[0]!.split('/').pop() ?? '';
    if (last.includes('.')) return reply.callNotFound();
    return reply.sendFile('index.html');
  };
  app.get(DASHBOARD_PREFIX, { schema: { hide: true } }, appShell);
  // The server's root has nothing of its own: someone who opens it in a browser is looking for the dashboard.
  app.get('/', { schema: { hide: true } }, (_request, reply) => reply.redirect(DASHBOARD_PREFIX, 302));
  app.get(`${DASHBOARD_PREFIX}/*`, { schema: { hide: true } }, appShell);
};
