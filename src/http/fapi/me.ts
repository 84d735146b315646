/**
 * The signed-in user (session token): their account, and the phone second factor — enrol (start → prepare →
 * attempt), list, remove.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses } from '../schemas.js';
import { CodeParam, IdParams, List, PhoneCodeStrategy, PhoneNumber, PhoneNumberParam, User } from '../auth-schemas.js';
import type { RouteOptions } from '../route-options.js';
import { requireSessionToken } from './guards.js';

const Enrol = Type.Object({ phone_number: PhoneNumberParam }, { additionalProperties: false });
const Prepare = Type.Object({ strategy: PhoneCodeStrategy }, { additionalProperties: false });
const Attempt = Type.Object({ strategy: PhoneCodeStrategy, code: CodeParam }, { additionalProperties: false });

export const meRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  requireSessionToken(app, services);

  app.get('/v1/me', { schema: { summary: 'The signed-in user', response: { 200: User, ...errorResponses(401) } } }, async (request) =>
    services.users.view(request.signedIn!.userId),
  );

  app.get(
    '/v1/me/mfa/phone_numbers',
    {
      schema: {
        summary: 'Phone second factors: enrolled numbers and enrolments in progress',
        response: { 200: List(PhoneNumber), ...errorResponses(401) },
      },
    },
    async (request) => ({ data: await services.mfa.list(request.signedIn!.userId) }),
  );

  app.post(
    '/v1/me/mfa/phone_numbers',
    {
      schema: {
        summary: 'Start enrolling a phone number as second factor',
        body: Enrol,
        response: { 201: PhoneNumber, ...errorResponses(400, 401, 415, 422) },
      },
    },
    async (request, reply) => reply.code(201).send(await services.mfa.start(request.signedIn!.userId, request.body)),
  );

  app.post(
    '/v1/me/mfa/phone_numbers/:id/prepare_verification',
    {
      schema: {
        summary: 'Send a code to the number being enrolled',
        params: IdParams,
        body: Prepare,
        response: { 200: PhoneNumber, ...errorResponses(400, 401, 404, 415, 422, 429) },
      },
    },
    async (request) => services.mfa.prepare(request.signedIn!.userId, request.params.id, { ip: request.ip }),
  );

  app.post(
    '/v1/me/mfa/phone_numbers/:id/attempt_verification',
    {
      schema: {
        summary: 'Check the code; a right one enrols the number',
        params: IdParams,
        body: Attempt,
        response: { 200: PhoneNumber, ...errorResponses(400, 401, 404, 415, 422, 429) },
      },
    },
    async (request) => services.mfa.attempt(request.signedIn!.userId, request.params.id, request.body.code, { ip: request.ip }),
  );

  app.delete(
    '/v1/me/mfa/phone_numbers/:id',
    {
      schema: {
        summary: 'Remove a phone second factor (or an enrolment in progress)',
        params: IdParams,
        response: { 200: PhoneNumber, ...errorResponses(401, 404) },
      },
    },
    async (request) => services.mfa.remove(request.signedIn!.userId, request.params.id),
  );
};
