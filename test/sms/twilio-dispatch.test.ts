/**
 * The whole path with the Twilio driver, on both stores: engine → outbox → dispatcher → fake Twilio → signed
 * status callbacks → message status, events and audit. Failures, retries, expiry and every callback order.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STORES, createTestStore, type TestStore } from '../helpers/server.js';
import { TWILIO_FAILURES } from '../fakes/twilio.js';
import { Fapi, patchSettings } from '../auth/helpers.js';
import { FROM, TWILIO, startSmsServer, storeReader, type SmsHarness } from './harness.js';
import { eventually } from '../helpers/eventually.js';

describe.each(STORES)('Twilio dispatch on %s', (kind) => {
  let store: TestStore;
  let h: SmsHarness;
  let read: ReturnType<typeof storeReader>;
  let next = 0;
  /** A fresh, valid US recipient per test (libphonenumber-valid San Francisco numbers). */
  const recipient = () => `+1415555${String(2000 + next++).padStart(4, '0')}`;
  const send = (
    to: string,
    variables: Record<string, string> = { code: '482913', expires_in_minutes: '10' },
    challenge?: { id: string; expiresAt: number },
  ) => h.server.running.services.sms.send({ template: 'verification_code', to, variables, challenge });

  beforeAll(async () => {
    store = await createTestStore(kind);
    h = await startSmsServer(store, { driver: 'twilio', twilio: { callbacks: 'manual' } });
    read = storeReader(h.server);
  });
  afterEach(() => {
    expect(h.twilio.violations).toEqual([]);
    h.twilio.failures.clear();
  });
  afterAll(async () => {
    await h?.close();
    await store?.cleanup();
  });

  it('sends the exact request, then follows sent → delivered callbacks', async () => {
    const to = recipient();
    const expiresAt = Date.now() + 9 * 60_000;
    const { id } = await send(to, undefined, { id: 'chl_test', expiresAt });
    const sent = await read.waitForStatus(id, 'sent');
    const [request] = h.twilio.requests.filter((r) => r.fields.To === to);
    expect(request!.path).toBe(`/2010-04-01/Accounts/${TWILIO.accountSid}/Messages.json`);
    expect(request!.fields).toMatchObject({
      To: to,
      From: FROM,
      Body: '482913 is your authn.sh verification code. It expires in 10 minutes.',
      StatusCallback: `${h.publicUrl}/callbacks/twilio/status/${id}`,
    });
    // The carrier drops the code once it is useless: ValidityPeriod is the code's remaining validity.
    expect(Number(request!.fields.ValidityPeriod)).toBeGreaterThan(500);
    expect(Number(request!.fields.ValidityPeriod)).toBeLessThanOrEqual(540);
    expect(sent).toMatchObject({
      carrier_message_id: expect.stringMatching(/^SM[0-9a-f]{32}$/),
      carrier_status: 'queued',
      attempts: 1,
      payload: null,
      lease_owner: null,
    });
    // The log never shows the code of a real driver's message.
    expect(sent.body).toBe('****** is your authn.sh verification code. It expires in 10 minutes.');

    await h.twilio.sendStatus(sent.carrier_message_id!, { status: 'sent' });
    await h.twilio.sendStatus(sent.carrier_message_id!, { status: 'delivered' });
    expect(h.twilio.server.callbacks.slice(-2).map((c) => c.status)).toEqual([200, 200]);
    const delivered = await read.message(id);
    expect(delivered).toMatchObject({ status: 'delivered', carrier_status: 'delivered' });
    expect(delivered.completed_at).not.toBeNull();
    expect((await read.events(id)).map((e) => e.type)).toEqual(['sms.queued', 'sms.sent', 'sms.delivered']);
    // The engine's first entry is the message row itself; the table holds what came after.
    expect((await read.history(id)).map((r) => [r.status, r.source, r.carrier_status, r.applied])).toEqual([
      ['sent', 'dispatcher', null, 1],
      ['sent', 'twilio', 'sent', 0],
      ['delivered', 'twilio', 'delivered', 1],
    ]);
    expect((await read.attempts(id)).map((a) => [a.attempt, a.outcome, a.driver, a.http_status])).toEqual([[1, 'accepted', 'twilio', 201]]);
    expect((await read.audit(id)).map((a) => [a.action, a.actor_type])).toEqual([
      ['sms.queued', 'system'],
      ['sms.sent', 'dispatcher'],
      ['sms.delivered', 'carrier'],
    ]);
  });

  it('gives a code requested through FAPI the lifetime of abuse.code_lifetime_minutes: its text and ValidityPeriod', async () => {
    await patchSettings(h.server, { abuse: { code_lifetime_minutes: 2 } });
    try {
      const to = recipient();
      const fapi = await new Fapi(h.server).start();
      const { id } = await fapi.signUp(to);
      const prepared = await fapi.call('POST', `/v1/client/sign_ups/${id}/prepare_verification`, { strategy: 'phone_code' });
      expect(prepared.statusCode, prepared.body).toBe(200);
      const request = await eventually('the code at Twilio', () => h.twilio.requests.find((r) => r.fields.To === to));
      expect(request.fields.Body).toMatch(/^\d{6} is your authn\.sh verification code\. It expires in 2 minutes\.$/);
      expect(Number(request.fields.ValidityPeriod)).toBeGreaterThan(100);
      expect(Number(request.fields.ValidityPeriod)).toBeLessThanOrEqual(120);
    } finally {
      await patchSettings(h.server, { abuse: { code_lifetime_minutes: null } });
    }
  });

  it('keeps delivered when a late sent arrives, and a duplicate changes nothing', async () => {
    const { id } = await send(recipient());
    const { carrier_message_id: sid } = await read.waitForStatus(id, 'sent');
    await h.twilio.sendStatus(sid!, { status: 'delivered' });
    await h.twilio.sendStatus(sid!, { status: 'sent' });
    const after = await read.message(id);
    expect(after.status).toBe('delivered');
    const historyBefore = await read.history(id);
    const eventsBefore = await read.events(id);
    await h.twilio.sendStatus(sid!, { status: 'delivered' });
    await h.twilio.sendStatus(sid!, { status: 'sent' });
    expect(await read.message(id)).toEqual(after);
    expect(await read.history(id)).toEqual(historyBefore);
    expect(await read.events(id)).toEqual(eventsBefore);
    expect(eventsBefore.map((e) => e.type)).toEqual(['sms.queued', 'sms.sent', 'sms.delivered']);
  });

  it('records undelivered with the carrier’s error code, and fires sms.failed carrying it', async () => {
    const { id } = await send(recipient());
    const { carrier_message_id: sid } = await read.waitForStatus(id, 'sent');
    await h.twilio.sendStatus(sid!, { status: 'undelivered', errorCode: '30003' });
    expect(await read.message(id)).toMatchObject({
      status: 'undelivered',
      error_code: '30003',
      error_message: 'Unreachable destination handset',
    });
    const failed = (await read.events(id)).find((e) => e.type === 'sms.failed');
    expect(failed!.data).toMatchObject({ status: 'undelivered', error_code: '30003', error_message: 'Unreachable destination handset' });
    // A delivered after a final failure cannot revive it.
    await h.twilio.sendStatus(sid!, { status: 'delivered' });
    expect((await read.message(id)).status).toBe('undelivered');
  });

  it('refuses a forged callback with 403 and changes nothing', async () => {
    const { id } = await send(recipient());
    const { carrier_message_id: sid } = await read.waitForStatus(id, 'sent');
    const before = {
      message: await read.message(id),
      history: await read.history(id),
      events: await read.events(id),
      audit: await read.audit(id),
    };
    const forged = await h.twilio.sendStatus(sid!, { status: 'delivered' }, { authToken: 'e'.repeat(32), retry: false });
    expect(forged.status).toBe(403);
    const res = await fetch(`${h.publicUrl}/callbacks/twilio/status/${id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' },
      body: new URLSearchParams({ AccountSid: TWILIO.accountSid, MessageSid: sid!, MessageStatus: 'failed' }).toString(),
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe('callback_signature_invalid');
    const unsigned = await fetch(`${h.publicUrl}/callbacks/twilio/status/${id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ AccountSid: TWILIO.accountSid, MessageSid: sid!, MessageStatus: 'failed' }).toString(),
    });
    expect(unsigned.status).toBe(403);
    expect({
      message: await read.message(id),
      history: await read.history(id),
      events: await read.events(id),
      audit: await read.audit(id),
    }).toEqual(before);
  });

  it('retries transient failures with backoff, then succeeds', async () => {
    const to = recipient();
    h.twilio.fail(TWILIO_FAILURES.serverError, { to });
    h.twilio.fail(TWILIO_FAILURES.rateLimited, { to });
    h.twilio.fail({ kind: 'reset' }, { to });
    const { id } = await send(to);
    const sent = await read.waitForStatus(id, 'sent');
    expect(sent.attempts).toBe(4);
    expect(h.twilio.requests.filter((r) => r.fields.To === to).map((r) => r.status)).toEqual([500, 429, 0, 201]);
    expect((await read.attempts(id)).map((a) => [a.outcome, a.error_code])).toEqual([
      ['transient_error', '20500'],
      ['transient_error', '20429'],
      ['transient_error', 'network_error'],
      ['accepted', null],
    ]);
    expect((await read.history(id)).filter((r) => r.status === 'queued').length).toBe(3);
    expect((await read.events(id)).map((e) => e.type)).toEqual(['sms.queued', 'sms.sent']);
    const metrics = await h.server.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/authn_sms_retries_total\{driver="twilio"\} [1-9]/);
  });

  it.each([
    ['an invalid number', TWILIO_FAILURES.invalidNumber],
    ['an opted-out recipient', TWILIO_FAILURES.unsubscribed],
    ['a geo-blocked region', TWILIO_FAILURES.geoBlocked],
    ['bad credentials', { kind: 'auth' as const, code: 20003, message: 'Authenticate' }],
  ])('fails at once, without retrying, on %s', async (_name, failure) => {
    const to = recipient();
    h.twilio.fail(failure.kind === 'auth' ? { kind: 'auth' } : failure, { to });
    const { id } = await send(to);
    const failed = await read.waitForStatus(id, 'failed');
    expect(failed).toMatchObject({ attempts: 1, error_code: String(failure.code), error_message: failure.message, payload: null });
    expect(h.twilio.requests.filter((r) => r.fields.To === to)).toHaveLength(1);
    const event = (await read.events(id)).find((e) => e.type === 'sms.failed');
    expect(event!.data).toMatchObject({ status: 'failed', error_code: String(failure.code), error_message: failure.message });
  });

  it('fails after the last attempt when the carrier keeps failing', async () => {
    const to = recipient();
    h.twilio.fail(TWILIO_FAILURES.serverError, { to, times: 100 });
    const { id } = await send(to);
    const failed = await read.waitForStatus(id, 'failed');
    expect(failed.attempts).toBe(8);
    expect(h.twilio.requests.filter((r) => r.fields.To === to)).toHaveLength(8);
    expect((await read.audit(id)).at(-1)).toMatchObject({ action: 'sms.failed' });
  });

  it('times out a hanging carrier call and tries again', async () => {
    const to = recipient();
    h.twilio.fail({ kind: 'hang' }, { to });
    const { id } = await send(to);
    const sent = await read.waitForStatus(id, 'sent');
    expect((await read.attempts(id)).map((a) => [a.outcome, a.error_code])).toEqual([
      ['transient_error', 'timeout'],
      ['accepted', null],
    ]);
    expect(sent.attempts).toBe(2);
  });

  it('does not send a code whose challenge has expired', async () => {
    const to = recipient();
    const { id } = await send(to, undefined, { id: 'chl_expired', expiresAt: Date.now() - 1 });
    const expired = await read.waitForStatus(id, 'expired');
    expect(expired).toMatchObject({ error_code: 'expired', payload: null });
    expect(h.twilio.requests.filter((r) => r.fields.To === to)).toHaveLength(0);
    expect((await read.events(id)).map((e) => [e.type, e.data.status])).toEqual([
      ['sms.queued', 'queued'],
      ['sms.failed', 'expired'],
    ]);
  });

  it('expires a code rather than retry it after its challenge ends', async () => {
    const to = recipient();
    h.twilio.fail({ ...TWILIO_FAILURES.rateLimited, retryAfter: '120' }, { to });
    const { id } = await send(to, undefined, { id: 'chl_short', expiresAt: Date.now() + 60_000 });
    const expired = await read.waitForStatus(id, 'expired');
    expect(expired).toMatchObject({ error_code: '20429', attempts: 1 });
  });

  it('a callback that arrives before the send outcome is recorded wins; the outcome only adds the carrier id', async () => {
    const to = recipient();
    h.twilio.fail({ kind: 'late', ms: 300 }, { to });
    const { id } = await send(to);
    // Twilio has the message but answers the create call late; its delivery report comes first.
    const sid = await eventually('the fake to hold the message', () => h.twilio.messagesTo(to)[0]?.sid);
    await h.twilio.sendStatus(sid, { status: 'delivered' });
    const row = await read.waitForStatus(id, 'delivered');
    await eventually('the send outcome', async () => (await read.attempts(id)).length === 1);
    expect(await read.message(id)).toMatchObject({
      status: 'delivered',
      carrier_message_id: sid,
      payload: null,
      lease_owner: null,
      next_attempt_at: null,
    });
    expect(row.status).toBe('delivered');
  });
});
