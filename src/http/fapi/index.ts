/**
 * Frontend API: public routes for browsers and apps. Nothing here ever returns a credential of the instance.
 * Browsers reach it from the instance's allowed origins only (`browser.ts`).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { RouteOptions } from '../route-options.js';
import { environmentRoutes } from './environment.js';
import { jwksRoutes } from './jwks.js';
import { clientRoutes, newClientRoute } from './client.js';
import { signUpRoutes } from './sign-ups.js';
import { signInRoutes } from './sign-ins.js';
import { meRoutes } from './me.js';
import { browserAccess } from './browser.js';

export const fapiRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  app.addHook('onRoute', (route) => {
    route.schema = { ...route.schema, tags: ['FAPI'] };
  });
  app.decorateRequest('clientId', null);
  app.decorateRequest('clientTokenIn', null);
  app.decorateRequest('signedIn', null);
  // First, so that a refused origin is refused before any route's own checks run.
  const addPreflightRoutes = browserAccess(app, services);
  await app.register(environmentRoutes, { services });
  await app.register(jwksRoutes, { services });
  await app.register(newClientRoute, { services });
  await app.register(clientRoutes, { services });
  await app.register(signUpRoutes, { services });
  await app.register(signInRoutes, { services });
  await app.register(meRoutes, { services });
  addPreflightRoutes();
};
