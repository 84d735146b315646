/**
 * Write-only credentials: a canary never appears in a response, a log line, the audit log or the store's
 * bytes; it survives a restart; a wrong key stops the start; keys rotate.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StartupError } from '../../src/errors.js';
import { STORES, createTestStore, startTestServer, storeBytes, type TestServer, type TestStore } from '../helpers/server.js';

const TOKEN_CANARY = 'CanaryTok3nCanaryTok3nCanaryTok3';
const SECRET_CANARY = 'CanarySecret42';
const SIG_CANARY = 'CanarySignatureSecret0042';

describe.each(STORES)('credentials at rest on %s', (kind) => {
  let store: TestStore;
  let server: TestServer;
  const seen: string[] = [];

  beforeAll(async () => {
    store = await createTestStore(kind);
    server = await startTestServer(store);
  });
  afterAll(async () => {
    await server?.close();
    await store?.cleanup();
  });

  async function call(method: 'GET' | 'PATCH', url: string, body?: unknown) {
    const res = await server.bapi(method, url, body);
    seen.push(res.body, JSON.stringify(res.headers));
    return res;
  }

  it('accepts the canaries and never shows them again', async () => {
    let res = await call('PATCH', '/v1/instance', {
      sms: {
        driver: 'twilio',
        from_number: '+14155550123',
        twilio: { account_sid: `AC${'0'.repeat(32)}`, auth_token: TOKEN_CANARY },
        vonage: { api_key: 'abcd1234', api_secret: SECRET_CANARY, signature_secret: SIG_CANARY },
      },
    });
    expect(res.statusCode).toBe(200);
    // An invalid PATCH carrying a canary: the error does not echo it.
    res = await call('PATCH', '/v1/instance', { sms: { twilio: { auth_token: `${TOKEN_CANARY}!` } } });
    expect(res.statusCode).toBe(422);
    res = await call('PATCH', '/v1/instance', { sms: { vonage: { api_secret: 42 } } });
    expect(res.statusCode).toBe(422);
    await call('GET', '/v1/instance');
    await call('GET', '/v1/audit_logs?limit=500');
    await call('GET', '/v1/openapi.json');
    const fapi = await server.inject({ method: 'GET', url: '/v1/environment' });
    seen.push(fapi.body);

    const everything = [...seen, ...server.logs, ...server.printed].join('\n');
    for (const canary of [TOKEN_CANARY, SECRET_CANARY, SIG_CANARY]) expect(everything).not.toContain(canary);
    const bytes = await storeBytes(server);
    expect(bytes.length).toBeGreaterThan(1000);
    for (const canary of [TOKEN_CANARY, SECRET_CANARY, SIG_CANARY]) expect(bytes.includes(Buffer.from(canary))).toBe(false);
  });

  it('still decrypts after a restart', async () => {
    await server.close();
    server = await startTestServer(store);
    const current = await server.running.services.instance.current();
    expect(current.sms.twilio.auth_token).toBe(TOKEN_CANARY);
    expect(current.sms.vonage.api_secret).toBe(SECRET_CANARY);
    expect(current.sms.vonage.signature_secret).toBe(SIG_CANARY);
    expect(current.sms.driver).toBe('twilio');
  });

  it('a wrong AUTHN_ENCRYPTION_KEY stops the start with a clear error', async () => {
    await server.close();
    const wrongKey = randomBytes(32).toString('base64');
    const attempt = startTestServer(store, { env: { AUTHN_ENCRYPTION_KEY: wrongKey } });
    await expect(attempt).rejects.toBeInstanceOf(StartupError);
    await expect(attempt).rejects.toThrow(/AUTHN_ENCRYPTION_KEY is not the key this store's credentials are encrypted with/);
    await expect(attempt).rejects.not.toThrow(wrongKey);
    server = await startTestServer(store);
    expect((await server.running.services.instance.current()).sms.twilio.auth_token).toBe(TOKEN_CANARY);
  });

  it('rotates to a new key when the old one is listed as previous', async () => {
    await server.close();
    const oldKey = store.env.AUTHN_ENCRYPTION_KEY!;
    const newKey = randomBytes(32).toString('base64');
    server = await startTestServer(store, { env: { AUTHN_ENCRYPTION_KEY: newKey, AUTHN_PREVIOUS_ENCRYPTION_KEYS: oldKey } });
    expect(server.logs.join('')).toContain('encryption key rotated');
    await server.close();
    // The old key is no longer needed…
    server = await startTestServer(store, { env: { AUTHN_ENCRYPTION_KEY: newKey } });
    expect((await server.running.services.instance.current()).sms.vonage.api_secret).toBe(SECRET_CANARY);
    await server.close();
    // …and no longer accepted.
    await expect(startTestServer(store, { env: { AUTHN_ENCRYPTION_KEY: oldKey } })).rejects.toBeInstanceOf(StartupError);
    store.env.AUTHN_ENCRYPTION_KEY = newKey;
    server = await startTestServer(store);
  });
});
