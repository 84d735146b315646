/**
 * The send engine, on both stores: recipient checks, the caller's transaction, the reserved test range under
 * every driver, the null driver's drop, `delivered_by_us: false`, and the sender choice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORES, createTestStore, type TestStore } from '../helpers/server.js';
import { FROM, TWILIO, startSmsServer, storeReader, templateEditor, type SmsHarness } from './harness.js';

describe.each(STORES)('send engine on %s', (kind) => {
  let store: TestStore;
  let h: SmsHarness;
  let read: ReturnType<typeof storeReader>;
  /** The server's clock runs this far ahead of the wall clock. */
  let skew = 0;
  const services = () => h.server.running.services;
  const db = () => services().store.db;
  const count = async (table: 'sms_messages' | 'events' | 'audit_logs') => {
    let query = db()
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'));
    // The dispatcher may be dropping an earlier message meanwhile: count what a send itself writes.
    if (table === 'audit_logs') query = query.where('action', '=', 'sms.queued');
    return Number((await query.executeTakeFirstOrThrow()).n);
  };
  const useDriver = async (driver: 'twilio' | 'vonage' | null, extra: Record<string, unknown> = {}) => {
    const res = await h.server.bapi('PATCH', '/v1/instance', { sms: { driver, from_number: driver ? FROM : null, ...extra } });
    expect(res.statusCode, res.body).toBe(200);
  };
  const templates = templateEditor(() => h.server);
  const code = (to: string, paramName?: string) =>
    services().sms.send({ template: 'verification_code', to, variables: { code: '482913', expires_in_minutes: '10' }, paramName });
  const accepted = (status: string) => status === 'sent' || status === 'delivered';
  /** Sends a normal message and waits for it: after that, the dispatcher has seen everything queued before. */
  const flush = async () => {
    const { id } = await code('+14155559999');
    await read.waitForStatus(id, (s) => s !== 'queued' && s !== 'sending');
  };

  beforeAll(async () => {
    store = await createTestStore(kind);
    h = await startSmsServer(store, { driver: null, clock: { now: () => Date.now() + skew } });
    read = storeReader(h.server);
  });
  afterAll(async () => {
    await h?.close();
    await store?.cleanup();
  });

  it('normalises the recipient and renders the default template', async () => {
    const sent = await code('+1 (415) 555-0123');
    expect(sent).toMatchObject({ status: 'dropped', to: '+14155550123', template: 'verification_code', testNumber: false });
    const row = await read.message(sent.id);
    expect(row).toMatchObject({ to_number: '+14155550123', encoding: 'GSM-7', segments: 1, driver: 'null' });
    const [queued] = await read.events(sent.id);
    expect(queued).toMatchObject({
      type: 'sms.queued',
      data: { status: 'queued', to_phone_number: '+14155550123', delivered_by_us: true },
    });
    expect(JSON.stringify(queued)).not.toContain('482913');
  });

  it('refuses an invalid number with 422 on the caller’s parameter and queues nothing', async () => {
    const before = await Promise.all([count('sms_messages'), count('events'), count('audit_logs')]);
    await expect(code('+1 555 000')).rejects.toMatchObject({
      status: 422,
      code: 'form_param_format_invalid',
      details: [{ meta: { param_name: 'to' } }],
    });
    await expect(code('not a number', 'phone_number')).rejects.toMatchObject({
      status: 422,
      details: [{ meta: { param_name: 'phone_number' } }],
    });
    expect(await Promise.all([count('sms_messages'), count('events'), count('audit_logs')])).toEqual(before);
  });

  it('joins the caller’s transaction: a rollback leaves no message, event or audit entry', async () => {
    const before = await Promise.all([count('sms_messages'), count('events'), count('audit_logs')]);
    await expect(
      db()
        .transaction()
        .execute(async (tx) => {
          await services().sms.send({ template: 'verification_code', to: '+14155550124', variables: { code: '1' } }, tx);
          throw new Error('the challenge could not be stored');
        }),
    ).rejects.toThrow('the challenge could not be stored');
    expect(await Promise.all([count('sms_messages'), count('events'), count('audit_logs')])).toEqual(before);
  });

  it('reads long-stale settings through the caller’s transaction (on SQLite a read outside it would wait forever)', async () => {
    expect((await h.server.bapi('PATCH', '/v1/instance', { app_name: 'Acme' })).statusCode).toBe(200);
    // Well past the settings cache and its grace period, with no dispatcher refreshing it meanwhile.
    await services().dispatcher.stop();
    skew += 60_000;
    const sent = await db()
      .transaction()
      .execute((tx) => services().sms.send({ template: 'password_changed', to: '+14155550135', variables: {} }, tx));
    services().dispatcher.start();
    expect((await read.message(sent.id)).body).toBe('Your Acme password was changed. If this was not you, contact support.');
    expect((await h.server.bapi('PATCH', '/v1/instance', { app_name: null })).statusCode).toBe(200);
  });

  it('the null driver drops a verification code with an audit entry holding its body, and logs it at info', async () => {
    const { id, status } = await code('+14155550125');
    // Dropped in the transaction that queued it: nothing to wait for once the send returns.
    expect(status).toBe('dropped');
    const row = await read.message(id);
    expect(row).toMatchObject({ status: 'dropped', attempts: 1, next_attempt_at: null, payload: null, completed_at: expect.any(Number) });
    expect(row.body).toBe('482913 is your authn.sh verification code. It expires in 10 minutes.');
    const dropped = (await read.audit(id)).find((a) => a.action === 'sms.dropped')!;
    expect(JSON.parse(dropped.data)).toMatchObject({
      driver: 'null',
      body: '482913 is your authn.sh verification code. It expires in 10 minutes.',
    });
    const line = h.server.logs
      .map((l) => JSON.parse(l) as { level: number; msg: string; message_id?: string; body?: string })
      .find((l) => l.message_id === id && l.body);
    expect(line).toMatchObject({ level: 30, body: row.body });
    expect((await read.events(id)).map((e) => e.type)).toEqual(['sms.queued']);
  });

  it('the null driver drops other templates without echoing them', async () => {
    const { id } = await services().sms.send({ template: 'password_changed', to: '+14155550126', variables: {} });
    expect((await read.message(id)).status).toBe('dropped');
    const dropped = (await read.audit(id)).find((a) => a.action === 'sms.dropped')!;
    expect(JSON.parse(dropped.data).body).toBeUndefined();
    expect(h.server.logs.some((l) => l.includes(id) && l.includes('"body"'))).toBe(false);
  });

  it('a message queued under Twilio, then the driver switched to null before it went out, is dropped by the dispatcher', async () => {
    await services().dispatcher.stop();
    await useDriver('twilio');
    const requestsBefore = h.twilio.requests.length;
    const { id, status } = await code('+14155550127');
    expect(status).toBe('queued');
    expect((await read.message(id)).body).toBe('****** is your authn.sh verification code. It expires in 10 minutes.');
    await useDriver(null);
    services().dispatcher.start();
    const row = await read.waitForStatus(id, 'dropped');
    expect(row).toMatchObject({ driver: 'null', attempts: 1, payload: null });
    expect(h.twilio.requests.length).toBe(requestsBefore);
    const dropped = (await read.audit(id)).find((a) => a.action === 'sms.dropped')!;
    expect(JSON.parse(dropped.data)).toMatchObject({
      driver: 'null',
      body: '482913 is your authn.sh verification code. It expires in 10 minutes.',
    });
    expect((await read.attempts(id)).map((a) => [a.outcome, a.worker])).toEqual([['dropped', services().dispatcher.worker]]);
  });

  it.each([null, 'twilio', 'vonage'] as const)(
    'no-ops the reserved test range under the %s driver: recorded, sms.queued fired, no carrier request',
    async (driver) => {
      await useDriver(driver);
      const requestsBefore = h.twilio.requests.length + h.vonage.requests.length;
      const sent = await code('+1 (555) 555-0142');
      expect(sent).toMatchObject({ status: 'test_noop', testNumber: true, to: '+15555550142' });
      await flush();
      // Only the flush message reached a carrier (for a real driver).
      expect(h.twilio.requests.length + h.vonage.requests.length - requestsBefore).toBe(driver === null ? 0 : 1);
      expect(h.twilio.requests.concat(h.vonage.requests).some((r) => JSON.stringify(r.fields).includes('5555550142'))).toBe(false);
      expect(await read.message(sent.id)).toMatchObject({ status: 'test_noop', next_attempt_at: null, payload: null, attempts: 0 });
      expect((await read.events(sent.id)).map((e) => [e.type, e.data.status])).toEqual([['sms.queued', 'test_noop']]);
      expect((await read.audit(sent.id)).map((a) => a.action)).toEqual(['sms.queued']);
      await useDriver(null);
    },
  );

  it.each([null, 'twilio'] as const)(
    'delivered_by_us false under the %s driver: no send, sms.queued carries body and recipient',
    async (driver) => {
      await useDriver(driver);
      await templates.store('verification_code', { body: 'Code {{code}}', delivered_by_us: false });
      const requestsBefore = h.twilio.requests.length;
      const sent = await code('+14155550127');
      expect(sent.status).toBe('operator');
      await templates.store('verification_code', { body: '{{code}} is your code' });
      await flush();
      expect(h.twilio.requests.length - requestsBefore).toBe(driver === null ? 0 : 1);
      const [queued] = await read.events(sent.id);
      expect(queued).toMatchObject({
        type: 'sms.queued',
        data: { status: 'operator', delivered_by_us: false, message: 'Code 482913', to_phone_number: '+14155550127' },
      });
      expect(await read.message(sent.id)).toMatchObject({ status: 'operator', next_attempt_at: null });
      await templates.revert('verification_code');
      await useDriver(null);
    },
  );

  it('sends from the template’s from_number_override, and ignores it under a messaging service', async () => {
    await useDriver('twilio');
    await templates.store('verification_code', { body: '{{code}} is your code', from_number_override: '+14155550199' });
    const a = await code('+14155550128');
    await read.waitForStatus(a.id, accepted);
    expect(h.twilio.messagesTo('+14155550128')[0]).toMatchObject({ from: '+14155550199', messagingServiceSid: null });

    await useDriver('twilio', { twilio: { messaging_service_sid: TWILIO.messagingServiceSid } });
    const b = await code('+14155550129');
    await read.waitForStatus(b.id, accepted);
    const request = h.twilio.requests.find((r) => r.fields.To === '+14155550129')!;
    expect(request.fields.MessagingServiceSid).toBe(TWILIO.messagingServiceSid);
    expect(request.fields.From).toBeUndefined();
    expect(await read.message(b.id)).toMatchObject({ from_number: null, messaging_service_sid: TWILIO.messagingServiceSid });
    await templates.revert('verification_code');
    await useDriver(null, { twilio: { messaging_service_sid: null } });
  });
});
