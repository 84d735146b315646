/**
 * Backend API: every route registered in this plugin requires a secret key (the onRequest hook below runs
 * before body parsing, so an unauthenticated request learns nothing about the route's input rules).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Actor } from '../../audit/audit-log.js';
import type { RouteOptions } from '../route-options.js';
import { instanceRoutes } from './instance.js';
import { auditLogRoutes } from './audit-logs.js';
import { smsMessageRoutes } from './sms-messages.js';
import { smsDeliveryStatsRoutes } from './sms-delivery-stats.js';
import { userRoutes } from './users.js';
import { sessionRoutes } from './sessions.js';
import { webhookRoutes } from './webhooks.js';
import { smsTemplateRoutes } from './sms-templates.js';
import { secretKeyRoutes } from './secret-keys.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling: the secret key on BAPI routes. */
    actor: Actor | null;
  }
}

export const bapiRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  app.decorateRequest('actor', null);
  app.addHook('onRoute', (route) => {
    route.schema = { ...route.schema, tags: ['BAPI'], security: [{ secretKey: [] }] };
  });
  app.addHook('onRequest', async (request) => {
    request.actor = await services.secretKeys.authenticate(request.headers.authorization);
  });
  await app.register(instanceRoutes, { services });
  await app.register(auditLogRoutes, { services });
  await app.register(smsMessageRoutes, { services });
  await app.register(smsDeliveryStatsRoutes, { services });
  await app.register(userRoutes, { services });
  await app.register(sessionRoutes, { services });
  await app.register(webhookRoutes, { services });
  await app.register(smsTemplateRoutes, { services });
  await app.register(secretKeyRoutes, { services });
};
