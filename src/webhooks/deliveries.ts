/**
 * Deliveries: one row per (event, endpoint), the outbox the worker claims from and the head of the delivery
 * log; one attempt row per HTTP try. Claiming is a lease: the claim moves `next_attempt_at` to the lease's end
 * and stamps a fresh token in `lease_owner`, so a worker that dies mid-attempt leaves a row that becomes due
 * again by itself, and a late result from a lost lease is fenced out by the token. On PostgreSQL several
 * processes claim with `FOR UPDATE SKIP LOCKED`; SQLite serialises writers (`BEGIN IMMEDIATE`).
 */
import type { Clock } from '../clock.js';
import { appError } from '../errors.js';
import { newId } from '../ids.js';
import { SYSTEM_ACTOR, recordAudit, type Actor } from '../audit/audit-log.js';
import type { Db, Dialect, Executor, Tx } from '../store/database.js';
import { customPlans, inIds, insertRows } from '../store/batches.js';
import { decodeCursor, toPage, type Page } from '../store/pagination.js';
import type { WebhookAttemptsTable, WebhookDeliveriesTable } from '../store/schema.js';
import type { StoredEvent } from './events.js';
import { insertEvent } from './events.js';
import type { PostResult } from './egress.js';
import { retryDelay } from './schedule.js';

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface AttemptView {
  id: string;
  object: 'webhook_attempt';
  attempted_at: number;
  trigger: 'scheduled' | 'manual';
  url: string;
  succeeded: boolean;
  status_code: number | null;
  latency_ms: number;
  response_body: string | null;
  response_body_truncated: boolean;
  error: string | null;
}

export interface DeliveryView {
  id: string;
  object: 'webhook_delivery';
  endpoint_id: string;
  event_id: string;
  event_type: string;
  status: DeliveryStatus;
  attempt_count: number;
  /** While pending: when the next attempt is due (or, while one is in flight, the latest it will be over). */
  next_attempt_at: number | null;
  created_at: number;
  updated_at: number;
  attempts: AttemptView[];
}

export async function insertDeliveries(tx: Tx, event: StoredEvent, endpointIds: readonly string[], now: number): Promise<string[]> {
  if (endpointIds.length === 0) return [];
  const rows: WebhookDeliveriesTable[] = endpointIds.map((endpointId) => ({
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
}

/**
 * Claims up to `limit` due deliveries of enabled endpoints, oldest due first, skipping endpoints this process
 * already has at their concurrency limit. `more` says rows were left because of that limit, so the caller
 * claims again at once (the saturated endpoints are then excluded) instead of letting them hold others back.
 */
export async function claimDue(db: Db, dialect: Dialect, options: ClaimOptions, saturated: readonly string[]): Promise<{ claimed: ClaimedDelivery[]; more: boolean }> {
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
    if (saturated.length) query = query.where('endpoint_id', 'not in', saturated);
    if (dialect === 'postgres') query = query.forUpdate().skipLocked();
    const rows = await query.execute();
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
        .where(inIds(tx, 'id', claimed.map((c) => c.id)))
        .execute();
    }
    return { claimed, more };
  });
}

export interface AttemptRecord {
  attemptedAt: number;
  url: string;
  result: PostResult;
}

export interface DeliveryPolicy {
  /** Delays before each retry (ms). */
  schedule: readonly number[];
  /** An endpoint whose every attempt has failed for this long is disabled (null: never). */
  disableFailingAfterMs: number | null;
}

export interface AttemptOutcome {
  /** False when the lease was lost (the row was re-claimed, retried by hand or deleted meanwhile): nothing was written. */
  recorded: boolean;
  /** This failure disabled the endpoint (it had failed everything for `disableFailingAfterMs`). */
  endpointDisabled: boolean;
}

/**
 * Records an attempt's outcome and moves the delivery on: succeeded; failed (schedule spent, a one-off manual
 * retry, or the receiver said `webhook-delivery: abort-message`); or pending again at the next scheduled time.
 * Also keeps the endpoint's health: a success clears `failing_since`, a failure sets it if it is not set, and
 * an endpoint that has failed everything for long enough is disabled (its pending deliveries wait, and go out
 * once it is enabled again).
 */
