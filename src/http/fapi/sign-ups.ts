/**
 * Sign-up with a phone number: `POST /v1/client/sign_ups` → `prepare_verification` (a code by SMS) →
 * `attempt_verification` (the code) → `status: "complete"` with the new user and session.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses } from '../schemas.js';
import { CodeParam, IdParams, PasswordParam, PhoneCodeStrategy, PhoneNumberParam, SignUp } from '../auth-schemas.js';
import type { RouteOptions } from '../route-options.js';
import { requireClientToken } from './guards.js';

const CreateSignUp = Type.Object(
  { phone_number: PhoneNumberParam, password: Type.Optional(PasswordParam) },
  { additionalProperties: false },
);
const Prepare = Type.Object({ strategy: PhoneCodeStrategy }, { additionalProperties: false });
const Attempt = Type.Object({ strategy: PhoneCodeStrategy, code: CodeParam }, { additionalProperties: false });

export const signUpRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  requireClientToken(app, services);

  app.post(
    '/v1/client/sign_ups',
    {
      schema: {
        summary: 'Start a sign-up with a phone number (and an optional password)',
        body: CreateSignUp,
        response: { 201: SignUp, ...errorResponses(400, 401, 415, 422, 429) },
      },
    },
    async (request, reply) => reply.code(201).send(await services.signUps.create(request.clientId!, request.body, { ip: request.ip })),
  );

  app.get(
    '/v1/client/sign_ups/:id',
    { schema: { summary: 'Read a sign-up', params: IdParams, response: { 200: SignUp, ...errorResponses(401, 404) } } },
    async (request) => services.signUps.get(request.clientId!, request.params.id),
  );

  app.post(
    '/v1/client/sign_ups/:id/prepare_verification',
    {
      schema: {
        summary: 'Send a verification code to the sign-up phone number',
        params: IdParams,
        body: Prepare,
        response: { 200: SignUp, ...errorResponses(400, 401, 404, 415, 422, 429) },
      },
    },
    async (request) => services.signUps.prepare(request.clientId!, request.params.id, { ip: request.ip }),
  );

  app.post(
    '/v1/client/sign_ups/:id/attempt_verification',
    {
      schema: {
        summary: 'Check the code; a right one completes the sign-up (user, session and its first token)',
        params: IdParams,
        body: Attempt,
        response: { 200: SignUp, ...errorResponses(400, 401, 404, 415, 422, 429) },
      },
    },
    async (request) => services.signUps.attempt(request.clientId!, request.params.id, request.body.code, { ip: request.ip }),
  );
};
