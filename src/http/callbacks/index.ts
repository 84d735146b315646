/**
 * Carrier callbacks: public routes that Twilio and Vonage call with delivery reports. Each is authenticated
 * by the service before anything is read or written, and before its fields are checked (Twilio:
 * X-Twilio-Signature; Vonage: the per-message token in the path, plus `sig` when a signature secret is
 * configured); a request that fails gets a short 403, whatever its body.
 * Only here are form bodies accepted (the plugin is encapsulated, so BAPI and FAPI stay JSON-only).
 */
import formbody from '@fastify/formbody';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { TWILIO_STATUS_ROUTE, VONAGE_DLR_ROUTE } from '../../sms/callback-urls.js';
import type { Authenticated, TwilioRequest, VonageRequest } from '../../sms/callbacks.js';
import type { FormParams } from '../../sms/drivers/twilio.js';
import { errorResponses } from '../schemas.js';
import type { RouteOptions } from '../route-options.js';

const Answer = Type.Object({ result: Type.String({ description: 'applied, ignored (out of order), duplicate or unknown_message' }) });
const MessageParam = Type.Object({ message_id: Type.String() });
/** Carriers add fields without notice: every field is accepted (and signed over). */
const FormFields = Type.Object({}, { additionalProperties: Type.Union([Type.String(), Type.Array(Type.String())]) });
const ReceiptFields = Type.Object({}, { additionalProperties: Type.Union([Type.String(), Type.Number(), Type.Boolean()]) });

/** The request as the service authenticates it: before validation, so its body is still unchecked. */
function twilioRequest(request: FastifyRequest): TwilioRequest {
  const at = request.url.indexOf('?');
  return {
    messageId: (request.params as { message_id: string }).message_id,
    signature: request.headers['x-twilio-signature'] as string | undefined,
    query: at === -1 ? '' : request.url.slice(at),
    body: request.body,
  };
}

/** `fields`: the body (POST) or the query string (GET). */
function vonageRequest(request: FastifyRequest, fields: unknown): VonageRequest {
  const params = request.params as { message_id: string; token: string };
  return { messageId: params.message_id, token: params.token, fields };
}

export const callbackRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  await app.register(formbody);
  // Authentication runs before validation (preValidation); the handler takes what it authenticated.
  const twilioCallbacks = new WeakMap<FastifyRequest, Authenticated<FormParams>>();
  const vonageReceipts = new WeakMap<FastifyRequest, Authenticated<Record<string, string>>>();
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
      preValidation: async (request) => {
        twilioCallbacks.set(request, await services.smsCallbacks.authenticateTwilio(twilioRequest(request)));
      },
    },
    async (request) => ({ result: await services.smsCallbacks.twilioStatus(twilioCallbacks.get(request)!) }),
  );

  const VonageParams = Type.Object({ message_id: Type.String(), token: Type.String() });
  app.post(
    VONAGE_DLR_ROUTE,
    {
      schema: {
        summary: 'Vonage delivery receipt (POST, form or JSON)',
        params: VonageParams,
        body: ReceiptFields,
        response: { 200: Answer, ...errorResponses(403, 415, 422) },
      },
      preValidation: async (request) => {
        vonageReceipts.set(request, await services.smsCallbacks.authenticateVonage(vonageRequest(request, request.body)));
      },
    },
    async (request) => ({ result: await services.smsCallbacks.vonageReceipt(vonageReceipts.get(request)!) }),
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
      preValidation: async (request) => {
        vonageReceipts.set(request, await services.smsCallbacks.authenticateVonage(vonageRequest(request, request.query)));
      },
    },
    async (request) => ({ result: await services.smsCallbacks.vonageReceipt(vonageReceipts.get(request)!) }),
  );
};
