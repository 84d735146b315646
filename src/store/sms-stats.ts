/**
 * The SQL of the delivery & cost figures (src/sms/delivery-stats.ts words them): messages created in a time
 * window, grouped by driver, by country or by time bucket and driver. Only messages a carrier was asked to
 * deliver count: not the reserved test range, not those the operator delivers, not the null driver's. Asked for
 * the simulated ones instead, the figures are those of the test range's messages that took the path of a real one
 * (docs/sms.md, "Simulated outcomes"): a test number's, delivered by us, not a no-op.
 *
 * The window is read through the primary key: ids sort by creation time and an id's time is never earlier
 * than its `created_at` (src/ids.ts), so `id >= firstIdAt(from)` bounds the scan without an index of its own.
 * Every statement is the same on SQLite and PostgreSQL; PostgreSQL's `sum` of a bigint is a numeric, which its
 * driver hands over as text, hence the `Number()` on sums.
 */
import { sql, type RawBuilder } from 'kysely';
import { firstIdAt } from '../ids.js';
import type { Db } from './database.js';
import type { SmsMessagesTable } from './schema.js';

export interface StatsRange {
  from: number;
  /** Exclusive. */
  to: number;
  /** The width of one bucket of the series (ms). */
  bucketMs: number;
  /** Simulated messages only, instead of real ones only. */
  simulated: boolean;
}

/** What the figures are grouped by: the whole window, the driver, the country, or a time bucket and driver. */
export type StatsGrouping = 'total' | 'driver' | 'country' | 'bucket';

export interface StatsKey {
  driver: string | null;
  country: string | null;
  /** The bucket's index from the window's start (0 …), for `bucket`. */
  bucket: number | null;
}

export interface OutcomeCounts extends StatsKey {
  messages: number;
  /** Accepted by a carrier. */
  sent: number;
  delivered: number;
  undelivered: number;
  failed: number;
  /** A code that stopped being useful before it could be sent. */
  expired: number;
  /** Messages whose attempts went through more than one driver. */
  failovers: number;
}

export interface DeliveryTimes extends StatsKey {
  /** Nearest-rank percentiles of the time from the carrier's acceptance to the delivery report (ms). */
  medianMs: number;
  p90Ms: number;
  delivered: number;
}

export interface ErrorCodeCount {
  driver: string;
  /** `send`: the carrier's answer to the send request; `receipt`: a later delivery report. */
  phase: 'send' | 'receipt';
  code: string;
  count: number;
}

export interface CostSum {
  driver: string;
  country: string | null;
  currency: string;
  /** Billionths of `currency` (see migration 012). */
  nanos: number;
  /** Priced attempts summed. */
  attempts: number;
}

/** The columns a grouping's keys are read from (alias `m`: the message), by the name they are selected as. */
const KEYS: Record<StatsGrouping, (range: StatsRange) => Record<string, RawBuilder<unknown>>> = {
  total: () => ({}),
  driver: () => ({ driver: sql`m.driver` }),
  country: () => ({ country: sql`m.country` }),
  bucket: (range) => ({
    bucket: sql`cast((m.created_at - cast(${range.from} as bigint)) / cast(${range.bucketMs} as bigint) as integer)`,
    driver: sql`m.driver`,
  }),
};

/** The names of a grouping's keys (as `KEYS` selects them), for `group by` and `partition by` over `grouped`. */
const KEY_NAMES: Record<StatsGrouping, readonly string[]> = {
  total: [],
  driver: ['driver'],
  country: ['country'],
  bucket: ['bucket', 'driver'],
};
const keyNames = (grouping: StatsGrouping): RawBuilder<unknown>[] => KEY_NAMES[grouping].map((name) => sql.ref(name));

/**
 * The window's messages (alias `w`) with their grouping keys as named columns beside `columns`: grouping and
 * ranking by name keeps PostgreSQL from seeing two copies of a parameterised expression as different.
 */
