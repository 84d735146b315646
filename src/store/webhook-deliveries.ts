/**
 * The webhook outbox's SQL: deliveries (one row per event and endpoint, the head of the delivery log) and their
 * attempts (one row per HTTP try). Claiming is a lease: the claim moves `next_attempt_at` to the lease's end and
 * stamps a fresh token in `lease_owner`, so a worker that dies mid-attempt leaves a row that becomes due again by
 * itself, and a late result from a lost lease is fenced out by the token. On PostgreSQL several processes claim
 * with `FOR UPDATE SKIP LOCKED`; SQLite serialises writers (`BEGIN IMMEDIATE`). What a delivery's outcome means
 * (retry, give up, disable the endpoint) is decided in `src/webhooks/deliveries.ts`.
 */
import { newId } from '../ids.js';
import type { Db, Executor, Tx } from './database.js';
import { customPlans, inIds, insertRows } from './batches.js';
import { selectLocked, selectToClaim } from './locks.js';
import type { EventsTable, WebhookAttemptsTable, WebhookDeliveriesTable } from './schema.js';

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** What started an attempt: the retry schedule, or `POST …/retry`. */
export type AttemptTrigger = 'scheduled' | 'manual';

/** A delivery row with its closed columns typed. */
export type DeliveryRow = Omit<WebhookDeliveriesTable, 'status'> & { status: DeliveryStatus };
/** An attempt row with its closed columns typed. */
export type AttemptRow = Omit<WebhookAttemptsTable, 'trigger'> & { trigger: AttemptTrigger };

/** Pending deliveries of `event` to each of `endpointIds`, due at once; returns their ids. */
export async function insertDeliveries(
  tx: Tx,
  event: { id: string; type: string },
  endpointIds: readonly string[],
  now: number,
): Promise<string[]> {
  if (endpointIds.length === 0) return [];
  const rows: DeliveryRow[] = endpointIds.map((endpointId) => ({
    id: newId('whd', now),
    endpoint_id: endpointId,
    event_id: event.id,
    event_type: event.type,
    status: 'pending',
    attempt_count: 0,
    auto_retry: 1,
    manual: 0,
    next_attempt_at: now,
    lease_owner: null,
    created_at: now,
    updated_at: now,
  }));
  await insertRows(tx, 'webhook_deliveries', rows).execute(tx);
  return rows.map((row) => row.id);
}

export interface ClaimedDelivery {
  id: string;
  endpoint_id: string;
  event_id: string;
  attempt_count: number;
  auto_retry: number;
  manual: number;
  /** The lease token: completion only counts while the row still carries it. */
  token: string;
}

export interface ClaimOptions {
  now: number;
  leaseUntil: number;
  token: string;
  limit: number;
  /** How many more attempts this process may start for an endpoint (per-endpoint concurrency). */
  roomFor(endpointId: string): number;
  /** Endpoints this process already has at their concurrency limit: none of theirs is claimed. */
  saturated: readonly string[];
}

/**
 * Claims up to `limit` due deliveries of enabled endpoints, oldest due first, skipping endpoints this process
 * already has at their concurrency limit. `more` says rows were left because of that limit, so the caller
 * claims again at once (the saturated endpoints are then excluded) instead of letting them hold others back.
 */
export async function claimDue(db: Db, options: ClaimOptions): Promise<{ claimed: ClaimedDelivery[]; more: boolean }> {
  return db.transaction().execute(async (tx) => {
    await customPlans(tx);
    let query = tx
      .selectFrom('webhook_deliveries')
      .select(['id', 'endpoint_id', 'event_id', 'attempt_count', 'auto_retry', 'manual'])
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', options.now)
      .where('endpoint_id', 'in', tx.selectFrom('webhook_endpoints').select('id').where('enabled', '=', 1))
      .orderBy('next_attempt_at')
      .limit(options.limit);
    if (options.saturated.length) query = query.where('endpoint_id', 'not in', options.saturated);
    const rows = await selectToClaim(tx, query).execute();
    const taken = new Map<string, number>();
    const claimed: ClaimedDelivery[] = [];
    let more = false;
    for (const row of rows) {
      const count = taken.get(row.endpoint_id) ?? 0;
      if (count >= options.roomFor(row.endpoint_id)) {
        more = true;
        continue;
      }
      taken.set(row.endpoint_id, count + 1);
      claimed.push({ ...row, token: options.token });
    }
    if (claimed.length) {
      await tx
        .updateTable('webhook_deliveries')
        .set({ lease_owner: options.token, next_attempt_at: options.leaseUntil })
        .where(
          inIds(
            tx,
            'id',
            claimed.map((c) => c.id),
          ),
        )
        .execute();
    }
    return { claimed, more };
  });
}

/** What a claimed delivery goes to: its endpoint's URL and its event; null when either was deleted meanwhile. */
export async function claimedTarget(db: Db, claim: ClaimedDelivery): Promise<{ url: string; event: EventsTable } | null> {
  const [endpoint, event] = await Promise.all([
    db.selectFrom('webhook_endpoints').select('url').where('id', '=', claim.endpoint_id).executeTakeFirst(),
    db.selectFrom('events').selectAll().where('id', '=', claim.event_id).executeTakeFirst(),
  ]);
  return endpoint && event ? { url: endpoint.url, event } : null;
}

