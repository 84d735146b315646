/** `GET /v1/environment`: the public bootstrap an SDK reads. Only allow-listed fields; no credential, ever. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { SMS_DRIVERS } from '../../instance/settings.js';
import { Nullable, StringEnum } from '../schemas.js';
import type { RouteOptions } from '../bapi/index.js';

const Environment = Type.Object(
  {
    object: Type.Literal('environment'),
    sms: Type.Object({ driver: Nullable(StringEnum(SMS_DRIVERS)), from_number: Nullable(Type.String()) }, { additionalProperties: false }),
    multi_factor: Type.Object({ phone_code: Type.Object({ enabled: Type.Boolean() }) }),
  },
  { additionalProperties: false },
);

export const environmentRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  app.get('/v1/environment', { schema: { summary: 'Public environment for SDKs', response: { 200: Environment } } }, async () => services.instance.publicEnvironment());
};
