/** `GET /v1/environment`: the public bootstrap an SDK reads. Only allow-listed fields; no credential, ever. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { publicEnvironment } from '../../auth/environment.js';
import { SMS_DRIVERS } from '../../instance/settings.js';
import { Nullable, StringEnum } from '../schemas.js';
import type { RouteOptions } from '../route-options.js';

const closed = { additionalProperties: false } as const;
const Environment = Type.Object(
  {
    object: Type.Literal('environment'),
    app_name: Type.String({ description: 'The product name, for headings such as "Sign in to …".' }),
    sms: Type.Object(
      {
        driver: Nullable(StringEnum(SMS_DRIVERS, { description: 'null: the null driver (development: codes are not sent).' })),
        from_number: Nullable(Type.String()),
      },
      closed,
    ),
    phone_number: Type.Object(
      {
        countries: Type.Array(Type.String(), {
          description:
            "ISO 3166-1 alpha-2 codes a phone number may be from (abuse.sms_countries as a list: the operator's order under allow, alphabetical under deny). Test numbers always work.",
        }),
      },
      closed,
    ),
    phone_code: Type.Object({ length: Type.Integer({ description: 'Digits in a code.' }) }, closed),
    password: Type.Object(
      {
        enabled: Type.Boolean({ description: 'Whether sign-up may set a password and sign-in may use one.' }),
        min_length: Type.Integer(),
        max_length: Type.Integer(),
      },
      closed,
    ),
    multi_factor: Type.Object({ phone_code: Type.Object({ enabled: Type.Boolean() }, closed) }, closed),
  },
  { ...closed, description: 'What an SDK needs to render sign-up, sign-in and profile screens. Never a credential.' },
);

export const environmentRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  app.get('/v1/environment', { schema: { summary: 'Public environment for SDKs', response: { 200: Environment } } }, async () =>
    publicEnvironment(services.instance),
  );
};
