/** BAPI secret keys: the key a request is made with (the dashboard names it, so its audit entries can be found). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Nullable, StringEnum, errorResponses } from '../schemas.js';
import type { RouteOptions } from '../route-options.js';

const SecretKey = Type.Object(
  {
    object: Type.Literal('secret_key'),
    id: Type.String({ description: 'The id audit entries name as their actor (sk_01…).' }),
    kind: StringEnum(['live', 'test'] as const),
    name: Nullable(Type.String()),
    hint: Type.String({ description: 'sk_live_…abcd: the kind and the last four characters.' }),
    created_at: Type.Integer({ description: 'ms since the epoch' }),
    revoked_at: Nullable(Type.Integer({ description: 'ms since the epoch' })),
  },
  { additionalProperties: false },
);

export const secretKeyRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  app.get(
    '/v1/secret_keys/current',
    { schema: { summary: 'The secret key this request is made with', response: { 200: SecretKey, ...errorResponses(401) } } },
    async (request) => services.secretKeys.current(request.actor!),
  );
};
