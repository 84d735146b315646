/**
 * FAPI credentials, per plugin: the client token (`ct_…`, a header or the browser's cookie) for flows and
 * sessions, a session token (the JWT) for `/v1/me`. Checked in `onRequest`, before the body is read.
 */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';
import type { SignedInUser } from '../../auth/sessions.js';
import { bearer } from '../../auth/clients.js';
import { readClientCookie, setClientCookie } from './browser.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The FAPI client, on routes that need its token. */
    clientId: string | null;
    /** Where that token came from: the `Authorization` header (apps, servers) or the cookie (browsers). */
    clientTokenIn: 'header' | 'cookie' | null;
    /** The signed-in user, on `/v1/me` routes. */
    signedIn: SignedInUser | null;
  }
}

/** Every route of the calling plugin needs the client token: `Authorization: Bearer ct_…`, or the browser's cookie. */
export function requireClientToken(app: FastifyInstance, services: Services): void {
  app.addHook('onRoute', (route) => {
    route.schema = { ...route.schema, security: [{ clientToken: [] }, { clientCookie: [] }] };
  });
  app.addHook('onRequest', async (request, reply) => {
    const { authorization } = request.headers;
    const cookie = readClientCookie(request.headers.cookie);
    // An explicit header wins over the cookie the browser adds by itself.
    if (authorization !== undefined || cookie === null) {
      request.clientTokenIn = 'header';
      request.clientId = await services.clients.authenticate(bearer(authorization));
      return;
    }
    request.clientTokenIn = 'cookie';
    request.clientId = await services.clients.authenticate(cookie);
    // Each use keeps the cookie for another session lifetime, so it outlives the newest session it carries.
    setClientCookie(reply, cookie);
  });
}

/** Every route of the calling plugin needs `Authorization: Bearer <session token>` of a live session. */
export function requireSessionToken(app: FastifyInstance, services: Services): void {
  app.addHook('onRoute', (route) => {
    route.schema = { ...route.schema, security: [{ sessionToken: [] }] };
  });
  app.addHook('onRequest', async (request) => {
    request.signedIn = await services.sessions.authenticate(request.headers.authorization);
  });
}
