/**
 * The delivery & cost figures (src/sms/delivery-stats.ts, src/store/sms-stats.ts) and `GET /v1/sms/delivery_stats`,
 * from messages sent through the real send path against the carrier fakes: delivered, undelivered with a code,
 * refused at send, priced by Vonage's answer, by its receipt and by Twilio's message resource; and, with
 * `simulated=true`, the same figures over the simulated outcomes of a test instance.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORES, createTestStore, type TestStore } from '../helpers/server.js';
import { expectError, patchSettings } from '../auth/helpers.js';
import { TWILIO_FAILURES } from '../fakes/twilio.js';
import { FIRST_CHECK_AFTER_MS } from '../../src/sms/status-check-times.js';
import { priceDecimal, priceNanos } from '../../src/sms/drivers/driver.js';
import { eventually } from '../helpers/eventually.js';
import { ManualClock } from '../helpers/clock.js';
import { SIMULATED_RECEIPT_MS } from '../../src/sms/drivers/simulated.js';
import { isTerminal } from '../../src/sms/transitions.js';
import { deliveryStats, sendCode, startSmsServer, storeReader, untilDispatched, type SmsHarness } from './harness.js';

const US = '+14155556001';
const US_2 = '+14155556002';
const US_3 = '+14155556003';
const GB = '+447400123456';
const DE = '+4915112345678';
const FR = '+33612345678';

describe('prices', () => {
  it('reads carrier decimals as exact billionths, whatever the sign', () => {
    expect(priceNanos('0.03330000')).toBe(33_300_000);
    expect(priceNanos('-0.00790')).toBe(7_900_000);
    expect(priceNanos('12')).toBe(12_000_000_000);
    expect(priceNanos('abc')).toBeNull();
    expect(priceDecimal(66_600_000)).toBe('0.0666');
    expect(priceDecimal(12_000_000_000)).toBe('12.00');
  });
});

describe.each(STORES)('delivery stats on %s', (kind) => {
  let store: TestStore;
  let h: SmsHarness;
  let read: ReturnType<typeof storeReader>;
  let skew = 0;
  const clock = { now: () => Date.now() + skew };
  const send = async (to: string) => (await sendCode(h.server, to)).id;
  const stats = (window = 'day') => deliveryStats(h.server, `window=${window}`);
  const ids = {} as { delivered: string; undelivered: string; refused: string; checked: string; vonage: string };

  beforeAll(async () => {
    store = await createTestStore(kind);
    h = await startSmsServer(store, { driver: 'twilio', twilio: { callbacks: 'manual' }, vonage: { receipts: 'manual' }, clock });
    read = storeReader(h.server);

    // Twilio: delivered 3 s after it was sent; undelivered (30003); refused at send (21408); delivered, found by a status check.
    ids.delivered = await send(US);
    const delivered = await read.waitForStatus(ids.delivered, 'sent');
    skew += 3_000;
    await h.twilio.sendStatus(delivered.carrier_message_id!, { status: 'delivered' });
    await read.waitForStatus(ids.delivered, 'delivered');

    ids.undelivered = await send(GB);
    const undelivered = await read.waitForStatus(ids.undelivered, 'sent');
    await h.twilio.sendStatus(undelivered.carrier_message_id!, { status: 'undelivered', errorCode: '30003' });
    await read.waitForStatus(ids.undelivered, 'undelivered');

    h.twilio.fail(TWILIO_FAILURES.geoBlocked, { to: US_2 });
    ids.refused = await send(US_2);
    await read.waitForStatus(ids.refused, 'failed');

    ids.checked = await send(US_3);
    const checked = await read.waitForStatus(ids.checked, 'sent');
    h.twilio.messages.get(checked.carrier_message_id!)!.status = 'delivered';
    skew += FIRST_CHECK_AFTER_MS;
    await h.server.running.services.smsStatusChecks.runOnce();
    await read.waitForStatus(ids.checked, 'delivered');

    // Vonage: priced by its answer, delivered 5 s later; and a receipt's price for an answer without one.
    await patchSettings(h.server, { sms: { driver: 'vonage' } });
    ids.vonage = await send(DE);
    await read.waitForStatus(ids.vonage, 'sent');
    skew += 5_000;
    for (const part of [...h.vonage.parts.values()].filter((p) => p.request.to === DE.slice(1)))
      await h.vonage.sendReceipt(part.messageId, { status: 'delivered', errCode: '0' });
    await read.waitForStatus(ids.vonage, 'delivered');

    // The reserved test range is never counted.
    await send('+15555550100');
  }, 60_000);

  afterAll(async () => {
    await h?.close();
    await store?.cleanup();
  });

  it('keeps each destination country and each attempt price', async () => {
    expect((await read.message(ids.delivered)).country).toBe('US');
    expect((await read.message(ids.undelivered)).country).toBe('GB');
    expect((await read.message(ids.vonage)).country).toBe('DE');
    expect((await read.attempts(ids.vonage)).map((a) => [a.driver, a.price_nanos, a.price_currency])).toEqual([
      ['vonage', 33_300_000, 'EUR'],
    ]);
    // Twilio's price is known only when the server asks for the message.
    expect((await read.attempts(ids.checked)).map((a) => [a.price_nanos, a.price_currency])).toEqual([[7_900_000, 'USD']]);
    expect((await read.attempts(ids.delivered)).map((a) => a.price_nanos)).toEqual([null]);
    expect((await read.attempts(ids.refused)).map((a) => a.price_nanos)).toEqual([null]);
  });

  it('counts outcomes, delivery rate and time to delivery, by driver and by country', async () => {
    const day = await stats('day');
    expect(day).toMatchObject({ object: 'sms_delivery_stats', window: 'day', bucket_ms: 3_600_000 });
    expect(day.to - day.from).toBe(24 * 3_600_000);
    expect(day.totals).toMatchObject({
      messages: 5,
      sent: 4,
      delivered: 3,
      undelivered: 1,
      failed: 1,
      expired: 0,
      failovers: 0,
      delivery_rate: 0.6,
    });
    expect(day.failover_reasons).toEqual([]);
    const twilio = day.by_driver.find((d) => d.driver === 'twilio')!;
    expect(twilio).toMatchObject({ messages: 4, sent: 3, delivered: 2, undelivered: 1, failed: 1, delivery_rate: 0.5 });
    const vonage = day.by_driver.find((d) => d.driver === 'vonage')!;
    expect(vonage).toMatchObject({
      messages: 1,
      delivered: 1,
      delivery_rate: 1,
      time_to_delivery: { median_ms: expect.any(Number), p90_ms: expect.any(Number) },
    });
    expect(vonage.time_to_delivery!.median_ms).toBeGreaterThanOrEqual(5_000);
    // Twilio: 3 s, and the message found delivered ten minutes on; nearest rank: the median is the first, p90 the second.
    expect(twilio.time_to_delivery!.median_ms).toBeGreaterThanOrEqual(3_000);
    expect(twilio.time_to_delivery!.median_ms).toBeLessThan(FIRST_CHECK_AFTER_MS);
    expect(twilio.time_to_delivery!.p90_ms).toBeGreaterThanOrEqual(FIRST_CHECK_AFTER_MS);
    expect(day.by_country.map((c) => [c.country, c.messages, c.delivered])).toEqual([
      ['US', 3, 2],
      ['DE', 1, 1],
      ['GB', 1, 0],
    ]);
  });

  it('gives a series of equal buckets per driver for charts', async () => {
    for (const [window, buckets] of [
      ['hour', 12],
      ['day', 24],
      ['week', 28],
    ] as const) {
      const figures = await stats(window);
      for (const series of figures.series) {
        expect(series.buckets).toHaveLength(buckets);
        expect(series.buckets[1]!.start - series.buckets[0]!.start).toBe(figures.bucket_ms);
      }
      const twilio = figures.series.find((s) => s.driver === 'twilio')!;
      expect(twilio.buckets.reduce((sum, b) => sum + b.messages, 0)).toBe(4);
      expect(twilio.buckets.reduce((sum, b) => sum + b.delivered, 0)).toBe(2);
    }
  });

  it('names the top carrier error codes with their meaning', async () => {
    const { error_codes } = await stats();
    expect(error_codes).toEqual(
      expect.arrayContaining([
        {
          driver: 'twilio',
          phase: 'send',
          code: '21408',
          meaning: 'Region not permitted by geo permissions',
          failure_class: 'route_not_permitted',
          count: 1,
        },
        {
          driver: 'twilio',
          phase: 'receipt',
          code: '30003',
          meaning: 'Unreachable destination handset',
          failure_class: 'unreachable',
          count: 1,
        },
      ]),
    );
    expect(error_codes).toHaveLength(2);
  });

  it('sums the cost by driver, country and currency', async () => {
    const { costs, cost_totals } = await stats();
    expect(costs).toEqual([
      { driver: 'twilio', country: 'US', currency: 'USD', amount: '0.0079', attempts: 1 },
      { driver: 'vonage', country: 'DE', currency: 'EUR', amount: '0.0333', attempts: 1 },
    ]);
    expect(cost_totals).toEqual([
      { currency: 'EUR', amount: '0.0333' },
      { currency: 'USD', amount: '0.0079' },
    ]);
  });

  it('leaves out messages older than the window', async () => {
    skew += 2 * 3_600_000;
    try {
      expect((await stats('hour')).totals).toMatchObject({ messages: 0, delivery_rate: null, time_to_delivery: null });
      expect((await stats('day')).totals.messages).toBe(5);
    } finally {
      skew -= 2 * 3_600_000;
    }
  });

  it('refuses an unknown window, and a call without a secret key', async () => {
    const res = await h.server.bapi('GET', '/v1/sms/delivery_stats?window=month');
    expectError(res, 422, 'form_param_value_invalid');
    expect(res.json().errors[0].meta.param_name).toBe('window');
    const anonymous = await h.server.inject({ method: 'GET', url: '/v1/sms/delivery_stats' });
    expect(anonymous.statusCode).toBe(401);
    expect((await stats()).window).toBe('day');
  });

  it('exposes delivery outcomes by driver and country, time to delivery and cost as metrics', async () => {
    const text = (await h.server.inject({ method: 'GET', url: '/metrics' })).body;
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('authn_sms_delivered_total{driver="twilio",country="US"}')).toBe(2);
    expect(value('authn_sms_delivered_total{driver="vonage",country="DE"}')).toBe(1);
    expect(value('authn_sms_undelivered_total{driver="twilio",country="GB"}')).toBe(1);
    expect(value('authn_sms_failed_total{driver="twilio",country="US"}')).toBe(1);
    expect(value('authn_sms_time_to_delivery_seconds_count{driver="twilio"}')).toBe(2);
    expect(value('authn_sms_time_to_delivery_seconds_bucket{le="1",driver="twilio"}')).toBe(0);
    expect(value('authn_sms_cost_total{driver="vonage",currency="EUR"}')).toBeCloseTo(0.0333, 9);
    expect(value('authn_sms_cost_total{driver="twilio",currency="USD"}')).toBeCloseTo(0.0079, 9);
  });

  it('reads the price of a Vonage receipt when the answer to the send had none', async () => {
    h.vonage.priced = false;
    const id = await send(FR);
    await read.waitForStatus(id, 'sent');
    h.vonage.priced = true;
    expect((await read.attempts(id)).map((a) => a.price_nanos)).toEqual([null]);
    for (const part of [...h.vonage.parts.values()].filter((p) => p.request.to === FR.slice(1)))
      await h.vonage.sendReceipt(part.messageId, { status: 'delivered', errCode: '0' });
    await read.waitForStatus(id, 'delivered');
    await eventually('the receipt price', async () => (await read.attempts(id))[0]!.price_nanos === 33_300_000);
    expect((await read.attempts(id))[0]!.price_currency).toBe('EUR');
  });
});

/**
 * `simulated=true`: the same figures over the simulated messages of a test instance (docs/sms.md, "Simulated
 * outcomes"), with the null driver (Twilio played first, Vonage as failover). Time is a ManualClock: each receipt
 * comes when the clock reaches it and a round of status checks runs.
 */
