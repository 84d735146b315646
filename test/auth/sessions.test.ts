/**
 * Sessions and session tokens: a token verifies against the published JWKS with off-the-shelf code (jose's
 * remote key set, and plain node:crypto), fails once expired, and no new one is issued after sign-out or
 * revocation.
 */
import { createPublicKey, verify as verifySignature } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createRemoteJWKSet, decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import { STORES, storeBytes, type TestServer } from '../helpers/server.js';
import { Fapi, useAuthServer, eventTypes, expectError, numbers } from './helpers.js';
import { ManualClock } from '../helpers/clock.js';

describe.each(STORES)('sessions on %s', (kind) => {
  let server!: TestServer;
  let fapi!: Fapi;
  let jwksUrl: URL;
  const clock = new ManualClock();
  const nextNumber = numbers();

  useAuthServer(
    kind,
    async (s, f) => {
      server = s;
      fapi = f;
      jwksUrl = new URL('/.well-known/jwks.json', server.running.url!);
    },
    { clock, listen: true, liftIpLimit: false },
  );

  const verifyAt = (jwt: string, at: number) =>
    jwtVerify(jwt, createRemoteJWKSet(jwksUrl), { currentDate: new Date(at), algorithms: ['ES256'] });
  const newToken = (sessionId: string, as = fapi) => as.call('POST', `/v1/client/sessions/${sessionId}/tokens`);

  it('publishes only public keys', async () => {
    const res = await fetch(jwksUrl);
    expect(res.headers.get('cache-control')).toContain('max-age');
    const { keys } = (await res.json()) as { keys: Record<string, string>[] };
    expect(keys).toHaveLength(1);
    expect(keys[0]).toEqual({
      kty: 'EC',
      crv: 'P-256',
      x: expect.any(String),
      y: expect.any(String),
      kid: expect.any(String),
      alg: 'ES256',
      use: 'sig',
    });
  });

  it('a session token verifies against the JWKS (jose and node:crypto), for 60 s', async () => {
    const { userId, sessionId, jwt } = await fapi.signedUpUser(nextNumber());
    const { payload, protectedHeader } = await verifyAt(jwt, clock.now());
    expect(payload).toMatchObject({ sub: userId, sid: sessionId, iss: server.running.services.config.publicUrl });
    expect(payload.exp! - payload.iat!).toBe(60);
    // Five seconds of slack for a backend whose clock runs behind.
    expect(payload.iat! - payload.nbf!).toBe(5);
    expect(protectedHeader).toMatchObject({ alg: 'ES256', typ: 'JWT' });

    // The same check with nothing but node:crypto and the published key.
    const { keys } = (await (await fetch(jwksUrl)).json()) as { keys: (Record<string, string> & { kid: string })[] };
    const key = createPublicKey({ key: keys.find((k) => k.kid === decodeProtectedHeader(jwt).kid)!, format: 'jwk' });
    const [header, body, signature] = jwt.split('.');
    expect(
      verifySignature('sha256', Buffer.from(`${header}.${body}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature!, 'base64url')),
    ).toBe(true);
    const tampered = Buffer.from(JSON.stringify({ ...payload, sub: 'user_someone_else' })).toString('base64url');
    expect(
      verifySignature(
        'sha256',
        Buffer.from(`${header}.${tampered}`),
        { key, dsaEncoding: 'ieee-p1363' },
        Buffer.from(signature!, 'base64url'),
      ),
    ).toBe(false);

    await expect(verifyAt(jwt, clock.now() + 61_000)).rejects.toBeInstanceOf(joseErrors.JWTExpired);
    clock.advance(61_000);
    expectError(await fapi.call('GET', '/v1/me', undefined, { auth: jwt }), 401, 'session_token_invalid');
    // A live session mints a fresh one.
    const fresh = await newToken(sessionId);
    expect(fresh.statusCode).toBe(200);
    expect((await verifyAt(fresh.json().jwt, clock.now())).payload.sid).toBe(sessionId);
    expect((await fapi.call('GET', '/v1/me', undefined, { auth: fresh.json().jwt })).json().id).toBe(userId);
  });

  it('sign-out ends the session: no new token, and /v1/me refuses the last one at once', async () => {
    const { sessionId, jwt } = await fapi.signedUpUser(nextNumber());
    expect((await fapi.call('GET', '/v1/client')).json().sessions.map((s: { id: string }) => s.id)).toContain(sessionId);
    const ended = await fapi.call('POST', `/v1/client/sessions/${sessionId}/end`);
    expect(ended.json()).toMatchObject({ id: sessionId, status: 'ended' });
    expectError(await newToken(sessionId), 401, 'session_inactive');
    expectError(await fapi.call('GET', '/v1/me', undefined, { auth: jwt }), 401, 'session_inactive');
    expect((await fapi.call('GET', '/v1/client')).json().sessions.map((s: { id: string }) => s.id)).not.toContain(sessionId);
    expect(await eventTypes(server)).toContain('session.ended');
  });

  it('BAPI revoke ends the session the same way', async () => {
    const { userId, sessionId, jwt } = await fapi.signedUpUser(nextNumber());
    const listed = (await server.bapi('GET', `/v1/sessions?user_id=${userId}&status=active`)).json();
    expect(listed.data.map((s: { id: string }) => s.id)).toEqual([sessionId]);
    const revoked = await server.bapi('POST', `/v1/sessions/${sessionId}/revoke`);
    expect(revoked.json()).toMatchObject({ status: 'revoked' });
    expectError(await newToken(sessionId), 401, 'session_inactive');
    expectError(await fapi.call('GET', '/v1/me', undefined, { auth: jwt }), 401, 'session_inactive');
    expect((await server.bapi('GET', `/v1/sessions/${sessionId}`)).json().status).toBe('revoked');
    expect((await server.bapi('GET', `/v1/sessions?user_id=${userId}&status=revoked`)).json().data).toHaveLength(1);
    expect(await eventTypes(server)).toContain('session.revoked');
    expectError(await server.bapi('POST', '/v1/sessions/sess_nope/revoke'), 404, 'resource_not_found');
  });

  it('a session ends by itself after 7 days', async () => {
    const { sessionId } = await fapi.signedUpUser(nextNumber());
    clock.advance(7 * 24 * 3_600_000);
    expectError(await newToken(sessionId), 401, 'session_inactive');
    expect((await server.bapi('GET', `/v1/sessions/${sessionId}`)).json().status).toBe('expired');
  });

  it("only the session's own client mints its tokens", async () => {
    const { sessionId } = await fapi.signedUpUser(nextNumber());
    const other = await new Fapi(server).start();
    expectError(await newToken(sessionId, other), 404, 'resource_not_found');
    expectError(await fapi.call('POST', `/v1/client/sessions/${sessionId}/tokens`, undefined, { auth: null }), 401, 'client_token_missing');
  });

  it('keeps the signing key sealed at rest', async () => {
    const { db } = server.running.services.store;
    const row = await db.selectFrom('auth_keys').select('envelope').where('kind', '=', 'session_jwt').executeTakeFirstOrThrow();
    const privateJwk = JSON.parse(server.running.services.box.open(row.envelope, 'auth_keys.session_jwt')) as { d: string };
    expect((await storeBytes(server)).includes(privateJwk.d)).toBe(false);
  });
});
