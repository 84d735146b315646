/**
 * The FAPI in a browser: CORS for the instance's allowed origins, the CSRF refusal, and the client cookie.
 *
 * - Every FAPI answer says `Vary: Origin`. A request from an allowed origin (`src/instance/origins.ts`) gets the
 *   origin echoed with credentials allowed; its preflights get the methods and headers the SDK uses. Any other
 *   origin gets no CORS header (the browser hides the answer from the page), its preflights are refused, and any
 *   request from it other than a read (GET, HEAD) is refused before anything runs: `403 origin_not_allowed`.
 * - Browser mode: `POST /v1/client` from an allowed origin puts the client token in an HttpOnly cookie and
 *   leaves it out of the body, so no page script ever holds it; later calls need no header. A request with
 *   `Authorization: Bearer ct_…` (apps, servers) uses that instead.
 *
 * A small hook rather than @fastify/cors: its preflight route is a catch-all `OPTIONS *` that would answer for
 * BAPI paths too (FAPI routes share no prefix), and the CSRF refusal is not part of it anyway.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { appError } from '../../errors.js';
import { originAllowed } from '../../instance/origins.js';
import { SESSION_LIFETIME_MS } from '../../auth/sessions.js';
import { errorResponses } from '../schemas.js';
import type { Services } from '../../services.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's `Origin` when it is an allowed one: the request comes from a page the instance trusts. */
    browserOrigin: string | null;
  }
}

/**
 * `__Host-`: the browser keeps it only if it is Secure, host-only (no Domain) and on Path=/, so no sibling
 * subdomain and no plain-http page can set or overwrite it.
 */
export const CLIENT_COOKIE = '__Host-authn_client';
/** As long as a session: renewed by every request it authenticates, it outlives the newest session of its client. */
export const CLIENT_COOKIE_MAX_AGE_SECONDS = SESSION_LIFETIME_MS / 1000;
/** Strict: the FAPI is only ever fetched, never navigated to, so no cross-site navigation needs to carry it. */
const COOKIE_ATTRIBUTES = 'Path=/; Secure; HttpOnly; SameSite=Strict';

const PREFLIGHT_HEADERS = {
  'access-control-allow-methods': 'GET, POST, DELETE',
  'access-control-allow-headers': 'Authorization, Content-Type',
  // Chromium's ceiling. Safe to cache: the request itself is checked again, origin and all.
  'access-control-max-age': '7200',
};
/** What the SDK reads besides the body: resend and limit waits, and the id to quote in a support request. */
const EXPOSED_HEADERS = 'Retry-After, X-Request-Id';

/** The client token in a `Cookie` header, or null. */
export function readClientCookie(header: string | undefined): string | null {
  if (header === undefined) return null;
  for (const pair of header.split(';')) {
    const at = pair.indexOf('=');
    if (at !== -1 && pair.slice(0, at).trim() === CLIENT_COOKIE) return pair.slice(at + 1).trim();
  }
  return null;
}

export function setClientCookie(reply: FastifyReply, token: string): void {
  reply.header('set-cookie', `${CLIENT_COOKIE}=${token}; Max-Age=${CLIENT_COOKIE_MAX_AGE_SECONDS}; ${COOKIE_ATTRIBUTES}`);
}

/** Tells the browser to forget the cookie (replacing the renewal the request's own authentication set). */
export function clearClientCookie(reply: FastifyReply): void {
  reply.removeHeader('set-cookie');
  reply.header('set-cookie', `${CLIENT_COOKIE}=; Max-Age=0; ${COOKIE_ATTRIBUTES}`);
}

const READS: ReadonlySet<string> = new Set(['GET', 'HEAD']);

/**
 * Adds the origin check to every route of the calling plugin. Returns the function that adds the preflight
 * (`OPTIONS`) route of each path the plugin registered: call it once they are all registered.
 */
export function browserAccess(app: FastifyInstance, services: Services): () => void {
  app.decorateRequest('browserOrigin', null);
  const paths = new Set<string>();
  app.addHook('onRoute', (route) => {
    const methods = [route.method].flat();
    if (methods.some((method) => method !== 'OPTIONS')) paths.add(route.url);
    // Documented on every route a refused origin cannot call.
    if (methods.some((method) => !READS.has(method))) {
      route.schema = {
        ...route.schema,
        response: { ...errorResponses(403), ...(route.schema?.response as Record<number, unknown> | undefined) },
      };
    }
  });

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    reply.header('vary', 'Origin');
    const origin = request.headers.origin;
    if (origin === undefined) return;
    if (originAllowed((await services.instance.current()).allowed_origins, origin)) {
      request.browserOrigin = origin;
      reply.headers({
        'access-control-allow-origin': origin,
        'access-control-allow-credentials': 'true',
        'access-control-expose-headers': EXPOSED_HEADERS,
      });
      return;
    }
    // A read's answer is hidden from the page by the browser; anything else could change state, so nothing runs.
    if (!READS.has(request.method)) {
      throw appError('origin_not_allowed', {
        longMessage:
          'Pages on this origin may not call this FAPI: add the origin to allowed_origins in the instance settings (PATCH /v1/instance or the dashboard).',
      });
    }
  });

  return () => {
    for (const path of paths) {
      app.options(path, { schema: { hide: true } }, async (request, reply) => {
        if (request.browserOrigin !== null) reply.headers(PREFLIGHT_HEADERS);
        return reply.code(204).send();
      });
    }
  };
}
