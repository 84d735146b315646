/**
 * Status checks (src/sms/status-checks.ts): Twilio does not retry a status callback, so the server asks Twilio
 * (FetchMessage) about a message whose final report is overdue and applies the answer as a callback would.
 * Callbacks are off in the fake here: every report is one the server never received.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORES, createTestStore, startTestServer, type TestStore } from '../helpers/server.js';
import { fromJson } from '../../src/store/database.js';
import { TWILIO_FAILURES } from '../fakes/twilio.js';
import { StatusChecks } from '../../src/sms/status-checks.js';
import { FIRST_CHECK_AFTER_MS } from '../../src/sms/status-check-times.js';
import { CarrierHttp } from '../../src/sms/drivers/carrier-http.js';
import { TWILIO, startSmsServer, storeReader, type SmsHarness } from './harness.js';
import { eventually } from '../helpers/eventually.js';

const HOUR = 3_600_000;

describe.each(STORES)('status checks on %s', (kind) => {
  let store: TestStore;
  let h: SmsHarness;
  let read: ReturnType<typeof storeReader>;
  let skew = 0;
  const clock = { now: () => Date.now() + skew };
  let next = 0;
  const recipient = () => `+1415555${String(6000 + next++)}`;
  const checks = () => h.server.running.services.smsStatusChecks;
  /** `authn_sms_status_checks_total` for one result, as /metrics shows it. */
  const counted = async (result: string) => {
    const text = (await h.server.inject({ method: 'GET', url: '/metrics' })).body;
    return Number(new RegExp(`^authn_sms_status_checks_total\\{carrier="twilio",result="${result}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  };
  const fetchesOf = (sid: string) =>
    h.twilio.requests.filter((r) => r.method === 'GET' && r.path === `/2010-04-01/Accounts/${TWILIO.accountSid}/Messages/${sid}.json`)
      .length;

  /** A message Twilio accepted and whose callbacks never arrive. */
  async function sentMessage() {
    const { id } = await h.server.running.services.sms.send({
      template: 'verification_code',
      to: recipient(),
      variables: { code: '482913', expires_in_minutes: '10' },
    });
    const row = await read.waitForStatus(id, 'sent');
    return { id, sid: row.carrier_message_id!, row };
  }

  beforeAll(async () => {
    store = await createTestStore(kind);
    h = await startSmsServer(store, { driver: 'twilio', twilio: { callbacks: 'manual' }, clock });
    read = storeReader(h.server);
  });
  afterAll(async () => {
    await h?.close();
    await store?.cleanup();
  });

  it('fetches the status of a message whose report is overdue and applies it as the callback would have', async () => {
    const { id, sid, row } = await sentMessage();
    expect(row.status_check_at).toBeGreaterThanOrEqual(row.sent_at! + FIRST_CHECK_AFTER_MS);
    const shown = async () => (await h.server.bapi('GET', `/v1/sms_messages/${id}`)).json().next_status_check_at;
    expect(await shown()).toBe(row.status_check_at);
    h.twilio.messages.get(sid)!.status = 'delivered';

    // Not due yet: nobody is asked.
    await checks().runOnce();
    expect(fetchesOf(sid)).toBe(0);
    expect((await read.message(id)).status).toBe('sent');

    const applied = await counted('applied');
    skew += FIRST_CHECK_AFTER_MS;
    await checks().runOnce();
    expect(fetchesOf(sid)).toBe(1);
    expect(await counted('applied')).toBe(applied + 1);
    const delivered = await read.message(id);
    expect(delivered).toMatchObject({ status: 'delivered', carrier_status: 'delivered', status_check_at: null });
    expect(delivered.completed_at).not.toBeNull();
    expect(await shown()).toBeNull();
    expect((await read.history(id)).map((s) => [s.status, s.source, s.carrier_status, s.applied])).toEqual([
      ['sent', 'dispatcher', null, 1],
      ['delivered', 'twilio', 'delivered', 1],
    ]);
    const audit = (await read.audit(id)).find((entry) => entry.action === 'sms.delivered')!;
    expect(fromJson(audit.data)).toMatchObject({ carrier_status: 'delivered', carrier_message_id: sid, via: 'status_check' });
    expect((await read.events(id)).map((e) => e.type)).toContain('sms.delivered');

    // The callback turning up after all changes nothing, and the message is not asked about again.
    const history = await read.history(id);
    await h.twilio.sendStatus(sid, { status: 'delivered' });
    expect(await read.history(id)).toEqual(history);
    skew += 24 * HOUR;
    await checks().runOnce();
    expect(fetchesOf(sid)).toBe(1);
  });

  it('a failure the carrier reports carries its error code', async () => {
    const { id, sid } = await sentMessage();
    Object.assign(h.twilio.messages.get(sid)!, { status: 'undelivered', errorCode: 30003 });
    skew += FIRST_CHECK_AFTER_MS;
    await checks().runOnce();
    expect(await read.message(id)).toMatchObject({
      status: 'undelivered',
      error_code: '30003',
      error_message: 'Unreachable destination handset',
      status_check_at: null,
    });
  });

  it('asks again, less and less often, while the carrier still says sent, and stops three days after the send', async () => {
    const { id, sid, row } = await sentMessage();
    skew += FIRST_CHECK_AFTER_MS;
    await checks().runOnce();
    expect(fetchesOf(sid)).toBe(1);
    const first = await read.message(id);
    expect(first.status).toBe('sent');
    // Checked again after about its age: ten minutes, then twenty, … at most six hours apart.
    const now = Date.now() + skew;
    expect(first.status_check_at! - now).toBeGreaterThanOrEqual(FIRST_CHECK_AFTER_MS - 1_000);
    expect(first.status_check_at! - now).toBeLessThanOrEqual(FIRST_CHECK_AFTER_MS + 60_000);

    skew = first.status_check_at! - Date.now();
    await checks().runOnce();
    expect(fetchesOf(sid)).toBe(2);
    const second = await read.message(id);
    expect(second.status_check_at! - (Date.now() + skew)).toBeGreaterThan(FIRST_CHECK_AFTER_MS + 60_000);

    skew = row.sent_at! + 72 * HOUR - Date.now();
    await checks().runOnce();
    expect(fetchesOf(sid)).toBe(3);
    expect(await read.message(id)).toMatchObject({ status: 'sent', status_check_at: null });
  });

  it('a carrier failure leaves the message as it is and asks again at the next check', async () => {
    const { id, sid } = await sentMessage();
    h.twilio.messages.get(sid)!.status = 'delivered';
    h.twilio.fetchFailures.add(TWILIO_FAILURES.serverError);
    const errors = await counted('error');
    skew += FIRST_CHECK_AFTER_MS;
    await checks().runOnce();
    expect(fetchesOf(sid)).toBe(1);
    expect(await counted('error')).toBe(errors + 1);
    const after = await read.message(id);
    expect(after.status).toBe('sent');
    expect(after.status_check_at).toBeGreaterThan(Date.now() + skew);
    expect(h.server.logs.join('')).toContain('asking the carrier for a message status failed');

    skew = after.status_check_at! - Date.now();
    await checks().runOnce();
    expect(fetchesOf(sid)).toBe(2);
    expect((await read.message(id)).status).toBe('delivered');
  });

  it('stopping ends a round at once, even with the carrier not answering; the claim brings the message back later', async () => {
    const { id, sid } = await sentMessage();
    h.twilio.fetchFailures.add({ kind: 'hang' });
    const { services } = h.server.running;
    // Its own checker, with a carrier timeout longer than the test's: only the abort can end the round in time.
    const http = new CarrierHttp(120_000);
    const checker = new StatusChecks({
      ...services,
      drivers: { http, twilioApiUrl: h.twilio.url, vonageApiUrl: h.vonage.url },
      callbacks: services.smsCallbacks,
      metrics: services.smsMetrics,
    });
    skew += FIRST_CHECK_AFTER_MS;
    const logged = h.server.logs.length;
    const round = checker.runOnce();
    await eventually('the fetch to reach the carrier', () => fetchesOf(sid) === 1);
    await checker.stop();
    expect(await round).toBe(1);
    await http.close();
    const claimed = await read.message(id);
    expect(claimed.status).toBe('sent');
    expect(claimed.status_check_at).toBeGreaterThan(Date.now() + skew);
    expect(h.server.logs.slice(logged).join('')).not.toContain('asking the carrier for a message status failed');
    // Its final report, so later tests do not meet it again when its claim runs out.
    await h.twilio.sendStatus(sid, { status: 'delivered' });
    await read.waitForStatus(id, 'delivered');
  });

  it('a final callback ends the checks', async () => {
    const { id, sid } = await sentMessage();
    await h.twilio.sendStatus(sid, { status: 'delivered' });
    expect(await read.waitForStatus(id, 'delivered')).toMatchObject({ status_check_at: null });
    skew += FIRST_CHECK_AFTER_MS;
    await checks().runOnce();
    expect(fetchesOf(sid)).toBe(0);
  });

  it('a message the carrier no longer knows keeps its status and is not asked about again', async () => {
    const { id, sid } = await sentMessage();
    h.twilio.messages.delete(sid);
    const notFound = await counted('not_found');
    skew += FIRST_CHECK_AFTER_MS;
    await checks().runOnce();
    expect(fetchesOf(sid)).toBe(1);
    expect(await counted('not_found')).toBe(notFound + 1);
    expect(await read.message(id)).toMatchObject({ status: 'sent', status_check_at: null });
    expect(h.server.logs.join('')).toContain('the carrier does not know this message any more');
  });

  // Two servers in this one test process would share its event loop, which SQLite's lock wait blocks: separate
  // processes on SQLite take turns through BEGIN IMMEDIATE, as the dispatcher's claims do.
  if (kind === 'postgres') {
    it('two server processes checking at once ask about each message once', async () => {
      const other = await startTestServer(store, {
        clock,
        env: { AUTHN_TWILIO_API_URL: h.twilio.url, AUTHN_PUBLIC_URL: h.publicUrl, AUTHN_SMS_DISPATCHER: 'off' },
      });
      try {
        const sent = [];
        for (let i = 0; i < 6; i++) sent.push(await sentMessage());
        for (const { sid } of sent) h.twilio.messages.get(sid)!.status = 'delivered';
        skew += FIRST_CHECK_AFTER_MS;
        const asked = await Promise.all([checks().runOnce(), other.running.services.smsStatusChecks.runOnce()]);
        expect(asked[0] + asked[1]).toBe(sent.length);
        for (const { id, sid } of sent) {
          expect(fetchesOf(sid)).toBe(1);
          expect((await read.message(id)).status).toBe('delivered');
        }
      } finally {
        await other.close();
      }
    });
  }

  it('after a switch away from Twilio, its messages are no longer checked', async () => {
    const { id, sid } = await sentMessage();
    expect((await h.server.bapi('PATCH', '/v1/instance', { sms: { driver: null } })).statusCode).toBe(200);
    skew += FIRST_CHECK_AFTER_MS + 2_000; // past the settings' one-second cache
    await checks().runOnce();
    expect(fetchesOf(sid)).toBe(0);
    expect(await read.message(id)).toMatchObject({ status: 'sent', status_check_at: null });
    expect((await h.server.bapi('PATCH', '/v1/instance', { sms: { driver: 'twilio' } })).statusCode).toBe(200);
  });
});
