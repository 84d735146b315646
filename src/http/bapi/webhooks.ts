/**
 * `/v1/webhooks/…`: endpoints (CRUD, secret rotation, test event), the delivery log and retry, and the event
 * catalogue. Secrets appear only in the answers to creation and rotation.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { DELIVERY_STATUSES } from '../../webhooks/deliveries.js';
import { EVENT_CATALOGUE, EVENT_TYPE_PATTERN } from '../../webhooks/catalogue.js';
import { Nullable, Page, PageQuery, StringEnum, errorResponses } from '../schemas.js';
import type { RouteOptions } from '../route-options.js';

const EventType = Type.String({ pattern: EVENT_TYPE_PATTERN, maxLength: 100, description: 'A dotted event type such as sms.delivered' });
const EventTypes = Nullable(
  Type.Array(EventType, {
    minItems: 1,
    maxItems: 100,
    description: 'The event types to deliver; null (or absent at creation) for every event.',
  }),
);
const Url = Type.String({ minLength: 1, maxLength: 2048, description: 'http(s) URL that receives the POSTs.' });
const Description = Nullable(Type.String({ maxLength: 500 }));

const endpointFields = {
  id: Type.String(),
  object: Type.Literal('webhook_endpoint'),
  url: Type.String(),
  description: Nullable(Type.String()),
  event_types: Nullable(Type.Array(Type.String())),
  enabled: Type.Boolean(),
  failing_since: Nullable(
    Type.Integer({
      description:
        'Since when every attempt to this endpoint has failed (ms since the epoch); null while it is healthy. After AUTHN_WEBHOOKS_DISABLE_FAILING_AFTER (5 days) of failures it is disabled.',
    }),
  ),
  created_at: Type.Integer({ description: 'ms since the epoch' }),
  updated_at: Type.Integer(),
};
const Endpoint = Type.Object(endpointFields);
const EndpointWithSecret = Type.Object({
  ...endpointFields,
  secret: Type.String({ description: 'whsec_… signing secret. Shown only in this answer: store it now.' }),
});

const Attempt = Type.Object({
  id: Type.String(),
  object: Type.Literal('webhook_attempt'),
  attempted_at: Type.Integer(),
  trigger: StringEnum(['scheduled', 'manual'] as const),
  url: Type.String(),
  succeeded: Type.Boolean(),
  status_code: Nullable(Type.Integer({ description: 'null when no HTTP answer came' })),
  latency_ms: Type.Integer(),
  response_body: Nullable(Type.String({ description: 'The start of the answer, up to AUTHN_WEBHOOKS_RESPONSE_BODY_LIMIT_BYTES' })),
  response_body_truncated: Type.Boolean(),
  error: Nullable(Type.String()),
});
const Delivery = Type.Object({
  id: Type.String(),
  object: Type.Literal('webhook_delivery'),
  endpoint_id: Type.String(),
  event_id: Type.String({ description: 'Also the webhook-id header of every attempt' }),
  event_type: Type.String(),
  status: StringEnum(DELIVERY_STATUSES),
  attempt_count: Type.Integer(),
  next_attempt_at: Nullable(Type.Integer()),
  created_at: Type.Integer(),
  updated_at: Type.Integer(),
  attempts: Type.Array(Attempt, { description: 'Oldest first' }),
});

const EndpointParams = Type.Object({ id: Type.String() });
const DeliveryParams = Type.Object({ id: Type.String() });

export const webhookRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  const { endpoints, deliveries } = services.webhooks;

  app.get(
    '/v1/webhooks/event_types',
    {
      schema: {
        summary: 'The event catalogue: every event type with an example of its data',
        response: {
          200: Type.Object({
            data: Type.Array(
              Type.Object({ type: Type.String(), description: Type.String(), example: Type.Object({}, { additionalProperties: true }) }),
            ),
          }),
          ...errorResponses(401),
        },
      },
    },
    async () => ({ data: EVENT_CATALOGUE.map(({ type, description, example }) => ({ type, description, example })) }),
  );

  app.post(
    '/v1/webhooks/endpoints',
    {
      schema: {
        summary: 'Create a webhook endpoint (the answer holds its signing secret, shown once)',
        body: Type.Object(
          {
            url: Url,
            description: Type.Optional(Description),
            event_types: Type.Optional(EventTypes),
            enabled: Type.Optional(Type.Boolean({ default: true })),
          },
          { additionalProperties: false },
        ),
        response: { 200: EndpointWithSecret, ...errorResponses(400, 401, 413, 415, 422) },
      },
    },
    async (request) => endpoints.create(request.body, request.actor!),
  );

  app.get(
    '/v1/webhooks/endpoints',
    {
      schema: {
        summary: 'List webhook endpoints',
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: Page(Endpoint), ...errorResponses(401, 422) },
      },
    },
    async (request) => endpoints.list(request.query),
  );

  app.get(
    '/v1/webhooks/endpoints/:id',
    { schema: { summary: 'Get a webhook endpoint', params: EndpointParams, response: { 200: Endpoint, ...errorResponses(401, 404) } } },
    async (request) => endpoints.get(request.params.id),
  );

  app.patch(
    '/v1/webhooks/endpoints/:id',
    {
      schema: {
        summary: 'Change a webhook endpoint (absent fields stay as they are)',
        params: EndpointParams,
        body: Type.Object(
          {
            url: Type.Optional(Url),
            description: Type.Optional(Description),
            event_types: Type.Optional(EventTypes),
            enabled: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 200: Endpoint, ...errorResponses(400, 401, 404, 413, 415, 422) },
      },
    },
    async (request) => endpoints.update(request.params.id, request.body, request.actor!),
  );

  app.delete(
    '/v1/webhooks/endpoints/:id',
    {
      schema: {
        summary: 'Delete a webhook endpoint, its pending deliveries and its delivery log',
        params: EndpointParams,
        response: {
          200: Type.Object({ id: Type.String(), object: Type.Literal('webhook_endpoint'), deleted: Type.Literal(true) }),
          ...errorResponses(401, 404),
        },
      },
    },
    async (request) => endpoints.delete(request.params.id, request.actor!),
  );

  app.post(
    '/v1/webhooks/endpoints/:id/rotate_secret',
    {
      schema: {
        summary: 'Rotate the signing secret: the answer holds the new one (shown once); the old one keeps signing for 24 hours',
        params: EndpointParams,
        response: { 200: EndpointWithSecret, ...errorResponses(401, 404) },
      },
    },
    async (request) => endpoints.rotateSecret(request.params.id, request.actor!),
  );

  app.post(
    '/v1/webhooks/endpoints/:id/send_test_event',
    {
      schema: {
        summary: 'Send a webhook.test event to this endpoint (delivered like any event; follow it in the delivery log)',
        params: EndpointParams,
        response: { 200: Delivery, ...errorResponses(401, 404, 409) },
      },
    },
    async (request) => deliveries.sendTest(request.params.id, request.actor!),
  );

  app.get(
    '/v1/webhooks/endpoints/:id/deliveries',
    {
      schema: {
        summary: "An endpoint's delivery log, newest first, each delivery with its attempts",
        params: EndpointParams,
        querystring: Type.Object(
          { status: Type.Optional(StringEnum(DELIVERY_STATUSES)), event_type: Type.Optional(EventType), ...PageQuery },
          { additionalProperties: false },
        ),
        response: { 200: Page(Delivery), ...errorResponses(401, 404, 422) },
      },
    },
    async (request) => deliveries.list(request.params.id, request.query),
  );

  app.get(
    '/v1/webhooks/deliveries/:id',
    {
      schema: {
        summary: 'Get one delivery with its attempts',
        params: DeliveryParams,
        response: { 200: Delivery, ...errorResponses(401, 404) },
      },
    },
    async (request) => deliveries.get(request.params.id),
  );

  app.post(
    '/v1/webhooks/deliveries/:id/retry',
    {
      schema: {
        summary: 'Re-send a delivery now (a finished one gets one more attempt; a pending one has its next attempt brought forward)',
        params: DeliveryParams,
        response: { 200: Delivery, ...errorResponses(401, 404, 409) },
      },
    },
    async (request) => deliveries.retry(request.params.id, request.actor!),
  );
};
