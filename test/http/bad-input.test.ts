/**
 * The bad input of issue 17, case by case, on both stores: text PostgreSQL cannot hold (NUL, unpaired
 * surrogates), numbers that are not finite or not exact, and the router's own refusals (bad percent-encoding, an
 * over-long path parameter), and what Node's HTTP parser refuses before Fastify sees it. Each is a 4xx in the
 * envelope, logs nothing at error level and changes nothing.
 * The generated sweep over every route is in bad-input-generated.test.ts.
 */
import net, { type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { ERROR_CODES } from '../../src/errors.js';
import { clientErrorHandler } from '../../src/http/errors.js';
import { inputRuleProblems } from '../../src/http/validation.js';
import { STORES, storeFingerprint, useTestServer, type TestServer } from '../helpers/server.js';
import { type Fapi, expectError, useAuthServer } from '../auth/helpers.js';

const LIST_ROUTES = [
  '/v1/audit_logs',
  '/v1/sms_messages',
  '/v1/users',
  '/v1/sessions',
  '/v1/webhooks/endpoints',
  '/v1/webhooks/endpoints/whe_01J00000000000000000000000/deliveries',
];

describe.each(STORES)('bad input refused at validation on %s', (kind) => {
  let server!: TestServer;
  let fapi!: Fapi;
  useAuthServer(kind, (s, f) => {
    server = s;
    fapi = f;
  });

  /** Sends, then checks the refusal: its status and code, the parameter it names, no error logged, no change. */
  async function expectRefused(
    send: () => Promise<LightMyRequestResponse>,
    status: number,
    code: string,
    paramName?: string,
  ): Promise<LightMyRequestResponse> {
    const before = await storeFingerprint(server);
    const logsBefore = server.logs.length;
    const res = await send();
    expectError(res, status, code);
    const detail = res.json().errors[0];
    expect(detail).toMatchObject({ message: expect.any(String), long_message: expect.any(String) });
    if (paramName !== undefined) expect(detail.meta?.param_name, res.body).toBe(paramName);
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(server.logs.slice(logsBefore).filter((line) => /"level":(50|60)\b/.test(line))).toEqual([]);
    expect(await storeFingerprint(server)).toEqual(before);
    return res;
  }

  describe('NUL and unpaired surrogates', () => {
    it.each([
      ['GET', '/v1/client/sign_ins/%00', undefined],
      ['POST', '/v1/client/sign_ups/a%00b/attempt_verification', { strategy: 'phone_code', code: '123456' }],
      ['POST', '/v1/client/sessions/%00/tokens', undefined],
    ] as const)('a NUL in a FAPI path id: %s %s', async (method, url, body) => {
      await expectRefused(() => fapi.call(method, url, body), 422, 'form_param_format_invalid', 'id');
    });

    it.each([
      ['/v1/audit_logs', 'action'],
      ['/v1/audit_logs', 'actor_id'],
      ['/v1/audit_logs', 'target_type'],
      ['/v1/audit_logs', 'target_id'],
      ['/v1/sms_messages', 'template'],
      ['/v1/sessions', 'user_id'],
    ])('a NUL in a BAPI filter: %s?%s', async (route, name) => {
      await expectRefused(() => server.bapi('GET', `${route}?${name}=a%00b`), 422, 'form_param_format_invalid', name);
    });

    it.each([
      ['a NUL', 'a\u0000b'],
      ['a lone high surrogate', 'a\ud800'],
      ['a lone low surrogate', '\udc00b'],
    ])('%s in a webhook description', async (_name, description) => {
      const res = await expectRefused(
        () => server.bapi('POST', '/v1/webhooks/endpoints', { url: 'https://hooks.example.com/in', description }),
        422,
        'form_param_format_invalid',
        'description',
      );
      expect(res.json().errors).toHaveLength(1);
    });

    it('a NUL in a field name', async () => {
      await expectRefused(
        () => server.bapi('PATCH', '/v1/instance', { sms: { 'from_\u0000number': '+14155550123' } }),
        422,
        'form_param_format_invalid',
        'sms',
      );
    });

    it('a NUL in free text', async () => {
      await expectRefused(
        () => server.bapi('PATCH', '/v1/instance', { app_name: 'Ac\u0000me' }),
        422,
        'form_param_format_invalid',
        'app_name',
      );
    });

    it('an unpaired surrogate in a nested value names its path', async () => {
      await expectRefused(
        () => server.bapi('POST', '/v1/templates/sms/verification_code/preview', { variables: { app_name: 'Acme\ud800' } }),
        422,
        'form_param_format_invalid',
        'variables.app_name',
      );
    });

    it('still takes a surrogate pair (an emoji) and other control characters', async () => {
      const res = await server.bapi('PATCH', '/v1/instance', { app_name: 'Acme \ud83d\ude80\u0001' });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().app_name).toBe('Acme \ud83d\ude80\u0001');
    });
  });

  describe('numbers that are not finite or not exact', () => {
    it.each(LIST_ROUTES.flatMap((route) => ['Infinity', '-Infinity', '1e400'].map((value) => [route, value] as const)))(
      '%s?limit=%s',
      async (route, value) => {
        await expectRefused(() => server.bapi('GET', `${route}?limit=${value}`), 422, 'form_param_format_invalid', 'limit');
      },
    );

    it.each(
      ['/v1/audit_logs', '/v1/sms_messages'].flatMap((route) =>
        ['created_after', 'created_before'].flatMap((name) =>
          ['Infinity', '1e400', '123456789012345678901234'].map((value) => [route, name, value] as const),
        ),
      ),
    )('%s?%s=%s', async (route, name, value) => {
      await expectRefused(() => server.bapi('GET', `${route}?${name}=${value}`), 422, 'form_param_format_invalid', name);
    });

    it('takes the largest exact integer', async () => {
      const res = await server.bapi('GET', `/v1/audit_logs?created_before=${Number.MAX_SAFE_INTEGER}&limit=1`);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().data).toHaveLength(1);
    });

    it('refuses an integer past 2^53 in a JSON body', async () => {
      await expectRefused(
        () =>
          server.inject({
            method: 'PATCH',
            url: '/v1/instance',
            headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
            payload: '{"abuse":{"hourly_send_budget":123456789012345678901234}}',
          }),
        422,
        'form_param_format_invalid',
        'abuse.hourly_send_budget',
      );
    });
  });

  describe("the router's refusals", () => {
    it.each(['%ZZ', '%C0%AE', '%ED%A0%80', 'a%E2%82'])('bad percent-encoding in the path: %s', async (segment) => {
      const res = await expectRefused(() => server.bapi('GET', `/v1/users/${segment}`), 400, 'malformed_request_url');
      expect(res.body).not.toContain(segment);
      expect(res.body).not.toContain('/v1/users');
    });

    it('bad percent-encoding on a public route, and on no route at all', async () => {
      await expectRefused(() => fapi.call('GET', '/v1/client/sign_ups/%C0%AE'), 400, 'malformed_request_url');
      await expectRefused(() => server.inject({ method: 'GET', url: '/v1/no%ZZroute' }), 400, 'malformed_request_url');
    });

    it('a path parameter over 100 characters', async () => {
      const long = 'a'.repeat(101);
      const res = await expectRefused(() => fapi.call('GET', `/v1/client/sign_ins/${long}`), 414, 'path_param_too_long');
      expect(res.body).not.toContain(long);
      // At the limit, the route's own rules answer.
      await expectRefused(() => fapi.call('GET', `/v1/client/sign_ins/${'a'.repeat(100)}`), 422, 'form_param_format_invalid', 'id');
    });
  });
});

