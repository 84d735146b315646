/**
 * Every error has the documented shape, `meta` included: `{ code, message, long_message, meta }`, with `meta` an
 * object, and `meta.param_name` naming the input the error is about (a field, the `Authorization` header, the
 * path's `id`) when there is one.
 */
import Fastify from 'fastify';
import type { LightMyRequestResponse } from 'fastify';
import { describe, expect, it } from 'vitest';
import { AppError, ERROR_CODES, appError, errorDetail, type ErrorCode } from '../../src/errors.js';
import { errorHandler } from '../../src/http/errors.js';
import { ErrorEnvelope, errorResponses } from '../../src/http/schemas.js';
import { STORES, type TestServer } from '../helpers/server.js';
import { type Fapi, numbers, patchSettings, snapshot, useAuthServer } from '../auth/helpers.js';
import { ManualClock } from '../helpers/clock.js';

function expectEnvelope(res: LightMyRequestResponse, status: number, code: string, meta: Record<string, unknown>): void {
  expect(res.statusCode, res.body).toBe(status);
  const { errors } = res.json() as { errors: Record<string, unknown>[] };
  expect(errors).toHaveLength(1);
  expect(Object.keys(errors[0]!).sort(), res.body).toEqual(['code', 'long_message', 'message', 'meta']);
  expect(errors[0]).toEqual({ code, message: ERROR_CODES[code as ErrorCode].message, long_message: expect.any(String), meta });
}

describe('the error serialiser', () => {
  // The server's error handler and envelope schema, on a bare route that throws each code with nothing but the code
  // (the least a call site can give): no code, however it is raised, leaves without `meta`. The next suite produces
  // codes through the real server's routes, with the `param_name` each should carry.
  async function answer(error: AppError): Promise<LightMyRequestResponse> {
    const app = Fastify();
    app.addSchema(ErrorEnvelope);
    app.setErrorHandler(errorHandler);
    const status = error.status;
    app.get('/', { schema: { response: errorResponses(status) } }, async () => {
      throw error;
    });
    const res = await app.inject({ method: 'GET', url: '/' });
    await app.close();
    return res;
  }

  it.each(Object.keys(ERROR_CODES) as ErrorCode[])('%s leaves with meta, an object', async (code) => {
    expectEnvelope(await answer(appError(code)), ERROR_CODES[code].status, code, {});
    expectEnvelope(await answer(new AppError([errorDetail(code)])), ERROR_CODES[code].status, code, {});
  });

  it('keeps param_name and the other details in meta', async () => {
    expectEnvelope(
      await answer(appError('form_code_incorrect', { paramName: 'code', meta: { attempts_remaining: 4 } })),
      422,
      'form_code_incorrect',
      { param_name: 'code', attempts_remaining: 4 },
    );
  });
});

