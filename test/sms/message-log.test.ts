/** BAPI message log and "send test SMS", on both stores. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORES, createTestStore, rowCount, type TestStore } from '../helpers/server.js';
import { patchSettings } from '../auth/helpers.js';
import { FROM, startSmsServer, storeReader, type SmsHarness } from './harness.js';
import { eventually } from '../helpers/eventually.js';

describe.each(STORES)('message log on %s', (kind) => {
  let store: TestStore;
  let h: SmsHarness;
  let read: ReturnType<typeof storeReader>;
  const ids: string[] = [];
  const services = () => h.server.running.services;
  const count = () => rowCount(h.server, 'sms_messages');

  beforeAll(async () => {
    store = await createTestStore(kind);
    h = await startSmsServer(store, { driver: null });
    read = storeReader(h.server);
    for (const [template, to] of [
      ['verification_code', '+14155550130'],
      ['password_changed', '+14155550131'],
      ['verification_code', '+14155550130'],
      ['verification_code', '+15555550150'],
    ] as const) {
      const sent = await services().sms.send({ template, to, variables: { code: '111222', expires_in_minutes: '10' } });
      ids.push(sent.id);
    }
    await read.waitForStatus(ids[2]!, 'dropped');
  });
  afterAll(async () => {
    await h?.close();
    await store?.cleanup();
  });

  it('lists messages newest first, page by page', async () => {
    const first = (await h.server.bapi('GET', '/v1/sms_messages?limit=3')).json();
    expect(first.data.map((m: { id: string }) => m.id)).toEqual([ids[3], ids[2], ids[1]]);
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = (await h.server.bapi('GET', `/v1/sms_messages?limit=3&starting_after=${first.next_cursor}`)).json();
    expect(second.data.map((m: { id: string }) => m.id)).toEqual([ids[0]]);
    expect(second.next_cursor).toBeNull();
    expect(first.data[1]).toMatchObject({
      object: 'sms_message',
      template: 'verification_code',
      to_phone_number: '+14155550130',
      status: 'dropped',
      driver: 'null',
      test_number: false,
      delivered_by_us: true,
      attempt_count: 1,
      // The null driver is for development: its log shows the code.
      body: '111222 is your authn.sh verification code. It expires in 10 minutes.',
    });
  });

  it.each([
    ['status=test_noop', () => [ids[3]]],
    ['template=password_changed', () => [ids[1]]],
    ['to=%2B1%20415%20555%200130', () => [ids[2], ids[0]]],
    ['to=%2B14155550130&status=dropped&template=verification_code', () => [ids[2], ids[0]]],
    // National notation, read in the countries codes may go to (US and CA by default).
    ['to=(415)%20555-0130', () => [ids[2], ids[0]]],
    ['to=(555)%20555-0150', () => [ids[3]]],
  ])('filters by %s', async (query, expected) => {
    const res = await h.server.bapi('GET', `/v1/sms_messages?${query}`);
    expect(res.statusCode).toBe(200);
    expect(res.json().data.map((m: { id: string }) => m.id)).toEqual(expected());
  });

  it.each([
    ['to=12', 'form_param_format_invalid', 'to'],
    ['status=lost', 'form_param_value_invalid', 'status'],
    ['colour=red', 'form_param_unknown', 'colour'],
    ['limit=0', 'form_param_format_invalid', 'limit'],
  ])('refuses %s with 422', async (query, code, param) => {
    const res = await h.server.bapi('GET', `/v1/sms_messages?${query}`);
    expect(res.statusCode).toBe(422);
    expect(res.json().errors[0]).toMatchObject({ code, meta: { param_name: param } });
  });

  it('reads a national recipient only in the countries codes may go to, and says what it accepts', async () => {
    const national = () => h.server.bapi('GET', `/v1/sms_messages?to=${encodeURIComponent('(415) 555-0130')}`);
    const refusal = (await h.server.bapi('GET', '/v1/sms_messages?to=12')).json().errors[0];
    expect(refusal.long_message).toBe(
      'to is not a valid national number of US, CA: write it with + and its country code, such as +14155550123',
    );
    try {
      // Under a deny list there is no country of the instance's own: a number needs its country code.
      await patchSettings(h.server, { abuse: { sms_countries: { mode: 'deny', countries: [] } } });
      const res = await national();
      expect(res.statusCode).toBe(422);
      expect(res.json().errors[0]).toMatchObject({
        code: 'form_param_format_invalid',
        long_message: 'to must be an international number in E.164 form, such as +14155550123',
        meta: { param_name: 'to' },
      });
      // Read in GB, the same digits are no number at all.
      await patchSettings(h.server, { abuse: { sms_countries: { mode: 'allow', countries: ['GB'] } } });
      expect((await national()).json().errors[0].long_message).toBe(
        'to is not a valid national number of GB: write it with + and its country code, such as +14155550123',
      );
    } finally {
      await patchSettings(h.server, { abuse: { sms_countries: { mode: 'allow', countries: ['US', 'CA'] } } });
    }
    expect((await national()).json().data.map((m: { id: string }) => m.id)).toEqual([ids[2], ids[0]]);
  });

  it('shows one message with its attempts and status history', async () => {
    const res = await h.server.bapi('GET', `/v1/sms_messages/${ids[0]}`);
    expect(res.statusCode).toBe(200);
    const detail = res.json();
    expect(detail).toMatchObject({ id: ids[0], status: 'dropped', attempt_count: 1, completed_at: expect.any(Number) });
    expect(detail.attempts).toEqual([
      expect.objectContaining({ attempt: 1, driver: 'null', outcome: 'dropped', worker: services().dispatcher.worker, error_code: null }),
    ]);
    expect(detail.status_history.map((s: { status: string; source: string }) => [s.status, s.source])).toEqual([
      ['queued', 'engine'],
      ['dropped', 'engine'],
    ]);
    const missing = await h.server.bapi('GET', '/v1/sms_messages/msg_00000000000000000000000000');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().errors[0].code).toBe('resource_not_found');
  });

  it('needs a secret key', async () => {
    expect((await h.server.inject({ method: 'GET', url: '/v1/sms_messages' })).statusCode).toBe(401);
    expect(
      (
        await h.server.inject({
          method: 'POST',
          url: '/v1/sms_messages/test',
          headers: { 'content-type': 'application/json' },
          payload: '{"to":"+14155550132"}',
        })
      ).statusCode,
    ).toBe(401);
  });

  it('sends the fixed test message through the configured driver', async () => {
    const res = await h.server.bapi('POST', '/v1/sms_messages/test', { to: '+1 415 555 0132' });
    expect(res.statusCode).toBe(202);
    const queued = res.json();
    expect(queued).toMatchObject({
      template: 'test_message',
      to_phone_number: '+14155550132',
      body: 'This is a test message from authn.sh: your SMS settings work.',
    });
    expect((await read.waitForStatus(queued.id, 'dropped')).status).toBe('dropped');
    expect((await read.audit(queued.id))[0]).toMatchObject({ action: 'sms.queued', actor_type: 'secret_key' });

    expect((await h.server.bapi('PATCH', '/v1/instance', { sms: { driver: 'twilio', from_number: FROM } })).statusCode).toBe(200);
    const viaTwilio = (await h.server.bapi('POST', '/v1/sms_messages/test', { to: '+14155550133' })).json();
    await read.waitForStatus(viaTwilio.id, (s) => s === 'sent' || s === 'delivered');
    expect(h.twilio.messagesTo('+14155550133')[0]).toMatchObject({
      body: 'This is a test message from authn.sh: your SMS settings work.',
      from: FROM,
    });
    await eventually('delivery', async () => (await read.message(viaTwilio.id)).status === 'delivered');
    expect((await h.server.bapi('PATCH', '/v1/instance', { sms: { driver: null, from_number: null } })).statusCode).toBe(200);
  });

  it.each([
    [{ to: '+1 555 000' }, 'form_param_format_invalid', 'to'],
    [{ to: 14155550134 }, 'form_param_type_invalid', 'to'],
    [{}, 'form_param_missing', 'to'],
    [{ to: '+14155550134', body: 'hi' }, 'form_param_unknown', 'body'],
  ])('refuses a bad test request %j and queues nothing', async (body, code, param) => {
    const before = await count();
    const res = await h.server.bapi('POST', '/v1/sms_messages/test', body);
    expect(res.statusCode).toBe(422);
    expect(res.json().errors[0]).toMatchObject({ code, meta: { param_name: param } });
    expect(await count()).toBe(before);
  });
});
