/**
 * FAPI credentials, per plugin: the client token (`ct_…`) for flows and sessions, a session token (the JWT)
 * for `/v1/me`. Checked in `onRequest`, before the body is read.
 */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';
import type { SignedInUser } from '../../auth/sessions.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The FAPI client, on routes that need its token. */
    clientId: string | null;
    /** The signed-in user, on `/v1/me` routes. */
    signedIn: SignedInUser | null;
  }
}

/** Every route of the calling plugin needs `Authorization: Bearer ct_…`. */
export function requireClientToken(app: FastifyInstance, services: Services): void {
  app.addHook('onRoute', (route) => {
    route.schema = { ...route.schema, security: [{ clientToken: [] }] };
  });
  app.addHook('onRequest', async (request) => {
    request.clientId = await services.clients.authenticate(request.headers.authorization);
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