export async function completeAttempt(db: Db, clock: Clock, claim: ClaimedDelivery, record: AttemptRecord, policy: DeliveryPolicy): Promise<AttemptOutcome> {
  const { result } = record;
  const succeeded = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
  const attemptCount = claim.attempt_count + 1;
  const now = clock.now();
  const delay = succeeded || !claim.auto_retry || result.abort ? null : retryDelay(policy.schedule, attemptCount, result.retryAfterMs);
  const status: DeliveryStatus = succeeded ? 'succeeded' : delay === null ? 'failed' : 'pending';
  return db.transaction().execute(async (tx) => {
    const updated = await tx
      .updateTable('webhook_deliveries')
      .set({ status, attempt_count: attemptCount, manual: 0, lease_owner: null, next_attempt_at: delay === null ? null : now + delay, updated_at: now })
      .where('id', '=', claim.id)
      .where('lease_owner', '=', claim.token)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) return { recorded: false, endpointDisabled: false };
    const attempt: WebhookAttemptsTable = {
      id: newId('wha', record.attemptedAt),
      delivery_id: claim.id,
      endpoint_id: claim.endpoint_id,
      attempted_at: record.attemptedAt,
      trigger: claim.manual ? 'manual' : 'scheduled',
      url: record.url,
      succeeded: succeeded ? 1 : 0,
      status_code: result.statusCode,
      latency_ms: result.latencyMs,
      response_body: result.responseBody,
      response_truncated: result.truncated ? 1 : 0,
      error: result.error,
    };
    await tx.insertInto('webhook_attempts').values(attempt).execute();
    const endpointDisabled = await updateEndpointHealth(tx, clock, claim.endpoint_id, succeeded, record.attemptedAt, policy.disableFailingAfterMs);
    return { recorded: true, endpointDisabled };
  });
}

/** Returns true when this failure disabled the endpoint. */
async function updateEndpointHealth(tx: Tx, clock: Clock, endpointId: string, succeeded: boolean, attemptedAt: number, disableAfterMs: number | null): Promise<boolean> {
  if (succeeded) {
    // Writes nothing in the usual case (the endpoint was healthy already).
    await tx.updateTable('webhook_endpoints').set({ failing_since: null }).where('id', '=', endpointId).where('failing_since', 'is not', null).execute();
    return false;
  }
  const endpoint = await tx.selectFrom('webhook_endpoints').select(['enabled', 'failing_since']).where('id', '=', endpointId).executeTakeFirst();
  if (!endpoint) return false;
  const failingSince = endpoint.failing_since ?? attemptedAt;
  if (endpoint.failing_since === null) await tx.updateTable('webhook_endpoints').set({ failing_since: failingSince }).where('id', '=', endpointId).execute();
  if (!endpoint.enabled || disableAfterMs === null || attemptedAt - failingSince < disableAfterMs) return false;
  const now = clock.now();
  await tx.updateTable('webhook_endpoints').set({ enabled: 0, updated_at: now }).where('id', '=', endpointId).execute();
  await recordAudit(tx, clock, {
    actor: SYSTEM_ACTOR,
    action: 'webhook_endpoint.disabled',
    target: { type: 'webhook_endpoint', id: endpointId },
    data: { reason: 'failing', failing_since: failingSince, disable_after_ms: disableAfterMs },
  });
  return true;
}

/** Drops a claimed delivery whose endpoint or event no longer exists (deleted while it waited). */
export async function dropClaimed(db: Db, claim: ClaimedDelivery): Promise<void> {
  await db.deleteFrom('webhook_deliveries').where('id', '=', claim.id).where('lease_owner', '=', claim.token).execute();
}

function toAttemptView(row: WebhookAttemptsTable): AttemptView {
  return {
    id: row.id,
    object: 'webhook_attempt',
    attempted_at: row.attempted_at,
    trigger: row.trigger as AttemptView['trigger'],
    url: row.url,
    succeeded: row.succeeded === 1,
    status_code: row.status_code,
    latency_ms: row.latency_ms,
    response_body: row.response_body,
    response_body_truncated: row.response_truncated === 1,
    error: row.error,
  };
}

async function withAttempts(executor: Executor, rows: WebhookDeliveriesTable[]): Promise<DeliveryView[]> {
  const attempts = rows.length
    ? await executor.selectFrom('webhook_attempts').selectAll().where(inIds(executor, 'delivery_id', rows.map((r) => r.id))).orderBy('id').execute()
    : [];
  const byDelivery = new Map<string, AttemptView[]>();
  for (const attempt of attempts) {
    const list = byDelivery.get(attempt.delivery_id) ?? [];
    list.push(toAttemptView(attempt));
    byDelivery.set(attempt.delivery_id, list);
  }
  return rows.map((row) => ({
    id: row.id,
    object: 'webhook_delivery',
    endpoint_id: row.endpoint_id,
    event_id: row.event_id,
    event_type: row.event_type,
    status: row.status as DeliveryStatus,
    attempt_count: row.attempt_count,
    next_attempt_at: row.status === 'pending' ? row.next_attempt_at : null,
    created_at: row.created_at,
    updated_at: row.updated_at,
    attempts: byDelivery.get(row.id) ?? [],
  }));
}