describe.each(STORES)('errors through the real server, on %s', (kind) => {
  let server!: TestServer;
  let fapi!: Fapi;
  const clock = new ManualClock();
  const nextNumber = numbers(7_000);

  useAuthServer(
    kind,
    (s, f) => {
      server = s;
      fapi = f;
    },
    { clock },
  );

  const me = (jwt: string) => ({ auth: jwt });

  /** The answer, checked to have changed no row of the flow tables. */
  async function refused(send: () => Promise<LightMyRequestResponse>): Promise<LightMyRequestResponse> {
    const before = await snapshot(server);
    const res = await send();
    expect(await snapshot(server)).toEqual(before);
    return res;
  }

  it('request-shape errors: a field error names the field, the others have an empty meta', async () => {
    const patch = (payload: string, contentType = 'application/json') =>
      server.inject({
        method: 'PATCH',
        url: '/v1/instance',
        headers: { authorization: `Bearer ${server.key}`, 'content-type': contentType },
        payload,
      });
    expectEnvelope(await server.inject({ method: 'GET', url: '/v1/nothing-here' }), 404, 'route_not_found', {});
    expectEnvelope(await patch('{"app_name": '), 400, 'malformed_request_body', {});
    expectEnvelope(await patch('app_name=x', 'text/plain'), 415, 'unsupported_media_type', {});
    expectEnvelope(await patch(JSON.stringify({ colour: 'red' })), 422, 'form_param_unknown', { param_name: 'colour' });
  });

  it('client tokens: missing and invalid name the Authorization header', async () => {
    const body = { phone_number: nextNumber() };
    expectEnvelope(await refused(() => fapi.call('POST', '/v1/client/sign_ups', body, { auth: null })), 401, 'client_token_missing', {
      param_name: 'Authorization',
    });
    expectEnvelope(
      await refused(() => fapi.call('POST', '/v1/client/sign_ups', body, { auth: 'ct_not_a_token' })),
      401,
      'client_token_invalid',
      { param_name: 'Authorization' },
    );
  });

  it('secret keys: missing, malformed and unknown name the Authorization header', async () => {
    expectEnvelope(await server.inject({ method: 'GET', url: '/v1/users' }), 401, 'authorization_header_missing', {
      param_name: 'Authorization',
    });
    expectEnvelope(
      await server.inject({ method: 'GET', url: '/v1/users', headers: { authorization: 'Basic abc' } }),
      401,
      'authorization_header_malformed',
      { param_name: 'Authorization' },
    );
    expectEnvelope(
      await server.inject({ method: 'GET', url: '/v1/users', headers: { authorization: `Bearer sk_test_${'A'.repeat(40)}` } }),
      401,
      'secret_key_invalid',
      { param_name: 'Authorization' },
    );
  });

  it('session tokens and ended sessions name where the session came from', async () => {
    const { sessionId, jwt } = await fapi.signedUpUser(nextNumber());
    expectEnvelope(await refused(() => fapi.call('GET', '/v1/me', undefined, { auth: null })), 401, 'session_token_missing', {
      param_name: 'Authorization',
    });
    expectEnvelope(
      await refused(() => fapi.call('GET', '/v1/me', undefined, me('eyJhbGciOiJFUzI1NiJ9.e30.c2ln'))),
      401,
      'session_token_invalid',
      { param_name: 'Authorization' },
    );
    expect((await fapi.call('POST', `/v1/client/sessions/${sessionId}/end`)).statusCode).toBe(200);
    expectEnvelope(await refused(() => fapi.call('GET', '/v1/me', undefined, me(jwt))), 401, 'session_inactive', {
      param_name: 'Authorization',
    });
    expectEnvelope(await refused(() => fapi.call('POST', `/v1/client/sessions/${sessionId}/tokens`)), 401, 'session_inactive', {
      param_name: 'id',
    });
  });

  it('an unknown id names the path parameter', async () => {
    expectEnvelope(await refused(() => fapi.call('GET', '/v1/client/sign_ins/sia_nothing')), 404, 'resource_not_found', {
      param_name: 'id',
    });
    expectEnvelope(await refused(() => fapi.call('GET', '/v1/client/sign_ups/sua_nothing')), 404, 'resource_not_found', {
      param_name: 'id',
    });
    expectEnvelope(await refused(() => fapi.call('POST', '/v1/client/sessions/sess_nothing/tokens')), 404, 'resource_not_found', {
      param_name: 'id',
    });
    expectEnvelope(await refused(() => server.bapi('GET', '/v1/users/user_nothing')), 404, 'resource_not_found', { param_name: 'id' });
    expectEnvelope(await refused(() => server.bapi('POST', '/v1/sessions/sess_nothing/revoke')), 404, 'resource_not_found', {
      param_name: 'id',
    });
  });

  it('a code attempt before any code names the code; a finished flow and a cooldown have meta but no param', async () => {
    const phone = nextNumber();
    const { id } = await fapi.signUp(phone);
    expectEnvelope(
      await refused(() => fapi.call('POST', `/v1/client/sign_ups/${id}/attempt_verification`, { strategy: 'phone_code', code: '123456' })),
      422,
      'verification_not_prepared',
      { param_name: 'code' },
    );
    expect((await fapi.call('POST', `/v1/client/sign_ups/${id}/prepare_verification`, { strategy: 'phone_code' })).statusCode).toBe(200);
    const cooldown = await refused(() => fapi.call('POST', `/v1/client/sign_ups/${id}/prepare_verification`, { strategy: 'phone_code' }));
    expectEnvelope(cooldown, 429, 'phone_code_resend_cooldown', { next_code_at: expect.any(Number) });
    expect(cooldown.headers['retry-after']).toMatch(/^\d+$/);
    expect(
      (
        await fapi.call('POST', `/v1/client/sign_ups/${id}/attempt_verification`, {
          strategy: 'phone_code',
          code: await fapi.lastCode(phone),
        })
      ).statusCode,
    ).toBe(200);
    expectEnvelope(
      await refused(() => fapi.call('POST', `/v1/client/sign_ups/${id}/prepare_verification`, { strategy: 'phone_code' })),
      422,
      'flow_step_invalid',
      {},
    );
  });

  it('the per-number send limit has meta', async () => {
    await patchSettings(server, { abuse: { sends_per_phone_number: { max: 1, window_seconds: 3_600 } } });
    try {
      const { id } = await fapi.signUp(nextNumber());
      expect((await fapi.call('POST', `/v1/client/sign_ups/${id}/prepare_verification`, { strategy: 'phone_code' })).statusCode).toBe(200);
      clock.advance(60_000);
      const res = await refused(() => fapi.call('POST', `/v1/client/sign_ups/${id}/prepare_verification`, { strategy: 'phone_code' }));
      expectEnvelope(res, 429, 'phone_number_send_limit_reached', {});
    } finally {
      await patchSettings(server, { abuse: { sends_per_phone_number: null } });
    }
  });

  it('a new MFA enrolment while phone MFA is off has meta', async () => {
    const { jwt } = await fapi.signedUpUser(nextNumber());
    await patchSettings(server, { multi_factor: { phone_code: { enabled: false } } });
    try {
      const res = await refused(() => fapi.call('POST', '/v1/me/mfa/phone_numbers', { phone_number: nextNumber() }, me(jwt)));
      expectEnvelope(res, 422, 'phone_mfa_disabled', {});
    } finally {
      await patchSettings(server, { multi_factor: { phone_code: { enabled: true } } });
    }
  });
});
