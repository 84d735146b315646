/** `GET /v1/sms/delivery_stats`: the figures of the dashboard's delivery & cost page, for graphing them elsewhere. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { DELIVERY_WINDOWS } from '../../sms/delivery-stats.js';
import { FAILURE_CLASSES } from '../../sms/failures.js';
import { FAILOVER_REASONS } from '../../sms/statuses.js';
import { Nullable, StringEnum, errorResponses } from '../schemas.js';
import type { RouteOptions } from '../route-options.js';

const figureFields = {
  messages: Type.Integer({
    description: 'Messages queued for a carrier (the reserved test range and messages you deliver yourself aside)',
  }),
  sent: Type.Integer({ description: 'Accepted by a carrier' }),
  delivered: Type.Integer(),
  undelivered: Type.Integer(),
  failed: Type.Integer(),
  expired: Type.Integer({ description: 'Codes that stopped being useful before they could be sent' }),
  failovers: Type.Integer({ description: 'Messages that went through more than one driver' }),
  delivery_rate: Nullable(
    Type.Number({
      description: 'Delivered out of those that reached a final outcome (delivered, undelivered, failed, expired); null: none did',
    }),
  ),
  time_to_delivery: Nullable(
    Type.Object(
      { median_ms: Type.Integer(), p90_ms: Type.Integer() },
      { description: "From the carrier's acceptance to its delivery report (nearest-rank percentiles); null: nothing delivered" },
    ),
  ),
};

const amount = Type.String({ description: 'A decimal number, exact (e.g. "0.0666")' });

const DeliveryStats = Type.Object({
  object: Type.Literal('sms_delivery_stats'),
  window: StringEnum(DELIVERY_WINDOWS),
  simulated: Type.Boolean({ description: 'true: the figures of simulated messages only (see `simulated` in the query)' }),
  from: Type.Integer({ description: 'Start of the window (ms since the epoch, inclusive)' }),
  to: Type.Integer({ description: 'End of the window (exclusive)' }),
  bucket_ms: Type.Integer({ description: 'Width of one bucket of `series`' }),
  totals: Type.Object(figureFields),
  by_driver: Type.Array(Type.Object({ driver: Type.String(), ...figureFields })),
  by_country: Type.Array(
    Type.Object({
      country: Nullable(Type.String({ description: 'ISO 3166 alpha-2; null: a number of no single country' })),
      ...figureFields,
    }),
  ),
  series: Type.Array(
    Type.Object({
      driver: Type.String(),
      buckets: Type.Array(Type.Object({ start: Type.Integer(), ...figureFields }), {
        description: 'Every bucket of the window, oldest first',
      }),
    }),
  ),
  failover_reasons: Type.Array(
    Type.Object({
      from: Type.String({ description: 'The driver the messages moved from' }),
      to: Type.String({ description: 'The failover driver' }),
      reason: StringEnum(FAILOVER_REASONS, { description: 'Why they moved (docs/sms.md, "Failover")' }),
      count: Type.Integer(),
    }),
    { description: 'The moves to a failover driver in the window, most frequent first' },
  ),
  error_codes: Type.Array(
    Type.Object({
      driver: Type.String(),
      phase: StringEnum(['send', 'receipt'] as const, {
        description: "send: in the carrier's answer to the send request; receipt: in a later delivery report",
      }),
      code: Type.String(),
      meaning: Type.String(),
      failure_class: StringEnum(FAILURE_CLASSES),
      count: Type.Integer(),
    }),
    { description: 'The most frequent codes, most frequent first (at most 10)' },
  ),
  costs: Type.Array(
    Type.Object({
      driver: Type.String(),
      country: Nullable(Type.String()),
      currency: Type.String({ description: 'ISO 4217' }),
      amount,
      attempts: Type.Integer({ description: 'Attempts the carrier reported a price for' }),
    }),
  ),
  cost_totals: Type.Array(Type.Object({ currency: Type.String(), amount })),
});

export const smsDeliveryStatsRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  app.get(
    '/v1/sms/delivery_stats',
    {
      schema: {
        summary: 'Delivery and cost figures of the last hour, day or week',
        description:
          'By driver and country, with a series of equal buckets (12 for an hour, 24 for a day, 28 for a week), the top carrier error codes and what the carriers charged.',
        querystring: Type.Object(
          {
            window: Type.Optional(StringEnum(DELIVERY_WINDOWS, { description: 'Default: day' })),
            simulated: Type.Optional(
              Type.Boolean({
                description:
                  'true: the same figures over simulated messages only (the reserved test range +15555550190…0199 under test_mode enabled), so a test instance can see its simulated outcomes. Default: false, real messages only.',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: DeliveryStats, ...errorResponses(401, 422) },
      },
    },
    async (request) => services.deliveryStats.stats(request.query.window ?? 'day', { simulated: request.query.simulated ?? false }),
  );
};
