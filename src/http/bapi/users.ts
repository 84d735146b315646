/** BAPI users: list, read, unlock and delete users, with their phone numbers, second factors and password lockout. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Nullable, Page, PageQuery, errorResponses } from '../schemas.js';
import { IdParams, User } from '../auth-schemas.js';
import type { RouteOptions } from '../route-options.js';

const UsersQuery = Type.Object(
  {
    phone_number: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'The user a verified number belongs to: with its country code in any notation, or a national number of the countries codes may go to (abuse.sms_countries, allow list).',
      }),
    ),
    ...PageQuery,
  },
  { additionalProperties: false },
);

/** The user as operators see them: with the password lockout, which the user's own `GET /v1/me` does not show. */
const OperatorUser = Type.Object(
  {
    ...User.properties,
    password_locked_until: Nullable(
      Type.Integer({
        description:
          'When password sign-in opens again after too many wrong passwords (abuse.password_lockout), ms since the epoch; null when it is not locked. A phone code still signs the user in meanwhile.',
      }),
    ),
  },
  { additionalProperties: false },
);

const Deleted = Type.Object(
  { object: Type.Literal('user'), id: Type.String(), deleted: Type.Literal(true) },
  { additionalProperties: false },
);

export const userRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  app.get(
    '/v1/users',
    {
      schema: {
        summary: 'List users, newest first',
        querystring: UsersQuery,
        response: { 200: Page(OperatorUser), ...errorResponses(401, 422) },
      },
    },
    async (request) => {
      const { starting_after, ...filter } = request.query;
      return services.operatorUsers.list(filter, starting_after);
    },
  );

  app.get(
    '/v1/users/:id',
    { schema: { summary: 'Read a user', params: IdParams, response: { 200: OperatorUser, ...errorResponses(401, 404) } } },
    async (request) => services.operatorUsers.view(request.params.id),
  );

  app.post(
    '/v1/users/:id/unlock',
    {
      schema: {
        summary: 'Lift the password lockout of a user (abuse.password_lockout) at once',
        params: IdParams,
        response: { 200: OperatorUser, ...errorResponses(401, 404) },
      },
    },
    async (request) => services.operatorUsers.unlock(request.params.id, request.actor!),
  );

  app.delete(
    '/v1/users/:id',
    {
      schema: {
        summary: 'Delete a user, with their phone numbers and sessions',
        params: IdParams,
        response: { 200: Deleted, ...errorResponses(401, 404) },
      },
    },
    async (request) => services.users.delete(request.params.id, request.actor!),
  );
};