/**
 * Writes an attempt and the delivery's state after it, while the claim still holds the row's lease. Returns
 * false, having written nothing, when the lease was lost.
 */
export async function recordAttempt(
  tx: Tx,
  claim: ClaimedDelivery,
  delivery: { status: DeliveryStatus; next_attempt_at: number | null; updated_at: number },
  attempt: Omit<AttemptRow, 'delivery_id' | 'endpoint_id' | 'trigger'>,
): Promise<boolean> {
  const updated = await tx
    .updateTable('webhook_deliveries')
    .set({ ...delivery, attempt_count: claim.attempt_count + 1, manual: 0, lease_owner: null })
    .where('id', '=', claim.id)
    .where('lease_owner', '=', claim.token)
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) === 0) return false;
  const row: AttemptRow = {
    ...attempt,
    delivery_id: claim.id,
    endpoint_id: claim.endpoint_id,
    trigger: claim.manual ? 'manual' : 'scheduled',
  };
  await tx.insertInto('webhook_attempts').values(row).execute();
  return true;
}

/** Drops a claimed delivery (its endpoint or event no longer exists), while the claim still holds its lease. */
export async function dropClaimed(db: Db, claim: ClaimedDelivery): Promise<void> {
  await db.deleteFrom('webhook_deliveries').where('id', '=', claim.id).where('lease_owner', '=', claim.token).execute();
}

/** Whether an endpoint is enabled, and its health as deliveries keep it. */
export interface EndpointHealth {
  enabled: number;
  /** Since when every attempt has failed; null while the last one succeeded. */
  failing_since: number | null;
}

export async function endpointHealth(executor: Executor, endpointId: string): Promise<EndpointHealth | undefined> {
  return executor.selectFrom('webhook_endpoints').select(['enabled', 'failing_since']).where('id', '=', endpointId).executeTakeFirst();
}

/** Marks the endpoint healthy; writes nothing in the usual case (it was healthy already). */
export async function clearFailing(tx: Tx, endpointId: string): Promise<void> {
  await tx
    .updateTable('webhook_endpoints')
    .set({ failing_since: null })
    .where('id', '=', endpointId)
    .where('failing_since', 'is not', null)
    .execute();
}

export async function setFailingSince(tx: Tx, endpointId: string, since: number): Promise<void> {
  await tx.updateTable('webhook_endpoints').set({ failing_since: since }).where('id', '=', endpointId).execute();
}

export async function disableEndpoint(tx: Tx, endpointId: string, now: number): Promise<void> {
  await tx.updateTable('webhook_endpoints').set({ enabled: 0, updated_at: now }).where('id', '=', endpointId).execute();
}

export interface DeliveryQuery {
  status?: DeliveryStatus;
  event_type?: string;
  /** Rows to read: a page's size and one more, to tell whether another page follows. */
  rows: number;
  /** Only deliveries older than this id (the cursor). */
  before: string | null;
}

/** An endpoint's deliveries, newest first. */
export async function listDeliveries(db: Db, endpointId: string, filter: DeliveryQuery): Promise<DeliveryRow[]> {
  let query = db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('endpoint_id', '=', endpointId)
    .orderBy('id', 'desc')
    .limit(filter.rows);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.event_type) query = query.where('event_type', '=', filter.event_type);
  if (filter.before) query = query.where('id', '<', filter.before);
  return (await query.execute()).map(deliveryRow);
}

export async function deliveryById(executor: Executor, id: string): Promise<DeliveryRow | undefined> {
  const row = await executor.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
  return row && deliveryRow(row);
}

/** The delivery, locked until the transaction ends (its attempt's outcome waits). */
export async function lockDelivery(tx: Tx, id: string): Promise<DeliveryRow | undefined> {
  const row = await selectLocked(tx, tx.selectFrom('webhook_deliveries').selectAll().where('id', '=', id)).executeTakeFirst();
  return row && deliveryRow(row);
}

/**
 * Makes the delivery due now for one attempt asked for by hand, dropping any lease; `autoRetry` says whether a
 * failure of that attempt carries on with the retry schedule.
 */
export async function dueByHand(tx: Tx, id: string, now: number, autoRetry: number): Promise<void> {
  await tx
    .updateTable('webhook_deliveries')
    .set({ status: 'pending', next_attempt_at: now, manual: 1, lease_owner: null, auto_retry: autoRetry, updated_at: now })
    .where('id', '=', id)
    .execute();
}

/** The attempts of the deliveries `ids`, oldest first. */
export async function attemptsOf(executor: Executor, ids: readonly string[]): Promise<AttemptRow[]> {
  if (ids.length === 0) return [];
  const rows = await executor
    .selectFrom('webhook_attempts')
    .selectAll()
    .where(inIds(executor, 'delivery_id', ids))
    .orderBy('id')
    .execute();
  // Written only by `recordAttempt`, with a trigger of the closed set.
  return rows as AttemptRow[];
}

/** Written only here, with a status of the closed set. */
function deliveryRow(row: WebhookDeliveriesTable): DeliveryRow {
  return row as DeliveryRow;
}
