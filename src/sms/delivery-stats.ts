/**
 * The delivery & cost figures of the dashboard page and of `GET /v1/sms/delivery_stats`: for the last hour, day
 * or week, how many messages the carriers delivered, how fast, which error codes they answered and what they
 * charged, by driver and by country, with a series of equal buckets for charts; of real messages, or of the
 * simulated ones a test instance sends (docs/sms.md, "Simulated outcomes"). The SQL is in src/store/sms-stats.ts;
 * this names the figures and the codes.
 */
import type { Clock } from '../clock.js';
import type { Db } from '../store/database.js';
import {
  costSums,
  deliveryTimes,
  errorCodeCounts,
  failoverCounts,
  type FailoverCount,
  outcomeCounts,
  type DeliveryTimes,
  type OutcomeCounts,
  type StatsKey,
  type StatsRange,
} from '../store/sms-stats.js';
import { priceDecimal } from './drivers/driver.js';
import { twilioErrorMessage } from './drivers/twilio.js';
import { vonageDlrErrorMessage, vonageStatusMessage } from './drivers/vonage.js';
import { failureClass, type FailureClass, type FailurePhase } from './failures.js';

export const DELIVERY_WINDOWS = ['hour', 'day', 'week'] as const;
export type DeliveryWindow = (typeof DELIVERY_WINDOWS)[number];

const HOUR = 3_600_000;
/** Each window's length and the buckets its series is cut into: 5 minutes, 1 hour, 6 hours. */
const WINDOWS: Record<DeliveryWindow, { ms: number; buckets: number }> = {
  hour: { ms: HOUR, buckets: 12 },
  day: { ms: 24 * HOUR, buckets: 24 },
  week: { ms: 7 * 24 * HOUR, buckets: 28 },
};

/** Most error codes listed. */
const TOP_ERROR_CODES = 10;

export interface DeliveryFigures {
  /** Messages queued for a carrier in the window (the reserved test range and operator-delivered messages aside). */
  messages: number;
  /** Accepted by a carrier. */
  sent: number;
  delivered: number;
  undelivered: number;
  failed: number;
  /** Verification codes that stopped being useful before they could be sent. */
  expired: number;
  /** Messages that went through more than one driver. */
  failovers: number;
  /** Delivered, out of the messages that reached a final outcome (delivered, undelivered, failed, expired); null: none did. */
  delivery_rate: number | null;
  /** From the carrier's acceptance to its delivery report, in ms (nearest-rank percentiles); null: nothing delivered. */
  time_to_delivery: { median_ms: number; p90_ms: number } | null;
}

export interface ErrorCodeFigure {
  driver: string;
  /** `send`: in the carrier's answer to the send request; `receipt`: in a later delivery report. */
  phase: FailurePhase;
  code: string;
  meaning: string;
  failure_class: FailureClass;
  count: number;
}

export interface CostFigure {
  driver: string;
  country: string | null;
  /** ISO 4217 (Vonage prices are in the account's currency, the euro unless Vonage changed it). */
  currency: string;
  /** A decimal number, exact. */
  amount: string;
  /** Attempts the carrier reported a price for. */
  attempts: number;
}

export interface DeliveryStats {
  object: 'sms_delivery_stats';
  window: DeliveryWindow;
  /** The figures of simulated messages only (otherwise real ones only). */
  simulated: boolean;
  /** ms since the epoch; `to` is exclusive. */
  from: number;
  to: number;
  bucket_ms: number;
  totals: DeliveryFigures;
  by_driver: (DeliveryFigures & { driver: string })[];
  by_country: (DeliveryFigures & { country: string | null })[];
  /** Per driver, every bucket of the window in order (`start`: ms since the epoch). */
  series: { driver: string; buckets: (DeliveryFigures & { start: number })[] }[];
  error_codes: ErrorCodeFigure[];
  /** The moves to a failover driver, by the driver moved from, the one moved to and why (docs/sms.md, "Failover"). */
  failover_reasons: FailoverCount[];
  costs: CostFigure[];
  /** The costs summed per currency. */
  cost_totals: { currency: string; amount: string }[];
}

const NO_OUTCOMES = { messages: 0, sent: 0, delivered: 0, undelivered: 0, failed: 0, expired: 0, failovers: 0 };

function figures(counts: Omit<OutcomeCounts, keyof StatsKey> | undefined, times: DeliveryTimes | undefined): DeliveryFigures {
  const c = counts ?? NO_OUTCOMES;
  const finished = c.delivered + c.undelivered + c.failed + c.expired;
  return {
    messages: c.messages,
    sent: c.sent,
    delivered: c.delivered,
    undelivered: c.undelivered,
    failed: c.failed,
    expired: c.expired,
    failovers: c.failovers,
    delivery_rate: finished === 0 ? null : c.delivered / finished,
    time_to_delivery: times ? { median_ms: times.medianMs, p90_ms: times.p90Ms } : null,
  };
}

