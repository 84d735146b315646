/** Frontend API: public routes for browsers and apps. Nothing here ever returns a credential. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { RouteOptions } from '../bapi/index.js';
import { environmentRoutes } from './environment.js';

export const fapiRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  app.addHook('onRoute', (route) => {
    route.schema = { ...route.schema, tags: ['FAPI'] };
  });
  await app.register(environmentRoutes, { services });
};
