/** BAPI users: list, read and delete users, with their phone numbers and second factors. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Page, PageQuery, errorResponses } from '../schemas.js';
import { IdParams, User } from '../auth-schemas.js';
import { parsePhoneParam } from '../../auth/flow.js';
import type { RouteOptions } from './index.js';

const UsersQuery = Type.Object(
  { phone_number: Type.Optional(Type.String({ minLength: 1, description: 'The user a verified number belongs to (any notation of an E.164 number).' })), ...PageQuery },
  { additionalProperties: false },
);

const Deleted = Type.Object({ object: Type.Literal('user'), id: Type.String(), deleted: Type.Literal(true) }, { additionalProperties: false });

export const userRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  app.get('/v1/users', { schema: { summary: 'List users, newest first', querystring: UsersQuery, response: { 200: Page(User), ...errorResponses(401, 422) } } }, async (request) => {
    const { starting_after, phone_number, limit } = request.query;
    const filter = { limit, ...(phone_number !== undefined ? { phone_number: parsePhoneParam(phone_number, 'phone_number').e164 } : {}) };
    return services.users.list(filter, starting_after);
  });

  app.get('/v1/users/:id', { schema: { summary: 'Read a user', params: IdParams, response: { 200: User, ...errorResponses(401, 404) } } }, async (request) =>
    services.users.view(request.params.id),
  );

  app.post(
    '/v1/users/:id/unlock',
    {
      schema: {
        summary: 'Lift the password lockout of a user (abuse.password_lockout) at once',
        params: IdParams,
        response: { 200: User, ...errorResponses(401, 404) },
      },
    },
    async (request) => services.signIns.unlock(request.params.id, request.actor!),
  );

  app.delete(
    '/v1/users/:id',
    { schema: { summary: 'Delete a user, with their phone numbers and sessions', params: IdParams, response: { 200: Deleted, ...errorResponses(401, 404) } } },
    async (request) => services.users.delete(request.params.id, request.actor!),
  );
};