function grouped(
  range: StatsRange,
  grouping: StatsGrouping,
  columns: Record<string, RawBuilder<unknown>>,
  where: RawBuilder<unknown> = sql`1 = 1`,
): RawBuilder<unknown> {
  const selected = Object.entries({ ...KEYS[grouping](range), ...columns }).map(([name, value]) => sql`${value} as ${sql.ref(name)}`);
  return sql`(select ${sql.join(selected)} from sms_messages m where ${inWindow(range)} and ${where}) w`;
}

/** The messages of the window (alias `m`): the real ones, or the simulated ones. */
function inWindow(range: StatsRange): RawBuilder<unknown> {
  const kind = range.simulated ? sql`m.test_number = 1 and m.status <> 'test_noop'` : sql`m.test_number = 0`;
  return sql`m.id >= ${firstIdAt('msg', range.from)} and m.created_at >= ${range.from} and m.created_at < ${range.to}
    and ${kind} and m.delivered_by_us = 1 and m.driver <> 'null'`;
}

const toKey = (row: Record<string, unknown>): StatsKey => ({
  driver: (row.driver as string | null | undefined) ?? null,
  country: (row.country as string | null | undefined) ?? null,
  bucket: row.bucket === undefined || row.bucket === null ? null : Number(row.bucket),
});

const flag = (condition: RawBuilder<unknown>) => sql`case when ${condition} then 1 else 0 end`;
const OUTCOMES = ['sent', 'delivered', 'undelivered', 'failed', 'expired', 'failovers'] as const;

export async function outcomeCounts(db: Db, range: StatsRange, grouping: StatsGrouping): Promise<OutcomeCounts[]> {
  const names = keyNames(grouping);
  const flags = {
    sent: flag(sql`m.sent_at is not null`),
    delivered: flag(sql`m.status = 'delivered'`),
    undelivered: flag(sql`m.status = 'undelivered'`),
    failed: flag(sql`m.status = 'failed'`),
    expired: flag(sql`m.status = 'expired'`),
    failovers: flag(sql`(select count(distinct a.driver) from sms_message_attempts a where a.message_id = m.id) > 1`),
  } satisfies Record<(typeof OUTCOMES)[number], RawBuilder<unknown>>;
  const sums = OUTCOMES.map((name) => sql`sum(${sql.ref(name)}) as ${sql.ref(name)}`);
  const { rows } = await sql<Record<string, unknown>>`
    select ${sql.join([...names, sql`count(*) as messages`, ...sums])}
    from ${grouped(range, grouping, flags)}
    ${names.length === 0 ? sql`` : sql`group by ${sql.join(names)}`}`.execute(db);
  return rows
    .filter((row) => Number(row.messages) > 0)
    .map((row) => ({
      ...toKey(row),
      messages: Number(row.messages),
      sent: Number(row.sent),
      delivered: Number(row.delivered),
      undelivered: Number(row.undelivered),
      failed: Number(row.failed),
      expired: Number(row.expired),
      failovers: Number(row.failovers),
    }));
}

/**
 * The median and 90th percentile of the time to delivery, by nearest rank: of `n` times in order, the
 * ⌈n/2⌉-th and the ⌈9n/10⌉-th (integer arithmetic, the same in both dialects). A delivered message's
 * `completed_at` is the time of its delivered status row.
 */
