/** `GET` / `PATCH /v1/instance`: the instance settings (credentials write-only). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type TSchema } from 'typebox';
import {
  ABUSE_BOUNDS,
  COUNTRY_LIST_MODES,
  REDACTED,
  ROUTING_BOUNDS,
  SMS_DRIVERS,
  TEST_MODES,
  VONAGE_SIGNATURE_METHODS,
} from '../../instance/settings.js';
import { TEMPLATE_SLUGS } from '../../sms/templates/catalogue.js';
import { ALLOWED_ORIGINS_MAX, ORIGIN_MAX_LENGTH } from '../../instance/origins.js';
import { Nullable, StringEnum, errorResponses } from '../schemas.js';
import type { RouteOptions } from '../route-options.js';

const secret = (description: string) =>
  Nullable(
    Type.String({
      description: `${description} Write-only: GET shows "${REDACTED}" when set and null when not; sending "${REDACTED}" back leaves it unchanged; null clears it.`,
    }),
  );

/** The settings tree; `patch` makes every field optional and every object nullable (merge patch). */
function settingsSchema(patch: boolean) {
  const field = <T extends TSchema>(schema: T) => (patch ? Type.Optional(schema) : schema);
  const object = (properties: Record<string, TSchema>, description?: string) => {
    const schema = Type.Object(properties, { additionalProperties: false, ...(description ? { description } : {}) });
    return patch ? Nullable(schema) : schema;
  };
  const leaf = <T extends TSchema>(schema: T) => (patch ? Nullable(schema) : schema);
  const windowLimit = (count: 'max' | 'max_failures', description: string) =>
    object(
      {
        [count]: field(leaf(Type.Integer(ABUSE_BOUNDS.max))),
        window_seconds: field(leaf(Type.Integer(ABUSE_BOUNDS.window_seconds))),
      },
      description,
    );
  return Type.Object(
    {
      sms: field(
        object(
          {
            driver: field(
              Nullable(
                StringEnum(SMS_DRIVERS, { description: 'Who sends SMS. null is the null driver (development: sends are dropped).' }),
              ),
            ),
            from_number: field(Nullable(Type.String({ description: 'E.164 number, short code, or (vonage) alphanumeric sender id.' }))),
            twilio: field(
              object({
                account_sid: field(Nullable(Type.String({ description: 'AC followed by 32 characters.' }))),
                auth_token: field(secret('Twilio auth token.')),
                messaging_service_sid: field(
                  Nullable(
                    Type.String({ description: 'MG followed by 32 characters. When set, from_number and template overrides are ignored.' }),
                  ),
                ),
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
                  domain: field(
                    Nullable(
                      Type.String({
                        description: 'Host name of the site that asks for the code, e.g. app.example.com. Required when enabled.',
                      }),
                    ),
                  ),
                },
                'Origin-bound one-time codes (WebOTP): when enabled, verification_code messages end with the line "@<domain> #<code>" so browsers and phones can autofill the code on that site only.',
              ),
            ),
            routes: field(
              leaf(
                Type.Array(
                  Type.Object(
                    {
                      countries: Type.Array(Type.String({ pattern: '^[A-Z]{2}$' }), {
                        ...ROUTING_BOUNDS.countries,
                        description: 'Destination countries (ISO 3166-1 alpha-2); a country is in one route at most.',
                      }),
                      driver: StringEnum(SMS_DRIVERS, {
                        description: 'The driver that sends to these countries first; its credentials must be complete.',
                      }),
                      failover_driver: Nullable(
                        StringEnum(SMS_DRIVERS, {
                          description:
                            'The driver a message moves to when the first fails; not the same as driver. null: sms.failover.driver.',
                        }),
                      ),
                    },
                    { additionalProperties: false },
                  ),
                  {
                    ...ROUTING_BOUNDS.routes,
                    description:
                      'Destination countries sent through another driver than sms.driver first. A PATCH replaces the whole list (default: none).',
                  },
                ),
              ),
            ),
            failover: field(
              object(
                {
                  driver: field(
                    Nullable(
                      StringEnum(SMS_DRIVERS, {
                        description:
                          'The second driver for numbers no route names and for routes without a failover_driver; its credentials must be complete (default null: no failover).',
                      }),
                    ),
                  ),
                  after_transient_failures: field(
                    leaf(
                      Type.Integer({
                        ...ROUTING_BOUNDS.after_transient_failures,
                        description: 'Transient failures of the first driver in a row before the message moves (default 2).',
                      }),
                    ),
                  ),
                  receipt_wait_seconds: field(
                    Nullable(
                      Type.Integer({
                        ...ROUTING_BOUNDS.receipt_wait_seconds,
                        description:
                          'How long the first driver may go without a delivery receipt before the message moves (default 60); null: never. Null is kept, not reset to the default.',
                      }),
                    ),
                  ),
                  receipt_wait_templates: field(
                    leaf(
                      Type.Array(StringEnum(TEMPLATE_SLUGS), {
                        uniqueItems: true,
                        maxItems: TEMPLATE_SLUGS.length,
                        description: 'The templates whose messages move for a missing receipt (default ["verification_code"]).',
                      }),
                    ),
                  ),
                },
                'Failover to a second driver (see docs/sms.md, "Routing and failover").',
              ),
            ),
          },
          'Who delivers SMS, from which sender.',
        ),
      ),
      app_name: field(
        patch ? Nullable(Type.String({ description: 'Product name used in SMS templates as {{app_name}}.' })) : Type.String(),
      ),
      test_mode: field(patch ? Nullable(StringEnum(TEST_MODES)) : StringEnum(TEST_MODES)),
      multi_factor: field(object({ phone_code: field(object({ enabled: field(patch ? Nullable(Type.Boolean()) : Type.Boolean()) })) })),
      allowed_origins: field(
        leaf(
          Type.Array(Type.String({ maxLength: ORIGIN_MAX_LENGTH }), {
            maxItems: ALLOWED_ORIGINS_MAX,
            description:
              'Origins (scheme://host[:port], exactly as browsers send them) whose pages may call the FAPI from a browser: CORS answers them, the client cookie works for them, and a state-changing FAPI request from any other origin is refused (origin_not_allowed). https only, except http on localhost. Default: none.',
          }),
        ),
      ),
      abuse: field(
        object(
          {
            sends_per_phone_number: field(windowLimit('max', 'Codes sent to one phone number per window (default 5 per 600 s).')),
            sends_per_ip: field(windowLimit('max', 'Codes requested from one IP address per window (default 20 per 600 s).')),
            creates_per_ip: field(
              windowLimit('max', 'New clients, sign-ups and sign-ins from one IP address per window (default 30 per 60 s).'),
            ),
            attempts_per_ip: field(
              windowLimit(
                'max',
                'Answers (codes and passwords) from one IP address per window, right or wrong, whatever they are for (default 30 per 300 s).',
              ),
            ),
            hourly_send_budget: field(
              leaf(
                Type.Integer({
                  ...ABUSE_BOUNDS.hourly_send_budget,
                  description:
                    'Codes sent per hour across the instance; over it, sends are refused and an audit entry is written (default 1000).',
                }),
              ),
            ),
            attempts_per_challenge: field(
              leaf(
                Type.Integer({
                  ...ABUSE_BOUNDS.attempts_per_challenge,
                  description: 'Wrong codes a challenge takes before it fails (default 5).',
                }),
              ),
            ),
            code_lifetime_minutes: field(
              leaf(
                Type.Integer({
                  ...ABUSE_BOUNDS.code_lifetime_minutes,
                  description:
                    'How long a code works after it was sent: the expire_at of its verification, {{expires_in_minutes}} in its SMS and the carrier validity period (default 10).',
                }),
              ),
            ),
            wrong_code_backoff: field(
              object(
                {
                  initial_seconds: field(
                    leaf(
                      Type.Integer({
                        ...ABUSE_BOUNDS.backoff_seconds,
                        description: 'The wait after the first challenge that ends on a wrong code; 0 switches the wait off (default 60).',
                      }),
                    ),
                  ),
                  max_seconds: field(
                    leaf(
                      Type.Integer({
                        ...ABUSE_BOUNDS.backoff_seconds,
                        description: 'The longest wait, at least initial_seconds (default 1920).',
                      }),
                    ),
                  ),
                },
                'The wait before a new code for a number and purpose after wrong codes: doubled for each challenge in a row that ended on a wrong code (in the last 24 hours), up to max_seconds, up to a fifth shorter at random; a right code starts again from initial_seconds. Refused with phone_code_failure_backoff and Retry-After.',
              ),
            ),
            password_lockout: field(
              windowLimit(
                'max_failures',
                'Wrong passwords per user per window before password sign-in is refused (default 10 per 3600 s).',
              ),
            ),
            sms_countries: field(
              object(
                {
                  mode: field(
                    leaf(
                      StringEnum(COUNTRY_LIST_MODES, {
                        description: 'allow: only the listed countries; deny: every country but the listed ones.',
                      }),
                    ),
                  ),
                  countries: field(
                    leaf(
                      Type.Array(Type.String({ pattern: '^[A-Z]{2}$' }), {
                        ...ABUSE_BOUNDS.countries,
                        description: 'ISO 3166-1 alpha-2 codes (default ["US", "CA"]).',
                      }),
                    ),
                  ),
                },
                'Destination countries codes may be sent to. Test-range numbers are always allowed.',
              ),
            ),
          },
          'SMS pumping and brute-force defences. Test-range numbers are exempt from the send limits and the budget.',
        ),
      ),
    },
    { additionalProperties: false },
  );
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
