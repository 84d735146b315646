/** The SMS message log: `GET /v1/sms_messages`, `GET /v1/sms_messages/{id}`, and the "send test SMS" action. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { SMS_STATUSES } from '../../sms/engine.js';
import { FAILOVER_REASONS } from '../../sms/statuses.js';
import { Nullable, Page, PageQuery, StringEnum, errorResponses } from '../schemas.js';
import type { RouteOptions } from '../route-options.js';

const ms = (description: string) => Nullable(Type.Integer({ description: `${description} (ms since the epoch)` }));

const messageFields = {
  id: Type.String(),
  object: Type.Literal('sms_message'),
  created_at: Type.Integer(),
  updated_at: Type.Integer(),
  template: Type.String({ description: 'Template slug, or test_message for POST /v1/sms_messages/test' }),
  to_phone_number: Type.String(),
  from_phone_number: Nullable(Type.String()),
  messaging_service_sid: Nullable(Type.String()),
  body: Type.String({ description: 'The body as sent; with a real driver, a verification code is masked' }),
  encoding: Type.String(),
  segments: Type.Integer(),
  status: StringEnum(SMS_STATUSES),
  driver: Nullable(Type.String()),
  test_number: Type.Boolean(),
  delivered_by_us: Type.Boolean(),
  challenge_id: Nullable(Type.String()),
  expires_at: ms('When the code in this message stops being useful'),
  attempt_count: Type.Integer(),
  next_attempt_at: ms('When the dispatcher will (next) try'),
  next_status_check_at: ms('When the server will ask the carrier for the status, if no final report comes first (Twilio)'),
  carrier_message_id: Nullable(Type.String()),
  carrier_status: Nullable(Type.String()),
  carrier_parts: Nullable(Type.Integer()),
  error_code: Nullable(Type.String({ description: "The carrier's error code, or ours: timeout, network_error, http_<status>, expired" })),
  error_message: Nullable(Type.String()),
  sent_at: ms('When the carrier accepted it'),
  completed_at: ms('When it reached a terminal status'),
  country: Nullable(Type.String({ description: "The destination's country (ISO 3166 alpha-2); null for a number of no single country" })),
  failover: Nullable(
    Type.Object(
      {
        from: Type.String({ description: 'The first driver' }),
        to: Type.String({ description: 'The failover driver' }),
        at: Type.Integer({ description: 'When the message moved (ms since the epoch)' }),
        reason: StringEnum(FAILOVER_REASONS),
      },
      { description: 'The move to the failover driver (docs/sms.md, "Failover"); null: the message has not moved' },
    ),
  ),
};

const SmsMessage = Type.Object(messageFields);

const SmsMessageDetail = Type.Object({
  ...messageFields,
  attempts: Type.Array(
    Type.Object({
      attempt: Type.Integer(),
      driver: Type.String(),
      worker: Type.String(),
      started_at: Type.Integer(),
      finished_at: Type.Integer(),
      outcome: Type.String({ description: 'accepted, dropped, transient_error, permanent_error, expired, released, lease_expired' }),
      carrier_message_id: Nullable(Type.String()),
      http_status: Nullable(Type.Integer()),
      error_code: Nullable(Type.String()),
      error_message: Nullable(Type.String()),
      price: Nullable(
        Type.String({
          description:
            'What the carrier charged for this attempt, an exact decimal (Vonage: its answer or receipt; Twilio: when fetched); null: not reported',
        }),
      ),
      price_currency: Nullable(Type.String({ description: 'ISO 4217' })),
    }),
  ),
  status_history: Type.Array(
    Type.Object({
      created_at: Type.Integer(),
      status: Type.String(),
      source: Type.String({ description: 'engine, dispatcher, twilio or vonage' }),
      carrier_status: Nullable(Type.String()),
      carrier_message_id: Nullable(Type.String()),
      error_code: Nullable(Type.String()),
      error_message: Nullable(Type.String()),
      applied: Type.Boolean({ description: 'false: a carrier report that arrived after a later status and changed nothing' }),
    }),
  ),
});

const ListQuery = Type.Object(
  {
    status: Type.Optional(StringEnum(SMS_STATUSES)),
    to: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Recipient: with its country code in any notation, or a national number of the countries codes may go to (abuse.sms_countries, allow list)',
      }),
    ),
    template: Type.Optional(Type.String({ minLength: 1 })),
    created_after: Type.Optional(Type.Integer({ minimum: 0, description: 'ms since the epoch, inclusive' })),
    created_before: Type.Optional(Type.Integer({ minimum: 0, description: 'ms since the epoch, exclusive' })),
    ...PageQuery,
  },
  { additionalProperties: false },
);

export const smsMessageRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  app.get(
    '/v1/sms_messages',
    {
      schema: {
        summary: 'List SMS messages, newest first',
        querystring: ListQuery,
        response: { 200: Page(SmsMessage), ...errorResponses(401, 422) },
      },
    },
    async (request) => {
      const { starting_after, ...filter } = request.query;
      return services.smsMessages.list(filter, starting_after);
    },
  );

  app.get(
    '/v1/sms_messages/:id',
    {
      schema: {
        summary: 'One SMS message with its attempts and status history',
        params: Type.Object({ id: Type.String() }),
        response: { 200: SmsMessageDetail, ...errorResponses(401, 404) },
      },
    },
    async (request) => services.smsMessages.get(request.params.id),
  );

  app.post(
    '/v1/sms_messages/test',
    {
      schema: {
        summary: 'Send a fixed test message through the configured driver',
        description: 'Queues the message and answers at once; follow it with GET /v1/sms_messages/{id}.',
        body: Type.Object({ to: Type.String({ description: 'Recipient, E.164' }) }, { additionalProperties: false }),
        response: { 202: SmsMessageDetail, ...errorResponses(400, 401, 413, 415, 422) },
      },
    },
    async (request, reply) => reply.code(202).send(await services.smsMessages.sendTest(request.body.to, request.actor!)),
  );
};