describe.each(STORES)('simulated delivery stats on %s', (kind) => {
  let store: TestStore;
  let h: SmsHarness;
  let read: ReturnType<typeof storeReader>;
  const clock = new ManualClock(Date.now());
  const simulated = (digit: number) => `+1555555019${digit}`;
  const send = async (to: string) => (await sendCode(h.server, to)).id;
  const stats = (query: string) => deliveryStats(h.server, query);
  const ids: Record<number, string> = {};
  const dispatched = (id: string) => untilDispatched(read, clock, id);

  beforeAll(async () => {
    store = await createTestStore(kind);
    h = await startSmsServer(store, { driver: null, clock });
    read = storeReader(h.server);
    await patchSettings(h.server, { test_mode: 'enabled' });
    for (const digit of [0, 1, 2, 4, 7, 8]) {
      ids[digit] = await send(simulated(digit));
      await dispatched(ids[digit]!);
    }
    clock.advance(SIMULATED_RECEIPT_MS);
    await h.server.running.services.smsStatusChecks.runOnce();
    // A filtered receipt moves its message to Vonage, whose receipt comes a round later.
    for (let row = await dispatched(ids[8]!); row.status === 'sent'; row = await dispatched(ids[8]!)) {
      clock.advance(SIMULATED_RECEIPT_MS);
      await h.server.running.services.smsStatusChecks.runOnce();
    }
    for (const digit of [0, 1, 2, 4, 7, 8])
      await eventually(`a final status for digit ${digit}`, async () => isTerminal((await read.message(ids[digit]!)).status), 20_000);
    // A no-op of the test range is not simulated, and counts in neither figures.
    await send('+15555550142');
  }, 60_000);

  afterAll(async () => {
    await h?.close();
    await store?.cleanup();
  });

  it('counts the simulated outcomes by the carrier played, with their failovers and error codes', async () => {
    const figures = await stats('simulated=true&window=hour');
    expect(figures).toMatchObject({ object: 'sms_delivery_stats', window: 'hour', simulated: true, costs: [], cost_totals: [] });
    // 0 delivered by Twilio, 4 by Vonage after Twilio refused it; 1 undelivered (30003); 2 refused by both; 7 refused
    // (invalid, never moved); 8 filtered (30007), by Twilio or, once a filtered receipt fails over, by Vonage too.
    expect(figures.totals).toMatchObject({ messages: 6, delivered: 2, expired: 0 });
    expect(figures.totals.undelivered + figures.totals.failed).toBe(4);
    expect(figures.totals.failovers).toBeGreaterThanOrEqual(2);
    // 2 and 4 refused at send, 8 by its filtered receipt: each moved once, from Twilio to Vonage.
    expect(figures.failover_reasons).toEqual([{ from: 'twilio', to: 'vonage', reason: 'carrier_refused', count: 3 }]);
    expect(figures.totals.time_to_delivery!.median_ms).toBeGreaterThanOrEqual(SIMULATED_RECEIPT_MS);
    expect(figures.by_driver.find((d) => d.driver === 'twilio')).toMatchObject({ delivered: 1 });
    expect(figures.by_driver.find((d) => d.driver === 'vonage')).toMatchObject({ delivered: 1 });
    expect(figures.by_driver.reduce((sum, d) => sum + d.messages, 0)).toBe(6);
    expect(figures.by_country.map((c) => [c.country, c.messages])).toEqual([['US', 6]]);
    expect(figures.error_codes).toEqual(
      expect.arrayContaining([
        {
          driver: 'twilio',
          phase: 'send',
          code: '21408',
          meaning: 'Region not permitted by geo permissions',
          failure_class: 'route_not_permitted',
          count: 2,
        },
        { driver: 'twilio', phase: 'send', code: '21211', meaning: "Invalid 'To' number", failure_class: 'invalid_number', count: 1 },
        {
          driver: 'twilio',
          phase: 'receipt',
          code: '30003',
          meaning: 'Unreachable destination handset',
          failure_class: 'unreachable',
          count: 1,
        },
        {
          driver: 'twilio',
          phase: 'receipt',
          code: '30007',
          meaning: 'Message filtered by the carrier',
          failure_class: 'carrier_filtered',
          count: 1,
        },
        {
          driver: 'vonage',
          phase: 'send',
          code: '29',
          meaning: 'Non-whitelisted destination',
          failure_class: 'route_not_permitted',
          count: 1,
        },
      ]),
    );
    for (const series of figures.series) expect(series.buckets).toHaveLength(12);
    expect(figures.series.reduce((sum, s) => sum + s.buckets.reduce((n, b) => n + b.messages, 0), 0)).toBe(6);
  });

  it('leaves the simulated messages out of the default figures', async () => {
    for (const query of ['', 'simulated=false']) {
      const figures = await stats(query);
      expect(figures).toMatchObject({ simulated: false, by_driver: [], error_codes: [] });
      expect(figures.totals.messages).toBe(0);
    }
  });

  it('refuses a simulated that is not a boolean', async () => {
    const res = await h.server.bapi('GET', '/v1/sms/delivery_stats?simulated=maybe');
    expectError(res, 422, 'form_param_type_invalid');
    expect(res.json().errors[0].meta.param_name).toBe('simulated');
    expect((await stats('simulated=true')).totals.messages).toBe(6);
  });
});
