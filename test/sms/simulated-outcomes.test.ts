/**
 * Simulated carrier outcomes end to end (docs/sms.md, "Simulated outcomes"): under `test_mode: enabled` a message to
 * +15555550190 … 0199 goes through the real outbox, dispatcher, status checks, history, events and webhooks, with
 * the simulated driver playing the carrier, and no request ever reaches a carrier. The rest of the test range, and
 * the whole range with test_mode off, are no-ops as before. Time is a ManualClock: receipts come when it says so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORES, createTestStore, startTestServer, type TestStore } from '../helpers/server.js';
import { Fapi, patchSettings } from '../auth/helpers.js';
import { ManualClock } from '../helpers/clock.js';
import { Receiver, verifyAt, webhookEnv, type Envelope } from '../webhooks/receiver.js';
import { eventually } from '../helpers/eventually.js';
import { sleep } from '../fakes/common.js';
import { SIMULATED_RECEIPT_MS, SIMULATED_SLOW_RECEIPT_MS } from '../../src/sms/drivers/simulated.js';
import { FROM, startSmsServer, storeReader, templateEditor, untilDispatched, type SmsHarness } from './harness.js';

const simulated = (digit: number) => `+1555555019${digit}`;
const HOUR = 3_600_000;
/** The default `sms.failover.receipt_wait_seconds`, for verification codes. */
const RECEIPT_WAIT_MS = 60_000;

/** The keys and strings of a JSON value, all the way down. */
const textsOf = (value: unknown): string[] => {
  if (typeof value === 'string') return [value];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) => [key, ...textsOf(inner)]);
};

