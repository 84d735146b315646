/**
 * The SMS outbox's SQL: the dispatcher's claims and the locks it records outcomes under, the carrier reports
 * already seen, the status checks' claims, the queue depth and the payloads' re-sealing. Claims lease rows
 * (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so several processes never take the same row; SQLite's single writer
 * serialises claimers); rows to change are locked in id order, by every writer alike, so two writers never wait
 * on each other in a circle.
 */
import { sql } from 'kysely';
import type { SecretBox } from '../secret-box.js';
import type { Db, Executor, Tx } from './database.js';
import { customPlans, inIds, insertRows, onPostgres } from './batches.js';
import { selectLocked, selectToClaim } from './locks.js';
import type { SmsMessageAttemptsTable, SmsMessagesTable, SmsMessageStatusesTable } from './schema.js';

/** Associated data of a message's sealed payload: a payload copied to another row does not open. */
export const payloadAd = (messageId: string) => `sms_messages.payload:${messageId}`;

export interface OutboxClaim {
  now: number;
  limit: number;
  /** The claimer's name, written as the lease's owner. */
  worker: string;
  leaseMs: number;
}

/**
 * Claims up to `limit` due messages: each becomes `sending`, leased to the claimer, with `next_attempt_at` = the
 * lease's end (a crashed worker's rows simply fall due again) and one more attempt counted. A row found still
 * `sending` was claimed by a worker that died or hung before recording an outcome: `abandoned` makes the attempt
 * rows that say so. Returns the rows as claimed.
 */
export async function claimDueMessages(
  tx: Tx,
  claim: OutboxClaim,
  abandoned: (rows: readonly SmsMessagesTable[]) => SmsMessageAttemptsTable[],
): Promise<SmsMessagesTable[]> {
  await customPlans(tx);
  const { now, limit, worker, leaseMs } = claim;
  const due = tx
    .selectFrom('sms_messages')
    .selectAll()
    .where('next_attempt_at', 'is not', null)
    .where('next_attempt_at', '<=', now)
    .orderBy('next_attempt_at')
    .limit(limit);
  const rows = await selectToClaim(tx, due).execute();
  if (rows.length === 0) return [];
  const leaseEnd = now + leaseMs;
  const lease = { status: 'sending', lease_owner: worker, lease_expires_at: leaseEnd, next_attempt_at: leaseEnd, updated_at: now } as const;
  await tx
    .updateTable('sms_messages')
    .set({ ...lease, attempts: sql<number>`attempts + 1` })
    .where(
      inIds(
        tx,
        'id',
        rows.map((r) => r.id),
      ),
    )
    .execute();
  const lost = rows.filter((r) => r.status === 'sending');
  if (lost.length > 0) await insertRows(tx, 'sms_message_attempts', abandoned(lost)).execute(tx);
  return rows.map((r) => ({ ...r, ...lease, attempts: r.attempts + 1 }));
}

/** Claims up to `limit` accepted messages whose wait for a delivery receipt is over, for this transaction. */
export async function claimReceiptWaits(tx: Tx, claim: { now: number; limit: number }): Promise<SmsMessagesTable[]> {
  const due = tx
    .selectFrom('sms_messages')
    .selectAll()
    .where('receipt_wait_until', 'is not', null)
    .where('receipt_wait_until', '<=', claim.now)
    .orderBy('receipt_wait_until')
    .limit(claim.limit);
  return selectToClaim(tx, due).execute();
}

/** Reads and locks messages to change in this transaction (outcomes, reports), by id. */
export async function lockMessages(tx: Tx, ids: readonly string[]): Promise<Map<string, SmsMessagesTable>> {
  await customPlans(tx);
  const query = tx
    .selectFrom('sms_messages')
    .selectAll()
    .where(inIds(tx, 'id', ids))
    .orderBy('id');
  return new Map((await selectLocked(tx, query).execute()).map((row) => [row.id, row]));
}

export type ReportSeen = Pick<SmsMessageStatusesTable, 'message_id' | 'dedupe_key' | 'carrier_status' | 'carrier_message_id'>;

/**
 * The carrier reports already recorded for these messages. On PostgreSQL the ids are probed one by one through
 * the index (a lateral subquery, kept apart by `offset 0` so that the planner does not turn it into a join):
 * `message_id = any(…)` on a table not analysed yet (a new instance) is planned as a sequential scan, the
 * planner assuming that each id matches a two-hundredth of the table.
 */
