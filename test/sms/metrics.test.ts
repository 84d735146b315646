/** `GET /metrics`: Prometheus text with the send path's figures; optionally behind a bearer token. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORES, createTestStore, startTestServer, type TestServer, type TestStore } from '../helpers/server.js';
import { FakeTwilio } from '../fakes/twilio.js';
import { FAST_DISPATCH, FROM, TWILIO, startSmsServer, storeReader, type SmsHarness } from './harness.js';

describe.each(STORES)('metrics on %s', (kind) => {
  let store: TestStore;
  let h: SmsHarness;
  beforeAll(async () => {
    store = await createTestStore(kind);
    h = await startSmsServer(store, { driver: 'twilio' });
  });
  afterAll(async () => {
    await h?.close();
    await store?.cleanup();
  });

  it('reports messages by driver and status, carrier latency, queue depth and retries', async () => {
    const read = storeReader(h.server);
    const { id } = await h.server.running.services.sms.send({ template: 'password_changed', to: '+14155550140', variables: {} });
    await read.waitForStatus(id, 'delivered');
    await h.server.running.services.sms.send({ template: 'password_changed', to: '+15555550141', variables: {} });
    const res = await h.server.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const line of [
      'authn_sms_messages_total{driver="twilio",status="queued"} 1',
      'authn_sms_messages_total{driver="twilio",status="sent"} 1',
      'authn_sms_messages_total{driver="twilio",status="delivered"} 1',
      'authn_sms_messages_total{driver="twilio",status="test_noop"} 1',
      'authn_sms_queue_depth{status="queued"} 0',
      'authn_sms_queue_depth{status="sending"} 0',
      'authn_sms_carrier_request_duration_seconds_count{driver="twilio",outcome="accepted"} 1',
    ]) {
      expect(res.body).toContain(line);
    }
    // `sent` may be applied by the callback or already by the dispatcher (then the callback is ignored).
    expect(res.body).toMatch(/authn_sms_carrier_callbacks_total\{carrier="twilio",result="applied"\} [12]/);
    expect(res.body).toContain('# TYPE authn_sms_retries_total counter');
    expect(res.body).toMatch(/^authn_process_cpu_seconds_total /m);
  });
});

describe('metrics token', () => {
  let store: TestStore;
  let server: TestServer;
  let twilio: FakeTwilio;
  beforeAll(async () => {
    store = await createTestStore('sqlite');
    twilio = await FakeTwilio.start({ ...TWILIO });
    server = await startTestServer(store, {
      env: {
        ...FAST_DISPATCH,
        AUTHN_METRICS_TOKEN: 'scrape-me-please',
        AUTHN_SMS_DRIVER: 'twilio',
        AUTHN_SMS_FROM_NUMBER: FROM,
        AUTHN_SMS_TWILIO_ACCOUNT_SID: TWILIO.accountSid,
        AUTHN_SMS_TWILIO_AUTH_TOKEN: TWILIO.authToken,
      },
    });
  });
  afterAll(async () => {
    await server?.close();
    await twilio?.close();
    await store?.cleanup();
  });

  it.each([
    [undefined, 401, 'authorization_header_missing'],
    ['Bearer wrong', 401, 'metrics_token_invalid'],
    [`Bearer ${'scrape-me-please'}x`, 401, 'metrics_token_invalid'],
    ['Bearer scrape-me-please', 200, null],
  ])('Authorization %s → %s', async (authorization, status, code) => {
    const res = await server.inject({ method: 'GET', url: '/metrics', headers: authorization ? { authorization } : {} });
    expect(res.statusCode).toBe(status);
    if (code) expect(res.json().errors[0].code).toBe(code);
    else expect(res.body).toContain('authn_sms_queue_depth');
  });
});
