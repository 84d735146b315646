/**
 * The signing keys survive restarts and encryption-key rotation: the same key id, tokens issued before still
 * verify, sessions and challenges carry on.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jwtVerify, createLocalJWKSet } from 'jose';
import { STORES, createTestStore, startTestServer, type TestServer, type TestStore } from '../helpers/server.js';
import { Fapi, numbers } from './helpers.js';

describe.each(STORES)('signing keys on %s', (kind) => {
  let store: TestStore;
  let server: TestServer | null = null;
  const nextNumber = numbers();

  beforeAll(async () => {
    store = await createTestStore(kind);
  });
  afterAll(async () => {
    await server?.close();
    await store?.cleanup();
  });

  const jwks = async (s: TestServer) => (await s.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json();

  it('keeps its keys across a restart with a rotated encryption key', async () => {
    server = await startTestServer(store);
    const fapi = await new Fapi(server).start();
    const phone = nextNumber();
    const { jwt, sessionId } = await fapi.signedUpUser(phone);
    // A code sent before the rotation, checked after it.
    const signIn = (await fapi.call('POST', '/v1/client/sign_ins', { identifier: phone })).json();
    await fapi.call('POST', `/v1/client/sign_ins/${signIn.id}/prepare_first_factor`, { strategy: 'phone_code' });
    const code = await fapi.lastCode(phone);
    const before = await jwks(server);
    const oldKey = store.env.AUTHN_ENCRYPTION_KEY!;
    await server.close();

    const newKey = randomBytes(32).toString('base64');
    server = await startTestServer(store, { env: { AUTHN_ENCRYPTION_KEY: newKey, AUTHN_PREVIOUS_ENCRYPTION_KEYS: oldKey } });
    expect(await jwks(server)).toEqual(before);
    await expect(jwtVerify(jwt, createLocalJWKSet(before))).resolves.toMatchObject({ payload: { sid: sessionId } });
    const envelopes = await server.running.services.store.db.selectFrom('auth_keys').select('envelope').execute();
    for (const { envelope } of envelopes) expect(server.running.services.box.isStale(envelope)).toBe(false);

    const again = new Fapi(server);
    again.token = fapi.token;
    expect((await again.call('POST', `/v1/client/sessions/${sessionId}/tokens`)).statusCode).toBe(200);
    const done = await again.call('POST', `/v1/client/sign_ins/${signIn.id}/attempt_first_factor`, { strategy: 'phone_code', code });
    expect(done.json().status).toBe('complete');
  });
});
