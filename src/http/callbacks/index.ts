/**
 * Carrier callbacks: public routes that Twilio and Vonage call with delivery reports. Each is authenticated
 * by the service before anything is read or written (Twilio: X-Twilio-Signature; Vonage: the per-message
 * token in the path, plus `sig` when a signature secret is configured); a request that fails gets 403.
 * Only here are form bodies accepted (the plugin is encapsulated, so BAPI and FAPI stay JSON-only).
 */
import formbody from '@fastify/formbody';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { TWILIO_STATUS_ROUTE, VONAGE_DLR_ROUTE } from '../../sms/callback-urls.js';
import { errorResponses } from '../schemas.js';
import type { RouteOptions } from '../bapi/index.js';

const Answer = Type.Object({ result: Type.String({ description: 'applied, ignored (out of order), duplicate or unknown_message' }) });
const MessageParam = Type.Object({ message_id: Type.String() });
/** Carriers add fields without notice: every field is accepted (and signed over). */
const FormFields = Type.Object({}, { additionalProperties: Type.Union([Type.String(), Type.Array(Type.String())]) });
const ReceiptFields = Type.Object({}, { additionalProperties: Type.Union([Type.String(), Type.Number(), Type.Boolean()]) });

export const callbackRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  await app.register(formbody);
  app.addHook('onRoute', (route) => {
    route.schema = { ...route.schema, tags: ['Carrier callbacks'] };
  });

  app.post(
    TWILIO_STATUS_ROUTE,
    {
      schema: {
        summary: 'Twilio message status callback (signed with X-Twilio-Signature)',
        params: MessageParam,
        body: FormFields,
        response: { 200: Answer, ...errorResponses(403, 415, 422) },
      },
    },
    async (request) => {
      const at = request.url.indexOf('?');
      const result = await services.smsCallbacks.twilioStatus({
        messageId: request.params.message_id,
        signature: request.headers['x-twilio-signature'] as string | undefined,
        query: at === -1 ? '' : request.url.slice(at),
        params: request.body as Record<string, string | string[]>,
      });
      return { result };
    },
  );

  const VonageParams = Type.Object({ message_id: Type.String(), token: Type.String() });
  const receipt = async (messageId: string, token: string, fields: Record<string, unknown>) => {
    const params = Object.fromEntries(Object.entries(fields).map(([name, value]) => [name, String(value)]));
    return { result: await services.smsCallbacks.vonageReceipt({ messageId, token, params }) };
  };
  app.post(
    VONAGE_DLR_ROUTE,
    {
      schema: {
        summary: 'Vonage delivery receipt (POST, form or JSON)',
        params: VonageParams,
        body: ReceiptFields,
        response: { 200: Answer, ...errorResponses(403, 415, 422) },
      },
    },
    async (request) => receipt(request.params.message_id, request.params.token, request.body as Record<string, unknown>),
  );
  app.get(
    VONAGE_DLR_ROUTE,
    {
      schema: {
        summary: 'Vonage delivery receipt (GET, query string)',
        params: VonageParams,
        querystring: Type.Object({}, { additionalProperties: Type.String() }),
        response: { 200: Answer, ...errorResponses(403, 422) },
      },
    },
    async (request) => receipt(request.params.message_id, request.params.token, request.query as Record<string, unknown>),
  );
};
