/** BAPI sessions: list, read and revoke (a revoked session mints no new token). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Page, PageQuery, StringEnum, errorResponses } from '../schemas.js';
import { IdParams, Session } from '../auth-schemas.js';
import type { RouteOptions } from '../route-options.js';

const SessionsQuery = Type.Object(
  {
    user_id: Type.Optional(Type.String({ minLength: 1 })),
    status: Type.Optional(StringEnum(['active', 'ended', 'revoked', 'expired'] as const)),
    ...PageQuery,
  },
  { additionalProperties: false },
);

export const sessionRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  app.get(
    '/v1/sessions',
    {
      schema: {
        summary: 'List sessions, newest first',
        querystring: SessionsQuery,
        response: { 200: Page(Session), ...errorResponses(401, 422) },
      },
    },
    async (request) => {
      const { starting_after, ...filter } = request.query;
      return services.sessions.list(filter, starting_after);
    },
  );

  app.get(
    '/v1/sessions/:id',
    { schema: { summary: 'Read a session', params: IdParams, response: { 200: Session, ...errorResponses(401, 404) } } },
    async (request) => services.sessions.get(request.params.id),
  );

  app.post(
    '/v1/sessions/:id/revoke',
    {
      schema: {
        summary: 'Revoke a session: no new token is issued for it',
        params: IdParams,
        response: { 200: Session, ...errorResponses(401, 404) },
      },
    },
    async (request) => services.sessions.revoke(request.params.id, request.actor!),
  );
};
