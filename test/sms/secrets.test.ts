/**
 * What the send path keeps secret, on both stores: a code waiting in the outbox is nowhere in the store in clear,
 * and key rotation re-seals both the waiting bodies and the callback secret (callback URLs keep working).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORES, createTestStore, startTestServer, storeBytes, type TestStore } from '../helpers/server.js';
import { FakeVonage } from '../fakes/vonage.js';
import { freePort } from '../fakes/common.js';
import { FAST_DISPATCH, FROM, VONAGE, storeReader } from './harness.js';

describe.each(STORES)('SMS secrets at rest on %s', (kind) => {
  let store: TestStore;
  let vonage: FakeVonage;
  beforeAll(async () => {
    store = await createTestStore(kind);
    vonage = await FakeVonage.start({ ...VONAGE, receipts: 'manual' });
  });
  afterAll(async () => {
    await vonage?.close();
    await store?.cleanup();
  });

  it('keeps a waiting code sealed, and re-seals it and the callback secret when the key rotates', async () => {
    const port = await freePort();
    const env = {
      AUTHN_PORT: String(port),
      AUTHN_PUBLIC_URL: `http://127.0.0.1:${port}`,
      AUTHN_VONAGE_API_URL: vonage.url,
      AUTHN_SMS_DRIVER: 'vonage',
      AUTHN_SMS_FROM_NUMBER: FROM,
      AUTHN_SMS_VONAGE_API_KEY: VONAGE.apiKey,
      AUTHN_SMS_VONAGE_API_SECRET: VONAGE.apiSecret,
      ...FAST_DISPATCH,
    };
    const first = await startTestServer(store, { listen: true, env: { ...env, AUTHN_SMS_DISPATCHER: 'off' } });
    const { id } = await first.running.services.sms.send({
      template: 'verification_code',
      to: '+447911123456',
      variables: { code: '837261', expires_in_minutes: '10' },
    });
    const waiting = await storeReader(first).message(id);
    expect(waiting.payload).toMatch(/^v1\./);
    expect(waiting.body).not.toContain('837261');
    expect((await storeBytes(first)).includes(Buffer.from('837261'))).toBe(false);
    await first.close();

    // The rotation start re-seals (with the old key still accepted)…
    const rotated = randomBytes(32).toString('base64');
    const rotating = await startTestServer(store, {
      listen: true,
      env: {
        ...env,
        AUTHN_SMS_DISPATCHER: 'off',
        AUTHN_ENCRYPTION_KEY: rotated,
        AUTHN_PREVIOUS_ENCRYPTION_KEYS: store.env.AUTHN_ENCRYPTION_KEY!,
      },
    });
    expect(rotating.logs.some((line) => line.includes('encryption key rotated'))).toBe(true);
    await rotating.close();

    // …so the next start needs the new key only: the waiting body and the callback secret open with it.
    const after = await startTestServer(store, { listen: true, env: { ...env, AUTHN_ENCRYPTION_KEY: rotated } });
    try {
      const read = storeReader(after);
      const sent = await read.waitForStatus(id, 'sent');
      expect(vonage.requests.at(-1)!.fields.text).toBe('837261 is your authn.sh verification code. It expires in 10 minutes.');
      expect((await vonage.sendReceipt(sent.carrier_message_id!, { status: 'delivered' })).status).toBe(200);
      expect((await read.message(id)).status).toBe('delivered');
    } finally {
      await after.close();
    }
  });
});
