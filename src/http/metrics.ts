/** `GET /metrics`: Prometheus text format. Open, unless AUTHN_METRICS_TOKEN asks for `Authorization: Bearer <token>`. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { appError } from '../errors.js';
import type { RouteOptions } from './route-options.js';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

export const metricsRoutes: FastifyPluginAsync<RouteOptions> = async (app, { services }) => {
  const token = services.config.metricsToken;
  const { registry } = services.smsMetrics;
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (token !== null) {
      const header = request.headers.authorization;
      if (!header)
        throw appError('authorization_header_missing', {
          paramName: 'Authorization',
          longMessage: 'GET /metrics needs Authorization: Bearer <AUTHN_METRICS_TOKEN>',
        });
      // Digests have one length, so the comparison takes the same time whatever was sent.
      if (!timingSafeEqual(digest(header), digest(`Bearer ${token}`)))
        throw appError('metrics_token_invalid', { paramName: 'Authorization' });
    }
    return reply.header('content-type', registry.contentType).send(await registry.metrics());
  });
};
