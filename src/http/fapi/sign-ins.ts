/**
 * Sign-in by phone number: `POST /v1/client/sign_ins` → first factor (a phone code, or the password) →
 * when the password was used and the user has a phone second factor, `needs_second_factor` → a code to that
 * number → `status: "complete"` with the new session.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { appError } from '../../errors.js';
import type { FirstFactorAttempt } from '../../auth/sign-ins.js';
import { StringEnum, errorResponses } from '../schemas.js';
import { CodeParam, IdParams, PasswordParam, PhoneCodeStrategy, PhoneNumberParam, SignIn } from '../auth-schemas.js';
import type { RouteOptions } from '../route-options.js';
import { requireClientToken } from './guards.js';

const CreateSignIn = Type.Object(
  {
    identifier: PhoneNumberParam,
    password: Type.Optional({ ...PasswordParam, minLength: 1, description: 'Attempts the password at once.' }),
  },
  { additionalProperties: false },
);
const Prepare = Type.Object({ strategy: PhoneCodeStrategy }, { additionalProperties: false });
const PrepareSecond = Type.Object(
  {
    strategy: PhoneCodeStrategy,
    phone_number_id: Type.Optional(Type.String({ description: 'One of supported_second_factors (default: the first).' })),
  },
  { additionalProperties: false },
);
const AttemptFirst = Type.Object(
  {
    strategy: StringEnum(['phone_code', 'password'] as const),
    code: Type.Optional({ ...CodeParam, description: 'With strategy phone_code.' }),
    password: Type.Optional({ ...PasswordParam, minLength: 1, description: 'With strategy password.' }),
  },
  { additionalProperties: false },
);
const AttemptSecond = Type.Object({ strategy: PhoneCodeStrategy, code: CodeParam }, { additionalProperties: false });

const responses = { 200: SignIn, ...errorResponses(400, 401, 404, 415, 422, 429) };

/** The strategy's own field must be there (and only it): the body schema cannot say which depends on which. */
function firstFactor(body: { strategy: 'phone_code' | 'password'; code?: string; password?: string }): FirstFactorAttempt {
  const field = body.strategy === 'phone_code' ? 'code' : 'password';
  const other = body.strategy === 'phone_code' ? 'password' : 'code';
  if (body[other] !== undefined)
    throw appError('form_param_unknown', { paramName: other, longMessage: `${other} does not go with strategy ${body.strategy}` });
  const value = body[field];
  if (value === undefined)
    throw appError('form_param_missing', { paramName: field, longMessage: `${field} is required with strategy ${body.strategy}` });
  return body.strategy === 'phone_code' ? { strategy: 'phone_code', code: value } : { strategy: 'password', password: value };
}

export const signInRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  requireClientToken(app, services);

  app.post(
    '/v1/client/sign_ins',
    {
      schema: {
        summary: 'Start a sign-in with the phone number (and, optionally, the password at once)',
        body: CreateSignIn,
        response: { 201: SignIn, ...errorResponses(400, 401, 415, 422, 429) },
      },
    },
    async (request, reply) => reply.code(201).send(await services.signIns.create(request.clientId!, request.body, { ip: request.ip })),
  );

  app.get(
    '/v1/client/sign_ins/:id',
    { schema: { summary: 'Read a sign-in', params: IdParams, response: { 200: SignIn, ...errorResponses(401, 404) } } },
    async (request) => services.signIns.get(request.clientId!, request.params.id),
  );

  app.post(
    '/v1/client/sign_ins/:id/prepare_first_factor',
    { schema: { summary: 'Send a code to the phone number signed in with', params: IdParams, body: Prepare, response: responses } },
    async (request) => services.signIns.prepareFirstFactor(request.clientId!, request.params.id, { ip: request.ip }),
  );

  app.post(
    '/v1/client/sign_ins/:id/attempt_first_factor',
    {
      schema: {
        summary: 'Check the first factor: the phone code, or the password',
        params: IdParams,
        body: AttemptFirst,
        response: responses,
      },
    },
    async (request) =>
      services.signIns.attemptFirstFactor(request.clientId!, request.params.id, firstFactor(request.body), { ip: request.ip }),
  );

  app.post(
    '/v1/client/sign_ins/:id/prepare_second_factor',
    { schema: { summary: 'Send a code to the enrolled phone second factor', params: IdParams, body: PrepareSecond, response: responses } },
    async (request) => services.signIns.prepareSecondFactor(request.clientId!, request.params.id, request.body, { ip: request.ip }),
  );

  app.post(
    '/v1/client/sign_ins/:id/attempt_second_factor',
    {
      schema: {
        summary: 'Check the second-factor code; a right one completes the sign-in',
        params: IdParams,
        body: AttemptSecond,
        response: responses,
      },
    },
    async (request) => services.signIns.attemptSecondFactor(request.clientId!, request.params.id, request.body.code, { ip: request.ip }),
  );
};
