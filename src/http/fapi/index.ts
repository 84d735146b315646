/** Frontend API: public routes for browsers and apps. Nothing here ever returns a credential of the instance. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { RouteOptions } from '../bapi/index.js';
import { environmentRoutes } from './environment.js';
import { jwksRoutes } from './jwks.js';
import { clientRoutes, newClientRoute } from './client.js';
import { signUpRoutes } from './sign-ups.js';
import { signInRoutes } from './sign-ins.js';
import { meRoutes } from './me.js';

export const fapiRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  app.addHook('onRoute', (route) => {
    route.schema = { ...route.schema, tags: ['FAPI'] };
  });
  app.decorateRequest('clientId', null);
  app.decorateRequest('signedIn', null);
  await app.register(environmentRoutes, { services });
  await app.register(jwksRoutes, { services });
  await app.register(newClientRoute, { services });
  await app.register(clientRoutes, { services });
  await app.register(signUpRoutes, { services });
  await app.register(signInRoutes, { services });
  await app.register(meRoutes, { services });
};