describe('the input rules', () => {
  it('finds every NUL and unpaired surrogate, in values and in names, at its path', () => {
    const problems = inputRuleProblems({ a: 'ok \ud83d\ude00', b: ['x', 'y\u0000'], c: { 'n\ud800': 1, d: '\udc00' }, e: '\ud83d' });
    expect(problems.map((p) => [p.instancePath, p.keyword])).toEqual([
      ['/b/1', 'storableText'],
      ['/c', 'propertyNames'],
      ['/c/d', 'storableText'],
      ['/e', 'storableText'],
    ]);
  });

  it('finds numbers that are not finite or beyond 2^53 - 1, and escapes the path as JSON Pointer', () => {
    const problems = inputRuleProblems({
      'a/b': Infinity,
      c: -Infinity,
      d: NaN,
      e: 2 ** 53,
      f: Number.MAX_SAFE_INTEGER,
      g: -Number.MAX_SAFE_INTEGER,
      h: 1.5,
    });
    expect(problems.map((p) => p.instancePath)).toEqual(['/a~1b', '/c', '/d', '/e']);
  });

  it('walks a deeply nested value without running out of stack', () => {
    const deep = JSON.parse(`${'['.repeat(100_000)}"\\u0000"${']'.repeat(100_000)}`) as unknown;
    expect(inputRuleProblems(deep)).toHaveLength(1);
  });
});