describe.each(STORES)('simulated outcomes on %s', (kind) => {
  let store: TestStore;
  let h: SmsHarness;
  let read: ReturnType<typeof storeReader>;
  let receiver: Receiver;
  let endpoint: { id: string; secret: string };
  const clock = new ManualClock(Date.now());
  const services = () => h.server.running.services;
  const checks = () => services().smsStatusChecks;

  beforeAll(async () => {
    store = await createTestStore(kind);
    h = await startSmsServer(store, { driver: null, clock, env: webhookEnv({ AUTHN_LOG_LEVEL: 'info' }) });
    read = storeReader(h.server);
    await patchSettings(h.server, { test_mode: 'enabled' });
    receiver = await new Receiver().start();
    const res = await h.server.bapi('POST', '/v1/webhooks/endpoints', {
      url: receiver.url,
      event_types: ['sms.queued', 'sms.failover', 'sms.sent', 'sms.delivered', 'sms.failed'],
    });
    expect(res.statusCode, res.body).toBe(200);
    endpoint = res.json();
  });
  afterAll(async () => {
    // Whatever a test did, no carrier was called.
    expect([...h.twilio.requests, ...h.vonage.requests]).toEqual([]);
    await receiver?.stop();
    await h?.close();
    await store?.cleanup();
  });

  const send = async (to: string, template: 'verification_code' | 'password_changed' = 'verification_code') =>
    services().sms.send({ template, to, variables: template === 'verification_code' ? { code: '482913', expires_in_minutes: '10' } : {} });

  const dispatched = (id: string) => untilDispatched(read, clock, id);

  /** Moves the clock on by `ms` and runs a round of status checks. */
  async function advance(ms: number) {
    clock.advance(ms);
    await checks().runOnce();
  }
  /** Plays the receipts, round after round, until the message is at its final status. */
  async function settled(id: string) {
    for (let row = await dispatched(id); row.status === 'sent'; row = await dispatched(id)) await advance(SIMULATED_RECEIPT_MS);
  }

  const history = async (id: string) =>
    (await read.history(id)).map((s) => [s.status, s.source, s.carrier_status, s.error_code, s.applied]);
  const eventTypes = async (id: string) => (await read.events(id)).map((e) => e.type);
  /**
   * The webhooks received about one message, each verified (at the clock's time: a test's earlier ones may be days
   * old), in the order of their events (deliveries run side by side, so they may arrive in another).
   */
  const verifiedAbout = (id: string) =>
    receiver.received
      .filter((r) => (JSON.parse(r.body) as Envelope).data.id === id)
      .map((r) => verifyAt(endpoint.secret, r, clock) as Envelope)
      .sort((a, b) => a.id.localeCompare(b.id));
  /** What the webhook endpoint received about one message, once all of `count` arrived. */
  const webhooks = (id: string, count: number) =>
    eventually(`${count} webhooks about ${id}`, () => {
      const envelopes = verifiedAbout(id);
      return envelopes.length === count && envelopes.map((e) => [e.type, e.data.status, e.data.driver ?? null, e.data.error_code ?? null]);
    });

  it('digit 0 on an instance with the null driver: Twilio is played, the receipt comes through a status check 3 s after acceptance', async () => {
    const queued = await send(simulated(0));
    expect(queued).toMatchObject({ status: 'queued', testNumber: true });
    const sent = await dispatched(queued.id);
    expect(sent).toMatchObject({ status: 'sent', driver: 'twilio', test_number: 1, carrier_status: 'queued', attempts: 1 });
    expect(sent.carrier_message_id).toMatch(/^sim-0-/);
    expect(sent.status_check_at).toBe(sent.sent_at! + SIMULATED_RECEIPT_MS);
    expect(await read.attempts(queued.id)).toMatchObject([{ attempt: 1, driver: 'twilio', outcome: 'accepted', http_status: 201 }]);

    // Not before its time.
    await advance(SIMULATED_RECEIPT_MS - 1);
    expect((await read.message(queued.id)).status).toBe('sent');
    await advance(1);
    const delivered = await read.message(queued.id);
    expect(delivered).toMatchObject({ status: 'delivered', carrier_status: 'delivered', status_check_at: null, error_code: null });
    expect(await history(queued.id)).toEqual([
      ['sent', 'dispatcher', null, null, 1],
      ['delivered', 'twilio', 'delivered', null, 1],
    ]);
    expect(await eventTypes(queued.id)).toEqual(['sms.queued', 'sms.sent', 'sms.delivered']);
    expect(await webhooks(queued.id, 3)).toEqual([
      ['sms.queued', 'queued', null, null],
      ['sms.sent', 'sent', 'twilio', null],
      ['sms.delivered', 'delivered', 'twilio', null],
    ]);
    // The message log shows the whole path, from `queued`.
    const detail = (await h.server.bapi('GET', `/v1/sms_messages/${queued.id}`)).json();
    expect(detail).toMatchObject({ status: 'delivered', test_number: true, driver: 'twilio' });
    expect(detail.status_history.map((s: { status: string }) => s.status)).toEqual(['queued', 'sent', 'delivered']);
  });

  // Twilio played first (the null driver's first carrier), Vonage as its failover: the outcome of each digit.
  it.each([
    [
      1,
      'undelivered',
      '30003',
      'twilio',
      [
        ['sent', 'dispatcher', null, null, 1],
        ['undelivered', 'twilio', 'undelivered', '30003', 1],
      ],
      ['sms.queued', 'sms.sent', 'sms.failed'],
    ],
    [
      8,
      'failed',
      '6',
      'vonage',
      [
        ['sent', 'dispatcher', null, null, 1],
        ['queued', 'twilio', 'undelivered', '30007', 1],
        ['sent', 'dispatcher', null, null, 1],
        ['failed', 'vonage', 'rejected', '6', 1],
      ],
      ['sms.queued', 'sms.sent', 'sms.failover', 'sms.sent', 'sms.failed'],
    ],
    [
      2,
      'failed',
      '29',
      'vonage',
      [
        ['queued', 'dispatcher', null, '21408', 1],
        ['failed', 'dispatcher', null, '29', 1],
      ],
      ['sms.queued', 'sms.failover', 'sms.failed'],
    ],
    [7, 'failed', '21211', 'twilio', [['failed', 'dispatcher', null, '21211', 1]], ['sms.queued', 'sms.failed']],
    [
      5,
      'delivered',
      null,
      'twilio',
      [
        ['queued', 'dispatcher', null, 'timeout', 1],
        ['sent', 'dispatcher', null, null, 1],
        ['delivered', 'twilio', 'delivered', null, 1],
      ],
      ['sms.queued', 'sms.sent', 'sms.delivered'],
    ],
  ] as const)('digit %i ends %s (%s from %s)', async (digit, final, code, driver, expectedHistory, events) => {
    const { id } = await send(simulated(digit));
    // Each carrier's receipt in turn (a failure report may move the message to the next).
    await settled(id);
    expect(await read.message(id)).toMatchObject({ status: final, error_code: code, driver, test_number: 1 });
    expect(await history(id)).toEqual(expectedHistory);
    expect(await eventTypes(id)).toEqual(events);
    expect((await webhooks(id, events.length)).map(([type]) => type)).toEqual(events);
  });

  it('digit 6: delivered after 20 s', async () => {
    const { id } = await send(simulated(6));
    const sent = await dispatched(id);
    expect(sent.status_check_at).toBe(sent.sent_at! + SIMULATED_SLOW_RECEIPT_MS);
    await advance(SIMULATED_RECEIPT_MS);
    expect((await read.message(id)).status).toBe('sent');
    await advance(SIMULATED_SLOW_RECEIPT_MS - SIMULATED_RECEIPT_MS);
    expect((await read.message(id)).status).toBe('delivered');
  });

  it('digit 3: accepted, no receipt within the wait, moves to Vonage; then no receipt ever, through three days of status checks', async () => {
    const { id } = await send(simulated(3));
    const sent = await dispatched(id);
    expect(sent).toMatchObject({ status: 'sent', driver: 'twilio', receipt_wait_until: sent.sent_at! + RECEIPT_WAIT_MS });

    // Sweeps run within the wait: the message stays with Twilio.
    clock.advance(RECEIPT_WAIT_MS - 1_000);
    await sleep(300);
    expect(await read.message(id)).toMatchObject({ status: 'sent', driver: 'twilio', failover_from: null });
    clock.advance(1_000);
    const moved = await eventually('the move to Vonage', async () => {
      const row = await read.message(id);
      return row.driver === 'vonage' && row.status === 'sent' ? row : undefined;
    });
    expect(moved).toMatchObject({ failover_from: 'twilio', receipt_wait_until: null, payload: null });
    expect(await read.attempts(id)).toMatchObject([
      { attempt: 1, driver: 'twilio', outcome: 'accepted' },
      { attempt: 2, driver: 'vonage', outcome: 'accepted' },
    ]);

    for (let hours = 0; hours < 80 && (await read.message(id)).status_check_at !== null; hours++) await advance(HOUR);
    expect(await read.message(id)).toMatchObject({ status: 'sent', driver: 'vonage', status_check_at: null, completed_at: null });
    expect(await history(id)).toEqual([
      ['sent', 'dispatcher', null, null, 1],
      ['queued', 'dispatcher', null, 'no_receipt', 1],
      ['sent', 'dispatcher', null, null, 1],
      // Vonage's answer to the status checks: still only accepted, recorded and not applied.
      ['sent', 'vonage', 'accepted', null, 0],
    ]);
    expect(await eventTypes(id)).toEqual(['sms.queued', 'sms.sent', 'sms.failover', 'sms.sent']);
  });

  it('digit 9: every attempt times out: fails over after the transient tries, then runs out of tries', async () => {
    const { id } = await send(simulated(9));
    const row = await dispatched(id);
    expect(row).toMatchObject({
      status: 'failed',
      error_code: 'timeout',
      driver: 'vonage',
      failover_from: 'twilio',
      failover_attempt: 2,
      attempts: 10,
    });
    const attempts = await read.attempts(id);
    expect(attempts.map((a) => [a.driver, a.outcome, a.error_code])).toEqual([
      ...Array.from({ length: 2 }, () => ['twilio', 'transient_error', 'timeout']),
      ...Array.from({ length: 8 }, () => ['vonage', 'transient_error', 'timeout']),
    ]);
    expect(await eventTypes(id)).toEqual(['sms.queued', 'sms.failover', 'sms.failed']);
  });

  it('plays Vonage, in its own words, when Vonage is the instance driver', async () => {
    await patchSettings(h.server, { sms: { driver: 'vonage', from_number: FROM } });
    try {
      const undelivered = await send(simulated(1));
      expect(await dispatched(undelivered.id)).toMatchObject({ status: 'sent', driver: 'vonage', carrier_status: '0' });
      await advance(SIMULATED_RECEIPT_MS);
      expect(await read.message(undelivered.id)).toMatchObject({
        status: 'undelivered',
        carrier_status: 'expired',
        error_code: '2',
        error_message: 'Absent subscriber (temporary)',
      });
      expect(await history(undelivered.id)).toEqual([
        ['sent', 'dispatcher', null, null, 1],
        ['undelivered', 'vonage', 'expired', '2', 1],
      ]);

      const refused = await send(simulated(2));
      expect(await dispatched(refused.id)).toMatchObject({
        status: 'failed',
        driver: 'vonage',
        error_code: '29',
        error_message: 'Non-whitelisted destination',
      });
      // The code is masked in the log as for any real driver; it travels sealed until it is "sent".
      const row = await read.message(refused.id);
      expect(row.body).not.toContain('482913');
      expect(row.payload).toBeNull();
    } finally {
      await patchSettings(h.server, { sms: { driver: null } });
    }
  });

  it('a receipt due while the server was down comes after the restart', async () => {
    const { id } = await send(simulated(0));
    expect((await dispatched(id)).status).toBe('sent');
    await h.server.close();
    clock.advance(SIMULATED_RECEIPT_MS);
    h.server = await startTestServer(store, { env: h.env, clock, listen: true });
    read = storeReader(h.server);
    await checks().runOnce();
    expect((await read.message(id)).status).toBe('delivered');
  });

  it('the status checks look when a receipt falls due, not at their next round', async () => {
    const { id } = await send(simulated(0));
    expect((await dispatched(id)).status).toBe('sent');
    clock.advance(SIMULATED_RECEIPT_MS);
    // No runOnce here: the round the driver asked for comes on its own (real time, ~3 s).
    await eventually('the receipt', async () => (await read.message(id)).status === 'delivered', 20_000);
  });

  /** A sign-up with `phone` whose code was asked for, and the code's message. */
  async function signUpWithCode(phone: string) {
    const fapi = await new Fapi(h.server).start();
    const { id, res } = await fapi.signUp(phone);
    expect(res.statusCode, res.body).toBe(201);
    const prepared = await fapi.call('POST', `/v1/client/sign_ups/${id}/prepare_verification`, { strategy: 'phone_code' });
    expect(prepared.statusCode, prepared.body).toBe(200);
    const message = await services()
      .store.db.selectFrom('sms_messages')
      .selectAll()
      .where('to_number', '=', phone)
      .where('challenge_id', 'is not', null)
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    expect(message).toMatchObject({ template: 'verification_code', test_number: 1 });
    const delivery = async () => (await fapi.call('GET', `/v1/client/sign_ups/${id}`)).json().verifications.phone_number.delivery;
    return { fapi, id, message, delivery };
  }

  it('a sign-up with a simulated number: the FAPI follows its code from queued to delivered, and 424242 completes it', async () => {
    const { fapi, id, message, delivery } = await signUpWithCode(simulated(0));
    const waiting = { status: 'queued', reason: null, next_step: 'wait', resend_after: null };
    expect(await delivery()).toMatchObject({ next_step: 'wait' });
    expect((await dispatched(message.id)).status).toBe('sent');
    expect(await delivery()).toEqual({ ...waiting, status: 'sent' });
    await advance(SIMULATED_RECEIPT_MS);
    expect((await read.message(message.id)).status).toBe('delivered');
    expect(await delivery()).toEqual({ status: 'delivered', reason: null, next_step: null, resend_after: null });
    const done = await fapi.call('POST', `/v1/client/sign_ups/${id}/attempt_verification`, { strategy: 'phone_code', code: '424242' });
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json()).toMatchObject({ status: 'complete' });
  });

  it('digit 4 in a sign-up: Twilio refuses the region, Vonage delivers the same code, and the FAPI follows it to delivered', async () => {
    const { message, delivery } = await signUpWithCode(simulated(4));
    const sent = await dispatched(message.id);
    expect(sent).toMatchObject({ status: 'sent', driver: 'vonage', failover_from: 'twilio', failover_attempt: 1, carrier_status: '0' });
    await advance(SIMULATED_RECEIPT_MS);
    expect(await read.message(message.id)).toMatchObject({
      status: 'delivered',
      driver: 'vonage',
      carrier_status: 'delivered',
      payload: null,
    });
    expect(await delivery()).toEqual({ status: 'delivered', reason: null, next_step: null, resend_after: null });
    expect((await read.attempts(message.id)).map((a) => [a.attempt, a.driver, a.outcome, a.error_code])).toEqual([
      [1, 'twilio', 'permanent_error', '21408'],
      [2, 'vonage', 'accepted', null],
    ]);
    expect(await history(message.id)).toEqual([
      ['queued', 'dispatcher', null, '21408', 1],
      ['sent', 'dispatcher', null, null, 1],
      ['delivered', 'vonage', 'delivered', null, 1],
    ]);
    expect(await webhooks(message.id, 4)).toEqual([
      ['sms.queued', 'queued', null, null],
      ['sms.failover', 'queued', 'vonage', '21408'],
      ['sms.sent', 'sent', 'vonage', null],
      ['sms.delivered', 'delivered', 'vonage', null],
    ]);
    const failover = verifiedAbout(message.id).find((e) => e.type === 'sms.failover');
    expect(failover?.data.failover).toEqual({ from: 'twilio', to: 'vonage', reason: 'carrier_refused' });
  });

  it('digit 8 in a sign-up: the filtered receipt moves the code to Vonage, which filters it too', async () => {
    const { message } = await signUpWithCode(simulated(8));
    const sent = await dispatched(message.id);
    expect(sent).toMatchObject({ status: 'sent', driver: 'twilio', receipt_wait_until: sent.sent_at! + RECEIPT_WAIT_MS });
    await advance(SIMULATED_RECEIPT_MS);
    expect(await dispatched(message.id)).toMatchObject({
      status: 'sent',
      driver: 'vonage',
      failover_from: 'twilio',
      receipt_wait_until: null,
    });
    await advance(SIMULATED_RECEIPT_MS);
    expect(await read.message(message.id)).toMatchObject({
      status: 'failed',
      driver: 'vonage',
      carrier_status: 'rejected',
      error_code: '6',
    });
    expect(await history(message.id)).toEqual([
      ['sent', 'dispatcher', null, null, 1],
      ['queued', 'twilio', 'undelivered', '30007', 1],
      ['sent', 'dispatcher', null, null, 1],
      ['failed', 'vonage', 'rejected', '6', 1],
    ]);
    expect(await eventTypes(message.id)).toEqual(['sms.queued', 'sms.sent', 'sms.failover', 'sms.sent', 'sms.failed']);
    // Past the resend cooldown of the number, which the next sign-up with it asks a code for again.
    clock.advance(60_000);
  });

  it.each([
    [1, 'undelivered', 'number_unreachable', 'use_another_number'],
    [8, 'failed', 'carrier_rejected', 'use_another_number'],
    [2, 'failed', 'carrier_rejected', 'use_another_number'],
    [7, 'failed', 'number_unreachable', 'use_another_number'],
    [9, 'failed', 'try_again_later', 'resend'],
  ] as const)('digit %i: the sign-up shows its code %s (%s, %s), nothing of the carrier', async (digit, status, reason, nextStep) => {
    const { message, delivery, fapi, id } = await signUpWithCode(simulated(digit));
    await settled(message.id);
    expect(await delivery()).toEqual({ status, reason, next_step: nextStep, resend_after: expect.any(Number) });
    const body = (await fapi.call('GET', `/v1/client/sign_ups/${id}`)).json();
    const row = await read.message(message.id);
    // Every key and text of the answer; a short code (Vonage's `6`, `29`) may well be part of an id, but never a whole text.
    const texts = textsOf(body);
    for (const carrierValue of [row.carrier_message_id, row.error_code, row.error_message, 'twilio', 'vonage']) {
      if (!carrierValue) continue;
      if (carrierValue.length <= 3) expect(texts).not.toContain(carrierValue);
      else for (const text of texts) expect(text).not.toContain(carrierValue);
    }
  });

  it('the rest of the test range, and the simulated part with test_mode off, send nothing as before', async () => {
    for (const to of ['+15555550189', '+15555550100']) {
      const message = await send(to);
      expect(message).toMatchObject({ status: 'test_noop', testNumber: true });
    }
    await patchSettings(h.server, { test_mode: 'disabled' });
    try {
      const message = await send(simulated(0));
      expect(message).toMatchObject({ status: 'test_noop', testNumber: true });
      expect(await read.message(message.id)).toMatchObject({ status: 'test_noop', next_attempt_at: null, attempts: 0, driver: 'null' });
      expect(await eventTypes(message.id)).toEqual(['sms.queued']);
    } finally {
      await patchSettings(h.server, { test_mode: 'enabled' });
    }
    // A template the operator delivers is not simulated: a test number's no-op, as before.
    const templates = templateEditor(() => h.server);
    await templates.store('password_changed', { body: 'Your {{app_name}} password was changed.', delivered_by_us: false });
    try {
      expect(await send(simulated(0), 'password_changed')).toMatchObject({ status: 'test_noop', testNumber: true });
    } finally {
      await templates.revert('password_changed');
    }
  });
});
