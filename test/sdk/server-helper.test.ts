/**
 * The backend helper (`@authn.sh/js/server`) against session tokens from a real authn.sh, on SQLite and
 * PostgreSQL: one error code per way a token is wrong, the JWKS fetched once and again for a key it has not
 * seen (a rotation), and the middleware in a node:http app, a Fastify app and a fetch-style handler.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac } from 'node:crypto';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { STORES, createTestStore, startTestServer, type StoreKind, type TestServer } from '../helpers/server.js';
import { Fapi, numbers, useAuthServer } from '../auth/helpers.js';
import {
  createTokenVerifier,
  fastifyRequireSession,
  requireSession,
  verifyToken,
  withSession,
  type SessionClaims,
  type VerifyOptions,
} from '../../packages/sdk/src/server.js';
import { ManualClock } from '../helpers/clock.js';

const ISSUER = 'https://auth.example.test';
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const parts = (jwt: string) => {
  const [header, payload, signature] = jwt.split('.') as [string, string, string];
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>,
    signature,
    raw: [header, payload, signature] as const,
  };
};

/** A JWKS host whose keys the test swaps: the instance's JWKS before and after a key rotation. */
async function jwksHost(initial: string) {
  let body: string | null = initial;
  let fetches = 0;
  const host = http.createServer((_req, res) => {
    fetches++;
    res.statusCode = body === null ? 503 : 200;
    res.setHeader('content-type', 'application/json');
    res.end(body ?? '{}');
  });
  await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(host.address() as AddressInfo).port}/.well-known/jwks.json`,
    /** null: the host is down (503). */
    serve: (next: string | null) => {
      body = next;
    },
    fetches: () => fetches,
    close: () => new Promise<void>((resolve) => host.close(() => resolve())),
  };
}

async function jwksOf(server: TestServer): Promise<string> {
  return (await server.inject({ method: 'GET', url: '/.well-known/jwks.json' })).body;
}

describe.each(STORES)('verifyToken and the middleware against tokens from the server on %s', (kind: StoreKind) => {
  let server!: TestServer;
  let fapi!: Fapi;
  const clock = new ManualClock();
  const nextNumber = numbers();

  useAuthServer(
    kind,
    (s, f) => {
      server = s;
      fapi = f;
    },
    { clock, listen: true, env: { AUTHN_PUBLIC_URL: ISSUER } },
  );

  const verifier = (options: Partial<VerifyOptions> = {}) =>
    createTokenVerifier({ issuer: ISSUER, jwksUrl: `${server.running.url}/.well-known/jwks.json`, now: clock.now, ...options });

  it('accepts a valid token: the claims of its user and session', async () => {
    const { userId, sessionId, jwt } = await fapi.signedUpUser(nextNumber());
    const result = await verifier().verify(jwt);
    expect(result.error).toBeNull();
    expect(result.data).toMatchObject({ sub: userId, sid: sessionId, iss: ISSUER, exp: expect.any(Number), nbf: expect.any(Number) });
    // The shared-cache form gives the same answer (its clock is the real one, so only the shape is checked).
    const shared = await verifyToken('not.a.jwt', { issuer: ISSUER, jwksUrl: `${server.running.url}/.well-known/jwks.json` });
    expect(shared.error?.code).toBe('token_malformed');
  });

  it('refuses each broken token with its own code', async () => {
    const { jwt } = await fapi.signedUpUser(nextNumber());
    const check = verifier();
    const { header, payload, raw } = parts(jwt);
    const codeOf = async (token: string | null, v = check) => (await v.verify(token)).error?.code;

    expect(await codeOf(null)).toBe('token_missing');
    expect(await codeOf('')).toBe('token_missing');
    expect(await codeOf('abc')).toBe('token_malformed');
    expect(await codeOf('a.b.c')).toBe('token_malformed');
    expect(await codeOf(`${b64({ ...header, alg: 'none' })}.${raw[1]}.`)).toBe('token_algorithm_invalid');
    // HS256 "signed" with the public key as the secret: the classic algorithm confusion.
    const keys = JSON.parse(await jwksOf(server)) as { keys: { x: string }[] };
    const hsInput = `${b64({ ...header, alg: 'HS256' })}.${raw[1]}`;
    expect(await codeOf(`${hsInput}.${createHmac('sha256', keys.keys[0]!.x).update(hsInput).digest('base64url')}`)).toBe(
      'token_algorithm_invalid',
    );
    expect(await codeOf(`${b64({ ...header, kid: 'someone-elses-key' })}.${raw[1]}.${raw[2]}`)).toBe('token_key_unknown');
    expect(await codeOf(`${raw[0]}.${b64({ ...payload, sub: 'user_someone_else' })}.${raw[2]}`)).toBe('token_signature_invalid');
    expect(await codeOf(`${raw[0]}.${raw[1]}.${raw[2].slice(0, -4)}AAAA`)).toBe('token_signature_invalid');
    expect(await codeOf(jwt, verifier({ issuer: 'https://other.example.test' }))).toBe('token_issuer_invalid');
    // nbf is 5 s before iat, and 5 s of tolerance: 11 s early is too early, 9 s is fine.
    expect(await codeOf(jwt, verifier({ now: () => clock.now() - 11_000 }))).toBe('token_not_yet_valid');
    expect(await codeOf(jwt, verifier({ now: () => clock.now() - 9_000 }))).toBeUndefined();
    // 60 s of life and 5 s of tolerance.
    expect(await codeOf(jwt, verifier({ now: () => clock.now() + 64_000 }))).toBeUndefined();
    expect(await codeOf(jwt, verifier({ now: () => clock.now() + 66_000 }))).toBe('token_expired');
    expect(await codeOf(jwt, verifier({ jwksUrl: 'http://127.0.0.1:9/.well-known/jwks.json' }))).toBe('jwks_unavailable');
    const unavailable = await verifier({ jwksUrl: 'http://127.0.0.1:9/.well-known/jwks.json' }).verify(jwt);
    expect(unavailable.error!.status).toBe(503);
  });

  it('fetches the JWKS once, and again for a key it has not seen (a rotation), no more often than the cooldown', async () => {
    const { jwt: oldToken } = await fapi.signedUpUser(nextNumber());
    // The instance after a rotation: a server with the same public URL and a new key.
    const rotatedStore = await createTestStore(kind);
    const rotated = await startTestServer(rotatedStore, { clock, env: { AUTHN_PUBLIC_URL: ISSUER } });
    const host = await jwksHost(await jwksOf(server));
    try {
      const newToken = (await new Fapi(rotated).start().then((f) => f.signedUpUser(nextNumber()))).jwt;
      expect(parts(newToken).header.kid).not.toBe(parts(oldToken).header.kid);
      const check = verifier({ jwksUrl: host.url });

      expect((await check.verify(oldToken)).error).toBeNull();
      expect((await Promise.all([check.verify(oldToken), check.verify(oldToken)])).every((r) => r.error === null)).toBe(true);
      expect(host.fetches()).toBe(1);

      host.serve(await jwksOf(rotated));
      // Within the cooldown an unknown kid does not send the verifier back to the JWKS (garbage kids cannot flood it).
      expect((await check.verify(newToken)).error?.code).toBe('token_key_unknown');
      expect(host.fetches()).toBe(1);
      clock.advance(30_000);
      expect((await check.verify(newToken)).error).toBeNull();
      expect(host.fetches()).toBe(2);
      // The old key left the JWKS: its tokens no longer verify.
      expect((await check.verify(oldToken)).error?.code).toBe('token_key_unknown');

      // After the max age (300 s) the JWKS is fetched again; while it is down, the keys already fetched stay in use.
      host.serve(null);
      clock.advance(300_000);
      expect((await check.verify(newToken)).error?.code).toBe('token_expired');
      expect(host.fetches()).toBe(3);
      expect((await verifier({ jwksUrl: host.url }).verify(newToken)).error?.code).toBe('jwks_unavailable');
    } finally {
      await host.close();
      await rotated.close();
      await rotatedStore.cleanup();
    }
  });

  it('the middleware guards a node:http (Express-style) app, a Fastify app and a fetch-style handler', async () => {
    const { userId, jwt } = await fapi.signedUpUser(nextNumber());
    const check = verifier();

    const guard = requireSession(check);
    const nodeApp = http.createServer((req, res) => {
      void guard(req, res, () => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ user: (req as http.IncomingMessage & { auth?: SessionClaims }).auth!.sub }));
      });
    });
    await new Promise<void>((resolve) => nodeApp.listen(0, '127.0.0.1', resolve));
    const nodeUrl = `http://127.0.0.1:${(nodeApp.address() as AddressInfo).port}/private`;

    const fastify = Fastify();
    fastify.get('/private', { preHandler: fastifyRequireSession(check) }, async (request) => ({
      user: (request as typeof request & { auth?: SessionClaims }).auth!.sub,
    }));
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    const fastifyUrl = `http://127.0.0.1:${(fastify.server.address() as AddressInfo).port}/private`;

    const handler = withSession(check, (_request, auth) => Response.json({ user: auth.sub }));
    try {
      const calls: [string, (headers: Record<string, string>) => Promise<Response>][] = [
        ['node:http', (headers) => fetch(nodeUrl, { headers })],
        ['fastify', (headers) => fetch(fastifyUrl, { headers })],
        ['fetch handler', (headers) => handler(new Request('https://app.example.test/private', { headers }))],
      ];
      for (const [name, call] of calls) {
        const allowed = await call({ authorization: `Bearer ${jwt}` });
        expect(allowed.status, name).toBe(200);
        expect(await allowed.json(), name).toEqual({ user: userId });

        const missing = await call({});
        expect(missing.status, name).toBe(401);
        expect(missing.headers.get('www-authenticate'), name).toContain('invalid_token');
        expect(await missing.json(), name).toEqual({
          errors: [{ code: 'token_missing', message: 'Session token invalid', long_message: expect.any(String) }],
        });

        const tampered = await call({ authorization: `Bearer ${jwt.slice(0, -4)}AAAA` });
        expect(tampered.status, name).toBe(401);
        expect(((await tampered.json()) as { errors: { code: string }[] }).errors[0]!.code, name).toBe('token_signature_invalid');
      }
      // Something unexpected in the verifier goes to the framework's error handler, not to an unhandled rejection.
      const failing = requireSession({
        verify: () => Promise.reject(new Error('boom')),
        verifyRequest: () => Promise.reject(new Error('boom')),
      });
      let handed: unknown;
      await failing({ headers: {} }, { statusCode: 0, setHeader: () => undefined, end: () => undefined }, (error) => {
        handed = error;
      });
      expect((handed as Error).message).toBe('boom');

      clock.advance(66_000);
      const expired = await handler(new Request('https://app.example.test/private', { headers: { authorization: `Bearer ${jwt}` } }));
      expect(expired.status).toBe(401);
      expect(((await expired.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe('token_expired');
    } finally {
      await new Promise<void>((resolve) => nodeApp.close(() => resolve()));
      await fastify.close();
    }
  });
});