export interface DeliveryFilter {
  status?: DeliveryStatus;
  event_type?: string;
  limit?: number;
  starting_after?: string;
}

/** The delivery log and its two actions (retry, send a test event); reads and writes for the BAPI. */
export class WebhookDeliveries {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
    private readonly clock: Clock,
  ) {}

  async list(endpointId: string, filter: DeliveryFilter): Promise<Page<DeliveryView>> {
    await this.endpointRow(this.db, endpointId);
    const limit = filter.limit ?? 50;
    const after = decodeCursor(filter.starting_after);
    let query = this.db.selectFrom('webhook_deliveries').selectAll().where('endpoint_id', '=', endpointId).orderBy('id', 'desc').limit(limit + 1);
    if (filter.status) query = query.where('status', '=', filter.status);
    if (filter.event_type) query = query.where('event_type', '=', filter.event_type);
    if (after) query = query.where('id', '<', after);
    const rows = await query.execute();
    const page = toPage(rows, limit, (row) => row);
    return { data: await withAttempts(this.db, page.data), next_cursor: page.next_cursor };
  }

  async get(id: string, executor: Executor = this.db): Promise<DeliveryView> {
    const row = await executor.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw appError('resource_not_found', { paramName: 'id', longMessage: `No webhook delivery ${id}` });
    return (await withAttempts(executor, [row]))[0]!;
  }

  /**
   * Re-sends now. A pending delivery has its next attempt brought forward (a failure carries on with the
   * schedule); a finished one gets exactly one more attempt, whose outcome becomes its status.
   */
  async retry(id: string, actor: Actor): Promise<DeliveryView> {
    return this.db.transaction().execute(async (tx) => {
      let query = tx.selectFrom('webhook_deliveries').selectAll().where('id', '=', id);
      if (this.dialect === 'postgres') query = query.forUpdate();
      const row = await query.executeTakeFirst();
      if (!row) throw appError('resource_not_found', { paramName: 'id', longMessage: `No webhook delivery ${id}` });
      await this.enabledEndpoint(tx, row.endpoint_id);
      const now = this.clock.now();
      if (row.status === 'pending' && row.lease_owner !== null && (row.next_attempt_at ?? 0) > now) {
        throw appError('webhook_delivery_in_progress', { longMessage: `Delivery ${id} is being attempted right now; retry once that attempt has finished` });
      }
      await tx
        .updateTable('webhook_deliveries')
        .set({ status: 'pending', next_attempt_at: now, manual: 1, lease_owner: null, auto_retry: row.status === 'pending' ? row.auto_retry : 0, updated_at: now })
        .where('id', '=', id)
        .execute();
      await recordAudit(tx, this.clock, { actor, action: 'webhook_delivery.retried', target: { type: 'webhook_delivery', id }, data: { endpoint_id: row.endpoint_id, event_id: row.event_id, previous_status: row.status } });
      return this.get(id, tx);
    });
  }

  /** Records a `webhook.test` event and delivers it to this endpoint only. */
  async sendTest(endpointId: string, actor: Actor): Promise<DeliveryView> {
    return this.db.transaction().execute(async (tx) => {
      await this.enabledEndpoint(tx, endpointId);
      const now = this.clock.now();
      const event = await insertEvent(tx, now, {
        type: 'webhook.test',
        data: { object: 'webhook_test', endpoint_id: endpointId, message: 'This is a test event from authn.sh.' },
      });
      const [deliveryId] = await insertDeliveries(tx, event, [endpointId], now);
      await recordAudit(tx, this.clock, { actor, action: 'webhook_endpoint.test_sent', target: { type: 'webhook_endpoint', id: endpointId }, data: { event_id: event.id } });
      return this.get(deliveryId!, tx);
    });
  }

  private async endpointRow(executor: Executor, endpointId: string) {
    const endpoint = await executor.selectFrom('webhook_endpoints').select(['id', 'enabled']).where('id', '=', endpointId).executeTakeFirst();
    if (!endpoint) throw appError('resource_not_found', { paramName: 'id', longMessage: `No webhook endpoint ${endpointId}` });
    return endpoint;
  }

  private async enabledEndpoint(executor: Executor, endpointId: string): Promise<void> {
    const endpoint = await this.endpointRow(executor, endpointId);
    if (!endpoint.enabled) throw appError('webhook_endpoint_disabled', { longMessage: `Webhook endpoint ${endpointId} is disabled; enable it to deliver to it` });
  }
}