export async function deliveryTimes(db: Db, range: StatsRange, grouping: StatsGrouping): Promise<DeliveryTimes[]> {
  const names = keyNames(grouping);
  const partition = names.length === 0 ? sql`` : sql`partition by ${sql.join(names)}`;
  const delivered = sql`m.status = 'delivered' and m.sent_at is not null and m.completed_at is not null`;
  const { rows } = await sql<Record<string, unknown>>`
    select ${sql.join([...names, sql`ms`, sql`rn`, sql`n`])} from (
      select ${sql.join([...names, sql`ms`])},
        row_number() over (${partition} order by ms) as rn,
        count(*) over (${partition}) as n
      from ${grouped(range, grouping, { ms: sql`m.completed_at - m.sent_at` }, delivered)}
    ) ranked
    where rn = (n + 1) / 2 or rn = (9 * n + 9) / 10`.execute(db);
  const byKey = new Map<string, DeliveryTimes>();
  for (const row of rows) {
    const key = toKey(row);
    const id = JSON.stringify(key);
    const n = Number(row.n);
    const rank = Number(row.rn);
    const ms = Number(row.ms);
    const times = byKey.get(id) ?? { ...key, medianMs: ms, p90Ms: ms, delivered: n };
    if (rank === Math.floor((n + 1) / 2)) times.medianMs = ms;
    if (rank === Math.floor((9 * n + 9) / 10)) times.p90Ms = ms;
    byKey.set(id, times);
  }
  return [...byKey.values()];
}

/**
 * How often each carrier error code was seen for the window's messages: in answers to send requests (every
 * attempt that failed with one) and in applied delivery reports. Most frequent first.
 */
export async function errorCodeCounts(db: Db, range: StatsRange, limit: number): Promise<ErrorCodeCount[]> {
  const { rows } = await sql<{ driver: string; phase: 'send' | 'receipt'; code: string; count: unknown }>`
    select driver, phase, code, count(*) as count from (
      select a.driver as driver, 'send' as phase, a.error_code as code
      from sms_messages m join sms_message_attempts a on a.message_id = m.id
      where ${inWindow(range)} and a.error_code is not null and a.outcome in ('transient_error', 'permanent_error')
      union all
      select s.source as driver, 'receipt' as phase, s.error_code as code
      from sms_messages m join sms_message_statuses s on s.message_id = m.id
      where ${inWindow(range)} and s.error_code is not null and s.applied = 1 and s.source in ('twilio', 'vonage')
    ) codes
    group by driver, phase, code
    order by count(*) desc, driver, phase, code
    limit ${limit}`.execute(db);
  return rows.map((row) => ({ driver: row.driver, phase: row.phase, code: row.code, count: Number(row.count) }));
}

export interface FailoverCount {
  from: string;
  to: string;
  reason: NonNullable<SmsMessagesTable['failover_reason']>;
  count: number;
}

/** The window's moves to a failover driver, by the driver moved from, the one moved to and why. Most frequent first. */
export async function failoverCounts(db: Db, range: StatsRange): Promise<FailoverCount[]> {
  const { rows } = await sql<{ from_driver: string; to_driver: string; reason: FailoverCount['reason']; count: unknown }>`
    select m.failover_from as from_driver, m.driver as to_driver, m.failover_reason as reason, count(*) as count
    from sms_messages m
    where ${inWindow(range)} and m.failover_from is not null and m.failover_reason is not null
    group by m.failover_from, m.driver, m.failover_reason
    order by count(*) desc, m.failover_from, m.driver, m.failover_reason`.execute(db);
  return rows.map((row) => ({ from: row.from_driver, to: row.to_driver, reason: row.reason, count: Number(row.count) }));
}

/** What the carriers charged for the window's messages, by driver, country and currency. */
export async function costSums(db: Db, range: StatsRange): Promise<CostSum[]> {
  const { rows } = await sql<{ driver: string; country: string | null; currency: string; nanos: unknown; attempts: unknown }>`
    select a.driver as driver, m.country as country, a.price_currency as currency, sum(a.price_nanos) as nanos, count(*) as attempts
    from sms_messages m join sms_message_attempts a on a.message_id = m.id
    where ${inWindow(range)} and a.price_nanos is not null and a.price_currency is not null
    group by a.driver, m.country, a.price_currency
    order by a.driver, m.country, a.price_currency`.execute(db);
  return rows.map((row) => ({
    driver: row.driver,
    country: row.country,
    currency: row.currency,
    nanos: Number(row.nanos),
    attempts: Number(row.attempts),
  }));
}