describe("requests Node's HTTP parser refuses", () => {
  const ctx = useTestServer('sqlite', { listen: true });

  /** Writes raw bytes to the listening server and reads the answer until it closes the connection. */
  function rawRequest(bytes: string): Promise<{ head: string; status: number; body: string }> {
    const { hostname, port } = new URL(ctx.server.running.url!);
    return new Promise((resolve, reject) => {
      const socket = net.connect(Number(port), hostname);
      let received = '';
      socket.on('data', (chunk) => (received += String(chunk)));
      socket.on('error', reject);
      socket.on('close', () => {
        const at = received.indexOf('\r\n\r\n');
        const head = received.slice(0, at);
        resolve({ head, status: Number(head.split(' ')[1]), body: received.slice(at + 4) });
      });
      socket.write(bytes);
    });
  }

  it.each([
    ['a NUL in a header value', 'GET /v1/environment HTTP/1.1\r\nHost: x\r\nX-Note: a\u0000b\r\n\r\n', 400, 'malformed_request'],
    ['a request line that is not HTTP', 'HELLO THERE\r\n\r\n', 400, 'malformed_request'],
    [
      'headers over the size limit',
      `GET /v1/environment HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(17_000)}\r\n\r\n`,
      431,
      'request_headers_too_large',
    ],
  ])('%s', async (_name, bytes, status, code) => {
    const res = await rawRequest(bytes);
    expect(res.status, res.head).toBe(status);
    expect(res.head).toMatch(/content-type: application\/json/i);
    expect(res.head).toMatch(/x-content-type-options: nosniff/i);
    expect(res.head).toMatch(/cache-control: no-store/i);
    const body = JSON.parse(res.body);
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0]).toMatchObject({
      code,
      message: ERROR_CODES[code as keyof typeof ERROR_CODES].message,
      long_message: expect.any(String),
    });
    expect(res.body).not.toContain('X-');
  });

  it('answers headers that never finish arriving with request_timeout, and a reset connection with nothing', () => {
    const written: string[] = [];
    const socket = {
      destroyed: false,
      writable: true,
      write: (text: string) => written.push(text),
      destroy: () => undefined,
    } as unknown as Socket;
    clientErrorHandler(
      Object.assign(new Error('timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT', bytesParsed: 0, rawPacket: { type: 'Buffer', data: [] } }),
      socket,
    );
    clientErrorHandler(
      Object.assign(new Error('reset'), { code: 'ECONNRESET', bytesParsed: 0, rawPacket: { type: 'Buffer', data: [] } }),
      socket,
    );
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(JSON.parse(written[0]!.split('\r\n\r\n')[1]!).errors[0].code).toBe('request_timeout');
  });
});
