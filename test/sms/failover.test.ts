/**
 * Failover between the two carriers, on both stores, against the fakes: each trigger moves the same message with
 * the same code to the second driver; a number that is invalid or opted out never moves; a missing receipt moves
 * it after the wait and not before; a late receipt from the first carrier does not undo the move; routes by
 * country pick the driver.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STORES, createTestStore, type TestStore } from '../helpers/server.js';
import { TWILIO_FAILURES } from '../fakes/twilio.js';
import { patchSettings } from '../auth/helpers.js';
import { sleep } from '../fakes/common.js';
import { startSmsServer, storeReader, type SmsHarness } from './harness.js';
import { eventually } from '../helpers/eventually.js';

const CODE = '482913';

describe.each(STORES)('failover on %s', (kind) => {
  let store: TestStore;
  let h: SmsHarness;
  let read: ReturnType<typeof storeReader>;
  /** The server's clock runs this far ahead of the wall clock. */
  let skew = 0;
  let next = 0;
  const usNumber = () => `+1415555${String(4000 + next++)}`;
  const send = (to: string) =>
    h.server.running.services.sms.send({ template: 'verification_code', to, variables: { code: CODE, expires_in_minutes: '10' } });
  /** A code of a challenge that expires in `lifeMs` (server time). */
  const sendCode = (to: string, lifeMs = 600_000) =>
    h.server.running.services.sms.send({
      template: 'verification_code',
      to,
      variables: { code: CODE, expires_in_minutes: '10' },
      challenge: { id: `chl_${to.slice(1)}`, expiresAt: Date.now() + skew + lifeMs },
    });
  const vonageText = (to: string) => h.vonage.requests.filter((r) => r.fields.to === to.slice(1)).map((r) => String(r.fields.text));
  const twilioBodies = (to: string) => h.twilio.messagesTo(to).map((m) => m.body);
  /** The message log's account of a message's move (`GET /v1/sms_messages/:id`). */
  /** The message's `failover` as the message log shows it, the same in the list as in the message itself. */
  const loggedFailover = async (id: string) => {
    const res = await h.server.bapi('GET', `/v1/sms_messages/${id}`);
    expect(res.statusCode, res.body).toBe(200);
    const list = await h.server.bapi('GET', `/v1/sms_messages?to=${encodeURIComponent(res.json().to_phone_number)}`);
    expect(list.statusCode, list.body).toBe(200);
    const listed = (list.json().data as { id: string; failover: unknown }[]).find((m) => m.id === id);
    expect(listed?.failover).toEqual(res.json().failover);
    return res.json().failover;
  };
  const failoverMetric = async () =>
    (await h.server.inject({ method: 'GET', url: '/metrics' })).body
      .split('\n')
      .filter((line) => line.startsWith('authn_sms_failovers_total{'));

  beforeAll(async () => {
    store = await createTestStore(kind);
    h = await startSmsServer(store, {
      driver: 'twilio',
      twilio: { callbacks: 'manual' },
      vonage: { receipts: 'manual' },
      clock: { now: () => Date.now() + skew },
    });
    read = storeReader(h.server);
    await patchSettings(h.server, { sms: { failover: { driver: 'vonage', after_transient_failures: 2, receipt_wait_seconds: null } } });
  });
  afterEach(() => {
    expect(h.twilio.violations).toEqual([]);
    expect(h.vonage.violations).toEqual([]);
    h.twilio.failures.clear();
    h.vonage.failures.clear();
  });
  afterAll(async () => {
    await h?.close();
    await store?.cleanup();
  });

  it('moves a message Twilio may not send to the region to Vonage: the same row, the same code, one history entry', async () => {
    const to = usNumber();
    h.twilio.fail(TWILIO_FAILURES.geoBlocked, { to });
    const { id } = await send(to);
    const row = await read.waitForStatus(id, 'sent');
    expect(row).toMatchObject({ driver: 'vonage', failover_from: 'twilio', failover_attempt: 1, payload: null });
    expect(vonageText(to)).toEqual([expect.stringContaining(CODE)]);
    expect(twilioBodies(to)).toEqual([]);
    expect((await read.attempts(id)).map((a) => [a.attempt, a.driver, a.outcome, a.error_code])).toEqual([
      [1, 'twilio', 'permanent_error', '21408'],
      [2, 'vonage', 'accepted', null],
    ]);
    expect((await read.history(id)).map((s) => [s.source, s.status, s.error_code, s.applied])).toEqual([
      ['dispatcher', 'queued', '21408', 1],
      ['dispatcher', 'sent', null, 1],
    ]);
    const events = await read.events(id);
    expect(events.map((e) => e.type)).toEqual(['sms.queued', 'sms.failover', 'sms.sent']);
    expect(events[1]!.data).toMatchObject({
      status: 'queued',
      driver: 'vonage',
      error_code: '21408',
      failover: { from: 'twilio', to: 'vonage', reason: 'carrier_refused' },
    });
    expect(JSON.stringify(events)).not.toContain(CODE);
    expect(await failoverMetric()).toContainEqual('authn_sms_failovers_total{from="twilio",to="vonage",reason="carrier_refused"} 1');
    expect(await loggedFailover(id)).toEqual({ from: 'twilio', to: 'vonage', at: row.failed_over_at, reason: 'carrier_refused' });
  });

  it('never moves a message whose number is invalid or opted out', async () => {
    for (const failure of [TWILIO_FAILURES.invalidNumber, TWILIO_FAILURES.unsubscribed]) {
      const to = usNumber();
      h.twilio.fail(failure, { to });
      const { id } = await send(to);
      const row = await read.waitForStatus(id, 'failed');
      expect(row).toMatchObject({ driver: 'twilio', failover_from: null, error_code: String(failure.code), payload: null });
      expect(vonageText(to)).toEqual([]);
      expect((await read.events(id)).map((e) => e.type)).toEqual(['sms.queued', 'sms.failed']);
      expect(await loggedFailover(id)).toBeNull();
    }
  });

  it('moves a message after after_transient_failures transient failures, and not before', async () => {
    const to = usNumber();
    h.twilio.fail(TWILIO_FAILURES.badGateway, { to, times: 2 });
    const { id } = await send(to);
    const row = await read.waitForStatus(id, 'sent');
    expect(row).toMatchObject({ driver: 'vonage', failover_from: 'twilio', failover_attempt: 2 });
    expect((await read.attempts(id)).map((a) => [a.driver, a.outcome])).toEqual([
      ['twilio', 'transient_error'],
      ['twilio', 'transient_error'],
      ['vonage', 'accepted'],
    ]);
    expect(vonageText(to)).toEqual([expect.stringContaining(CODE)]);
    expect((await read.events(id)).find((e) => e.type === 'sms.failover')!.data.failover).toEqual({
      from: 'twilio',
      to: 'vonage',
      reason: 'transient_failures',
    });
    expect(await loggedFailover(id)).toEqual({ from: 'twilio', to: 'vonage', at: row.failed_over_at, reason: 'transient_failures' });

    // One transient failure only: Twilio's retry delivers it.
    const once = usNumber();
    h.twilio.fail(TWILIO_FAILURES.badGateway, { to: once });
    const sent = await read.waitForStatus((await send(once)).id, 'sent');
    expect(sent).toMatchObject({ driver: 'twilio', failover_from: null });
    expect(twilioBodies(once)).toEqual([expect.stringContaining(CODE)]);
  });

  it('moves a message with no final receipt after the wait and not before; a late Twilio receipt then changes nothing', async () => {
    await patchSettings(h.server, { sms: { failover: { receipt_wait_seconds: 10 } } });
    try {
      const to = usNumber();
      const { id } = await send(to);
      const first = await read.waitForStatus(id, 'sent');
      expect(first.driver).toBe('twilio');
      expect(first.receipt_wait_until).toBe(first.sent_at! + 10_000);
      // The body stays sealed while the message may still move.
      expect(first.payload).not.toBeNull();

      // Several sweeps pass within the wait: the message stays with Twilio.
      await sleep(2_500);
      expect(await read.message(id)).toMatchObject({ status: 'sent', driver: 'twilio', failover_from: null });

      skew += 10_000;
      const moved = await eventually('the move to Vonage', async () => {
        const row = await read.message(id);
        return row.driver === 'vonage' && row.status === 'sent' ? row : undefined;
      });
      expect(moved).toMatchObject({ failover_from: 'twilio', receipt_wait_until: null, payload: null, status_check_at: null });
      expect(vonageText(to)).toEqual([expect.stringContaining(CODE)]);
      expect((await read.events(id)).find((e) => e.type === 'sms.failover')!.data).toMatchObject({
        error_code: 'no_receipt',
        failover: { from: 'twilio', to: 'vonage', reason: 'no_receipt' },
      });
      expect(await loggedFailover(id)).toEqual({ from: 'twilio', to: 'vonage', at: moved.failed_over_at, reason: 'no_receipt' });

      // Twilio delivers after all: recorded, not applied.
      await h.twilio.sendStatus(first.carrier_message_id!, { status: 'delivered' });
      expect(await read.message(id)).toMatchObject({ status: 'sent', driver: 'vonage', carrier_message_id: moved.carrier_message_id });
      const late = (await read.history(id)).find((s) => s.carrier_message_id === first.carrier_message_id);
      expect(late).toMatchObject({ source: 'twilio', applied: 0, carrier_status: 'delivered' });

      // Vonage's receipt is the one that counts.
      await h.vonage.sendReceipt(moved.carrier_message_id!, { status: 'delivered' });
      expect(await read.message(id)).toMatchObject({ status: 'delivered', driver: 'vonage' });
    } finally {
      await patchSettings(h.server, { sms: { failover: { receipt_wait_seconds: null } } });
    }
  });

  it('does not move a message whose final receipt comes within the wait', async () => {
    await patchSettings(h.server, { sms: { failover: { receipt_wait_seconds: 10 } } });
    try {
      const to = usNumber();
      const { id } = await send(to);
      const sent = await read.waitForStatus(id, 'sent');
      await h.twilio.sendStatus(sent.carrier_message_id!, { status: 'delivered' });
      expect(await read.message(id)).toMatchObject({ status: 'delivered', receipt_wait_until: null, payload: null });
      skew += 11_000;
      await sleep(2_500);
      expect(await read.message(id)).toMatchObject({ status: 'delivered', driver: 'twilio', failover_from: null });
      expect(vonageText(to)).toEqual([]);
    } finally {
      await patchSettings(h.server, { sms: { failover: { receipt_wait_seconds: null } } });
    }
  });

  it('moves a message whose first carrier reports later that it filtered it (30007): the same code reaches Vonage', async () => {
    const to = usNumber();
    const { id } = await sendCode(to);
    const sent = await read.waitForStatus(id, 'sent');
    // The body stays sealed while the message may still move: until its final receipt, at most while the code lives.
    expect(sent).toMatchObject({ driver: 'twilio', receipt_wait_until: sent.expires_at });
    expect(sent.payload).not.toBeNull();
    await h.twilio.sendStatus(sent.carrier_message_id!, { status: 'undelivered', errorCode: '30007' });
    const moved = await eventually('the move to Vonage', async () => {
      const row = await read.message(id);
      return row.driver === 'vonage' && row.status === 'sent' ? row : undefined;
    });
    expect(moved).toMatchObject({
      failover_from: 'twilio',
      failover_attempt: 1,
      payload: null,
      receipt_wait_until: null,
      completed_at: null,
    });
    expect(vonageText(to)).toEqual([expect.stringContaining(CODE)]);
    expect(twilioBodies(to)).toEqual([expect.stringContaining(CODE)]);
    expect((await read.history(id)).map((s) => [s.source, s.status, s.carrier_status, s.error_code, s.applied])).toEqual([
      ['dispatcher', 'sent', null, null, 1],
      ['twilio', 'queued', 'undelivered', '30007', 1],
      ['dispatcher', 'sent', null, null, 1],
    ]);
    const events = await read.events(id);
    expect(events.map((e) => e.type)).toEqual(['sms.queued', 'sms.sent', 'sms.failover', 'sms.sent']);
    expect(events[2]!.data).toMatchObject({
      status: 'queued',
      driver: 'vonage',
      error_code: '30007',
      failover: { from: 'twilio', to: 'vonage', reason: 'carrier_refused' },
    });
    expect(JSON.stringify(events)).not.toContain(CODE);
    expect(await failoverMetric()).toContainEqual(
      expect.stringMatching(/^authn_sms_failovers_total\{from="twilio",to="vonage",reason="carrier_refused"\} [2-9]/),
    );
    expect(await loggedFailover(id)).toEqual({ from: 'twilio', to: 'vonage', at: moved.failed_over_at, reason: 'carrier_refused' });
  });

  it('does not move a message whose receipt says the handset is unreachable (30003)', async () => {
    const to = usNumber();
    const { id } = await sendCode(to);
    const sent = await read.waitForStatus(id, 'sent');
    await h.twilio.sendStatus(sent.carrier_message_id!, { status: 'undelivered', errorCode: '30003' });
    expect(await read.message(id)).toMatchObject({
      status: 'undelivered',
      driver: 'twilio',
      failover_from: null,
      error_code: '30003',
      payload: null,
      receipt_wait_until: null,
    });
    await sleep(300);
    expect(vonageText(to)).toEqual([]);
    expect((await read.events(id)).map((e) => e.type)).toEqual(['sms.queued', 'sms.sent', 'sms.failed']);
    expect(await loggedFailover(id)).toBeNull();
  });

  it('does not move a message whose failure is reported after its code expired', async () => {
    const to = usNumber();
    const { id } = await sendCode(to, 60_000);
    const sent = await read.waitForStatus(id, 'sent');
    skew += 61_000;
    await h.twilio.sendStatus(sent.carrier_message_id!, { status: 'undelivered', errorCode: '30007' });
    expect(await read.message(id)).toMatchObject({
      status: 'undelivered',
      driver: 'twilio',
      failover_from: null,
      error_code: '30007',
      payload: null,
      receipt_wait_until: null,
    });
    await sleep(300);
    expect(vonageText(to)).toEqual([]);
    expect((await read.events(id)).map((e) => e.type)).toEqual(['sms.queued', 'sms.sent', 'sms.failed']);
  });

  it('routes by country: GB through Vonage first, the rest through Twilio', async () => {
    await patchSettings(h.server, { sms: { routes: [{ countries: ['GB'], driver: 'vonage', failover_driver: 'twilio' }] } });
    try {
      const gb = `+4474001${String(20_000 + next++).slice(-5)}`;
      const us = usNumber();
      const [toGb, toUs] = await Promise.all([send(gb), send(us)]);
      expect(await read.waitForStatus(toGb.id, 'sent')).toMatchObject({ driver: 'vonage' });
      expect(await read.waitForStatus(toUs.id, 'sent')).toMatchObject({ driver: 'twilio' });
      expect(vonageText(gb)).toEqual([expect.stringContaining(CODE)]);
      expect(twilioBodies(us)).toEqual([expect.stringContaining(CODE)]);
    } finally {
      await patchSettings(h.server, { sms: { routes: [] } });
    }
  });
});
