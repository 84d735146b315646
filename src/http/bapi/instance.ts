/** `GET` / `PATCH /v1/instance`: the instance settings (credentials write-only). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type TSchema } from 'typebox';
import { REDACTED, SMS_DRIVERS, TEST_MODES, VONAGE_SIGNATURE_METHODS } from '../../instance/settings.js';
import { Nullable, StringEnum, errorResponses } from '../schemas.js';
import type { RouteOptions } from './index.js';

const secret = (description: string) =>
  Nullable(Type.String({ description: `${description} Write-only: GET shows "${REDACTED}" when set and null when not; sending "${REDACTED}" back leaves it unchanged; null clears it.` }));

/** The settings tree; `patch` makes every field optional and every object nullable (merge patch). */
function settingsSchema(patch: boolean) {
  const field = <T extends TSchema>(schema: T) => (patch ? Type.Optional(schema) : schema);
  const object = (properties: Record<string, TSchema>, description?: string) => {
    const schema = Type.Object(properties, { additionalProperties: false, ...(description ? { description } : {}) });
    return patch ? Nullable(schema) : schema;
  };
  return Type.Object({
    sms: field(
      object(
        {
          driver: field(Nullable(StringEnum(SMS_DRIVERS, { description: 'Who sends SMS. null is the null driver (development: sends are dropped).' }))),
          from_number: field(Nullable(Type.String({ description: 'E.164 number, short code, or (vonage) alphanumeric sender id.' }))),
          twilio: field(
            object({
              account_sid: field(Nullable(Type.String({ description: 'AC followed by 32 characters.' }))),
              auth_token: field(secret('Twilio auth token.')),
              messaging_service_sid: field(Nullable(Type.String({ description: 'MG followed by 32 characters. When set, from_number and template overrides are ignored.' }))),
            }),
          ),
          vonage: field(
            object({
              api_key: field(Nullable(Type.String({ description: '8 characters.' }))),
              api_secret: field(secret('Vonage API secret.')),
              signature_secret: field(secret('Vonage signature secret; when set, delivery receipts must carry a valid sig.')),
              signature_method: field(patch ? Nullable(StringEnum(VONAGE_SIGNATURE_METHODS)) : StringEnum(VONAGE_SIGNATURE_METHODS)),
            }),
          ),
          origin_bound_codes: field(
            object(
              {
                enabled: field(patch ? Nullable(Type.Boolean()) : Type.Boolean()),
                domain: field(Nullable(Type.String({ description: 'Host name of the site that asks for the code, e.g. app.example.com. Required when enabled.' }))),
              },
              'Origin-bound one-time codes (WebOTP): when enabled, verification_code messages end with the line "@<domain> #<code>" so browsers and phones can autofill the code on that site only.',
            ),
          ),
        },
        'Who delivers SMS, from which sender.',
      ),
    ),
    app_name: field(patch ? Nullable(Type.String({ description: 'Product name used in SMS templates as {{app_name}}.' })) : Type.String()),
    test_mode: field(patch ? Nullable(StringEnum(TEST_MODES)) : StringEnum(TEST_MODES)),
    multi_factor: field(object({ phone_code: field(object({ enabled: field(patch ? Nullable(Type.Boolean()) : Type.Boolean()) })) })),
  }, { additionalProperties: false });
}

export const InstanceView = settingsSchema(false);
export const InstancePatch = settingsSchema(true);

export const instanceRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  app.get(
    '/v1/instance',
    { schema: { summary: 'Read the instance settings (credentials redacted)', response: { 200: InstanceView, ...errorResponses(401) } } },
    async () => services.instance.view(),
  );

  app.patch(
    '/v1/instance',
    {
      schema: {
        summary: 'Update the instance settings (JSON merge patch; validated as a whole, atomically)',
        body: InstancePatch,
        response: { 200: InstanceView, ...errorResponses(400, 401, 413, 415, 422) },
      },
    },
    async (request) => services.instance.patch(request.body, request.actor!),
  );
};