const keyOf = (key: StatsKey) => `${key.driver}|${key.country}|${key.bucket}`;

/** Figures per key: the counts and times of one grouping joined on their key. */
function joined(counts: readonly OutcomeCounts[], times: readonly DeliveryTimes[]): { key: StatsKey; figures: DeliveryFigures }[] {
  const timesByKey = new Map(times.map((t) => [keyOf(t), t]));
  return counts.map((c) => ({ key: c, figures: figures(c, timesByKey.get(keyOf(c))) }));
}

/** What an error code means, as the carrier (or we) word it. */
export function errorCodeMeaning(driver: string, phase: FailurePhase, code: string): string {
  const own = OWN_CODES[code] ?? (/^http_\d{3}$/.test(code) ? `The carrier answered HTTP ${code.slice(5)}` : undefined);
  if (own) return own;
  if (driver === 'twilio') return twilioErrorMessage(code);
  if (driver === 'vonage') return phase === 'send' ? vonageStatusMessage(code) : vonageDlrErrorMessage(code);
  return `Error ${code}`;
}

/** Our own codes (src/sms/drivers/driver.ts `CarrierError`). */
const OWN_CODES: Record<string, string> = {
  timeout: 'The carrier did not answer in time',
  network_error: 'The carrier could not be reached',
  aborted: 'The send was interrupted by a shutdown',
  sender_missing: 'No sender configured',
  expired: 'The code expired before it could be sent',
};

export class DeliveryStatsService {
  constructor(private readonly deps: { db: Db; clock: Clock }) {}

  async stats(window: DeliveryWindow, which: { simulated: boolean }): Promise<DeliveryStats> {
    const { db, clock } = this.deps;
    const { ms, buckets } = WINDOWS[window];
    const to = clock.now() + 1;
    const range: StatsRange = { from: to - ms, to, bucketMs: ms / buckets, simulated: which.simulated };
    const [
      totalCounts,
      totalTimes,
      driverCounts,
      driverTimes,
      countryCounts,
      countryTimes,
      bucketCounts,
      bucketTimes,
      codes,
      failovers,
      costs,
    ] = await Promise.all([
      outcomeCounts(db, range, 'total'),
      deliveryTimes(db, range, 'total'),
      outcomeCounts(db, range, 'driver'),
      deliveryTimes(db, range, 'driver'),
      outcomeCounts(db, range, 'country'),
      deliveryTimes(db, range, 'country'),
      outcomeCounts(db, range, 'bucket'),
      deliveryTimes(db, range, 'bucket'),
      errorCodeCounts(db, range, TOP_ERROR_CODES),
      failoverCounts(db, range),
      costSums(db, range),
    ]);

    const byDriver = joined(driverCounts, driverTimes).map(({ key, figures }) => ({ driver: key.driver!, ...figures }));
    const bucketFigures = new Map(joined(bucketCounts, bucketTimes).map(({ key, figures }) => [keyOf(key), figures]));
    const series = byDriver.map(({ driver }) => ({
      driver,
      buckets: Array.from({ length: buckets }, (_, bucket) => ({
        start: range.from + bucket * range.bucketMs,
        ...(bucketFigures.get(keyOf({ driver, country: null, bucket })) ?? figures(undefined, undefined)),
      })),
    }));

    const totalsByCurrency = new Map<string, number>();
    for (const cost of costs) totalsByCurrency.set(cost.currency, (totalsByCurrency.get(cost.currency) ?? 0) + cost.nanos);

    return {
      object: 'sms_delivery_stats',
      window,
      simulated: range.simulated,
      from: range.from,
      to: range.to,
      bucket_ms: range.bucketMs,
      totals: figures(totalCounts[0], totalTimes[0]),
      by_driver: byDriver,
      by_country: joined(countryCounts, countryTimes)
        .map(({ key, figures }) => ({ country: key.country, ...figures }))
        .sort((a, b) => b.messages - a.messages || String(a.country).localeCompare(String(b.country))),
      series,
      error_codes: codes.map((c) => ({
        driver: c.driver,
        phase: c.phase,
        code: c.code,
        meaning: errorCodeMeaning(c.driver, c.phase, c.code),
        failure_class: failureClass(c.driver, c.phase, c.code),
        count: c.count,
      })),
      failover_reasons: failovers,
      costs: costs.map((c) => ({
        driver: c.driver,
        country: c.country,
        currency: c.currency,
        amount: priceDecimal(c.nanos),
        attempts: c.attempts,
      })),
      cost_totals: [...totalsByCurrency]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([currency, nanos]) => ({ currency, amount: priceDecimal(nanos) })),
    };
  }
}
