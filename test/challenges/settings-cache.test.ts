/**
 * The send engine reads the instance settings inside the challenge's transaction. When the cached copy turns
 * a second old during the request, the re-read must not wait for the connection that transaction holds (on
 * SQLite it would wait forever). The clock here moves on every reading, so the copy ages mid-request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORES, createTestStore, startTestServer, type TestServer, type TestStore } from '../helpers/server.js';
import { Fapi, numbers } from '../auth/helpers.js';

describe.each(STORES)('settings read inside a code request on %s', (kind) => {
  let store: TestStore;
  let server: TestServer;
  let at = Date.UTC(2026, 0, 1);
  let step = 0;
  const clock = { now: () => (at += step) };
  const nextNumber = numbers();

  beforeAll(async () => {
    store = await createTestStore(kind);
    server = await startTestServer(store, { clock });
  });
  afterAll(async () => {
    await server?.close();
    await store?.cleanup();
  });

  it('completes while the cached settings go stale under it', async () => {
    const fapi = await new Fapi(server).start();
    for (let i = 0; i < 5; i++) {
      const { id } = await fapi.signUp(nextNumber());
      step = 600;
      const res = await fapi.call('POST', `/v1/client/sign_ups/${id}/prepare_verification`, { strategy: 'phone_code' });
      step = 0;
      expect(res.statusCode, res.body).toBe(200);
      at += 31_000;
    }
  });
});