export async function reportsSeen(tx: Tx, ids: readonly string[]): Promise<ReportSeen[]> {
  if (onPostgres(tx)) {
    const { rows } = await sql<ReportSeen>`
      select s.message_id, s.dedupe_key, s.carrier_status, s.carrier_message_id from unnest(${[...ids]}::text[]) as m(id)
      cross join lateral (select * from sms_message_statuses where message_id = m.id and dedupe_key is not null offset 0) as s`.execute(tx);
    return rows;
  }
  return tx
    .selectFrom('sms_message_statuses')
    .select(['message_id', 'dedupe_key', 'carrier_status', 'carrier_message_id'])
    .where(inIds(tx, 'message_id', ids))
    .where('dedupe_key', 'is not', null)
    .execute();
}

export type StatusCheckDue = Pick<SmsMessagesTable, 'id' | 'driver' | 'test_number' | 'carrier_message_id' | 'sent_at' | 'created_at'>;

/** Claims up to `limit` messages whose status check is due, until `now + claimMs` (another process takes over after). */
export function claimStatusChecks(db: Db, claim: { now: number; limit: number; claimMs: number }): Promise<StatusCheckDue[]> {
  return db.transaction().execute(async (tx) => {
    await customPlans(tx);
    const due = tx
      .selectFrom('sms_messages')
      .select(['id', 'driver', 'test_number', 'carrier_message_id', 'sent_at', 'created_at'])
      .where('status_check_at', 'is not', null)
      .where('status_check_at', '<=', claim.now)
      .orderBy('status_check_at')
      .limit(claim.limit);
    const rows = await selectToClaim(tx, due).execute();
    if (rows.length > 0)
      await setStatusChecks(
        tx,
        rows.map((row) => row.id),
        claim.now + claim.claimMs,
      );
    return rows;
  });
}

/** When the next status check falls due (null: none is planned). */
export async function earliestStatusCheck(db: Db): Promise<number | null> {
  const row = await db
    .selectFrom('sms_messages')
    .select('status_check_at')
    .where('status_check_at', 'is not', null)
    .orderBy('status_check_at')
    .limit(1)
    .executeTakeFirst();
  return row?.status_check_at ?? null;
}

/** The next check of a message still `sent` and still waiting for one (a final report already cleared it). */
export async function rescheduleStatusCheck(db: Db, id: string, at: number | null): Promise<void> {
  await db
    .updateTable('sms_messages')
    .set({ status_check_at: at })
    .where('id', '=', id)
    .where('status', '=', 'sent')
    .where('status_check_at', 'is not', null)
    .execute();
}

/** Sets (null: drops) the status checks of these messages. */
export async function setStatusChecks(executor: Executor, ids: readonly string[], at: number | null): Promise<void> {
  if (ids.length === 0) return;
  await executor
    .updateTable('sms_messages')
    .set({ status_check_at: at })
    .where(inIds(executor, 'id', ids))
    .execute();
}

/** Messages waiting in the outbox: queued (due or waiting for a retry) and sending (claimed by a dispatcher). */
export async function queueDepth(db: Db): Promise<{ queued: number; sending: number }> {
  const rows = await db
    .selectFrom('sms_messages')
    .select(['status', (eb) => eb.fn.countAll<number>().as('count')])
    .where('next_attempt_at', 'is not', null)
    .groupBy('status')
    .execute();
  const of = (status: string) => Number(rows.find((r) => r.status === status)?.count ?? 0);
  return { queued: of('queued'), sending: of('sending') };
}

/** Key rotation: re-seals the bodies waiting in the outbox. Returns how many were re-sealed. */
export async function resealPayloads(tx: Tx, box: SecretBox): Promise<number> {
  const rows = await tx.selectFrom('sms_messages').select(['id', 'payload']).where('payload', 'is not', null).execute();
  let count = 0;
  for (const row of rows) {
    if (!box.isStale(row.payload!)) continue;
    await tx
      .updateTable('sms_messages')
      .set({ payload: box.seal(box.open(row.payload!, payloadAd(row.id)), payloadAd(row.id)) })
      .where('id', '=', row.id)
      .execute();
    count++;
  }
  return count;
}
