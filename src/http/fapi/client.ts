/**
 * FAPI clients and their sessions: `POST /v1/client` (public) makes a client and shows its token once (or, for a
 * page on an allowed origin, sets it as a cookie); with the token, a client lists its live sessions, mints session
 * tokens and signs out.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses } from '../schemas.js';
import { IdParams, Session, Token } from '../auth-schemas.js';
import type { RouteOptions } from '../route-options.js';
import { requireClientToken } from './guards.js';
import { clearClientCookie, setClientCookie } from './browser.js';

const NewClient = Type.Object(
  {
    object: Type.Literal('client'),
    id: Type.String(),
    token: Type.Optional(
      Type.String({
        description:
          'The client token, shown once: send it as "Authorization: Bearer ct_…" on every /v1/client call. Absent for a page on an allowed origin (an Origin header): the token is set as an HttpOnly cookie instead, which the browser sends itself.',
      }),
    ),
    created_at: Type.Integer(),
  },
  { additionalProperties: false },
);

const ClientState = Type.Object(
  { object: Type.Literal('client'), id: Type.String(), sessions: Type.Array(Session, { description: 'Live sessions, newest first.' }) },
  { additionalProperties: false },
);

export const newClientRoute: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  app.post(
    '/v1/client',
    { schema: { summary: 'Create a client (a browser or app) and get its token', response: { 201: NewClient, ...errorResponses(429) } } },
    async (request, reply) => {
      const { client, token } = await services.clients.create({ ip: request.ip });
      if (request.browserOrigin === null) return reply.code(201).send({ ...client, token });
      setClientCookie(reply, token);
      return reply.code(201).send(client);
    },
  );
};

export const clientRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  requireClientToken(app, services);

  app.get(
    '/v1/client',
    { schema: { summary: 'The client and its live sessions', response: { 200: ClientState, ...errorResponses(401) } } },
    async (request) => ({
      object: 'client' as const,
      id: request.clientId!,
      sessions: await services.sessions.ofClientActive(request.clientId!),
    }),
  );

  app.post(
    '/v1/client/sessions/:id/tokens',
    {
      schema: {
        summary: 'Get a new session token (JWT, 60 s) from a live session',
        params: IdParams,
        response: { 200: Token, ...errorResponses(401, 404) },
      },
    },
    async (request) => services.sessions.issueToken(request.clientId!, request.params.id),
  );

  app.post(
    '/v1/client/sessions/:id/end',
    {
      schema: {
        summary:
          'Sign out: end the session (no new token is issued for it); in a browser, ending the last live session also clears the client cookie',
        params: IdParams,
        response: { 200: Session, ...errorResponses(401, 404) },
      },
    },
    async (request, reply) => {
      const session = await services.sessions.end(request.clientId!, request.params.id);
      // A signed-out browser keeps no credential: the cookie goes with the client's last live session.
      if (request.clientTokenIn === 'cookie' && (await services.sessions.ofClientActive(request.clientId!)).length === 0)
        clearClientCookie(reply);
      return session;
    },
  );
};
