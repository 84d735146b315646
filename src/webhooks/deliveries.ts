/**
 * What a delivery's outcome means, and the delivery log as the BAPI shows it. An attempt's result moves its
 * delivery on (succeeded, failed, or pending again at the next scheduled time) and keeps its endpoint's health;
 * the log lists deliveries with their attempts, and retries one or sends a test event by hand. The rows, the
 * lease that claims them and its fencing are `src/store/webhook-deliveries.ts`.
 */
import type { Clock } from '../clock.js';
import { appError } from '../errors.js';
import { newId } from '../ids.js';
import { SYSTEM_ACTOR, recordAudit, type Actor } from '../audit/audit-log.js';
import type { Db, Executor, Tx } from '../store/database.js';
import { decodeCursor, toPage, type Page } from '../store/pagination.js';
import {
  attemptsOf,
  clearFailing,
  deliveryById,
  disableEndpoint,
  dueByHand,
  endpointHealth,
  insertDeliveries,
  listDeliveries,
  lockDelivery,
  recordAttempt,
  setFailingSince,
  type AttemptRow,
  type AttemptTrigger,
  type ClaimedDelivery,
  type DeliveryRow,
  type DeliveryStatus,
} from '../store/webhook-deliveries.js';
import { insertEvent } from './events.js';
import type { PostResult } from './egress.js';
import { retryDelay } from './schedule.js';

export { DELIVERY_STATUSES, type DeliveryStatus } from '../store/webhook-deliveries.js';

export interface AttemptView {
  id: string;
  object: 'webhook_attempt';
  attempted_at: number;
  trigger: AttemptTrigger;
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
export async function completeAttempt(
  db: Db,
  clock: Clock,
  claim: ClaimedDelivery,
  record: AttemptRecord,
  policy: DeliveryPolicy,
): Promise<AttemptOutcome> {
  const { result } = record;
  const succeeded = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
  const now = clock.now();
  const delay =
    succeeded || !claim.auto_retry || result.abort ? null : retryDelay(policy.schedule, claim.attempt_count + 1, result.retryAfterMs);
  const status: DeliveryStatus = succeeded ? 'succeeded' : delay === null ? 'failed' : 'pending';
  return db.transaction().execute(async (tx) => {
    const recorded = await recordAttempt(
      tx,
      claim,
      { status, next_attempt_at: delay === null ? null : now + delay, updated_at: now },
      {
        id: newId('wha', record.attemptedAt),
        attempted_at: record.attemptedAt,
        url: record.url,
        succeeded: succeeded ? 1 : 0,
        status_code: result.statusCode,
        latency_ms: result.latencyMs,
        response_body: result.responseBody,
        response_truncated: result.truncated ? 1 : 0,
        error: result.error,
      },
    );
    if (!recorded) return { recorded: false, endpointDisabled: false };
    const endpointDisabled = await updateEndpointHealth(
      tx,
      clock,
      claim.endpoint_id,
      succeeded,
      record.attemptedAt,
      policy.disableFailingAfterMs,
    );
    return { recorded: true, endpointDisabled };
  });
}

/** Returns true when this failure disabled the endpoint. */
async function updateEndpointHealth(
  tx: Tx,
  clock: Clock,
  endpointId: string,
  succeeded: boolean,
  attemptedAt: number,
  disableAfterMs: number | null,
): Promise<boolean> {
  if (succeeded) {
    await clearFailing(tx, endpointId);
    return false;
  }
  const endpoint = await endpointHealth(tx, endpointId);
  if (!endpoint) return false;
  const failingSince = endpoint.failing_since ?? attemptedAt;
  if (endpoint.failing_since === null) await setFailingSince(tx, endpointId, failingSince);
  if (!endpoint.enabled || disableAfterMs === null || attemptedAt - failingSince < disableAfterMs) return false;
  await disableEndpoint(tx, endpointId, clock.now());
  await recordAudit(tx, clock, {
    actor: SYSTEM_ACTOR,
    action: 'webhook_endpoint.disabled',
    target: { type: 'webhook_endpoint', id: endpointId },
    data: { reason: 'failing', failing_since: failingSince, disable_after_ms: disableAfterMs },
  });
  return true;
}

function toAttemptView(row: AttemptRow): AttemptView {
  return {
    id: row.id,
    object: 'webhook_attempt',
    attempted_at: row.attempted_at,
    trigger: row.trigger,
    url: row.url,
    succeeded: row.succeeded === 1,
    status_code: row.status_code,
    latency_ms: row.latency_ms,
    response_body: row.response_body,
    response_body_truncated: row.response_truncated === 1,
    error: row.error,
  };
}

async function withAttempts(executor: Executor, rows: DeliveryRow[]): Promise<DeliveryView[]> {
  const attempts = await attemptsOf(
    executor,
    rows.map((r) => r.id),
  );
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
    status: row.status,
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
  private readonly db: Db;
  private readonly clock: Clock;

  constructor(deps: { db: Db; clock: Clock }) {
    this.db = deps.db;
    this.clock = deps.clock;
  }

  async list(endpointId: string, filter: DeliveryFilter): Promise<Page<DeliveryView>> {
    await this.endpoint(this.db, endpointId);
    const limit = filter.limit ?? 50;
    const rows = await listDeliveries(this.db, endpointId, {
      status: filter.status,
      event_type: filter.event_type,
      rows: limit + 1,
      before: decodeCursor(filter.starting_after),
    });
    const page = toPage(rows, limit, (row) => row);
    return { data: await withAttempts(this.db, page.data), next_cursor: page.next_cursor };
  }

  async get(id: string, executor: Executor = this.db): Promise<DeliveryView> {
    const row = await deliveryById(executor, id);
    if (!row) throw appError('resource_not_found', { paramName: 'id', longMessage: `No webhook delivery ${id}` });
    return (await withAttempts(executor, [row]))[0]!;
  }

  /**
   * Re-sends now. A pending delivery has its next attempt brought forward (a failure carries on with the
   * schedule); a finished one gets exactly one more attempt, whose outcome becomes its status.
   */
  async retry(id: string, actor: Actor): Promise<DeliveryView> {
    return this.db.transaction().execute(async (tx) => {
      const row = await lockDelivery(tx, id);
      if (!row) throw appError('resource_not_found', { paramName: 'id', longMessage: `No webhook delivery ${id}` });
      await this.enabledEndpoint(tx, row.endpoint_id);
      const now = this.clock.now();
      if (row.status === 'pending' && row.lease_owner !== null && (row.next_attempt_at ?? 0) > now) {
        throw appError('webhook_delivery_in_progress', {
          longMessage: `Delivery ${id} is being attempted right now; retry once that attempt has finished`,
        });
      }
      await dueByHand(tx, id, now, row.status === 'pending' ? row.auto_retry : 0);
      await recordAudit(tx, this.clock, {
        actor,
        action: 'webhook_delivery.retried',
        target: { type: 'webhook_delivery', id },
        data: { endpoint_id: row.endpoint_id, event_id: row.event_id, previous_status: row.status },
      });
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
      await recordAudit(tx, this.clock, {
        actor,
        action: 'webhook_endpoint.test_sent',
        target: { type: 'webhook_endpoint', id: endpointId },
        data: { event_id: event.id },
      });
      return this.get(deliveryId!, tx);
    });
  }

  private async endpoint(executor: Executor, endpointId: string) {
    const endpoint = await endpointHealth(executor, endpointId);
    if (!endpoint) throw appError('resource_not_found', { paramName: 'id', longMessage: `No webhook endpoint ${endpointId}` });
    return endpoint;
  }

  private async enabledEndpoint(executor: Executor, endpointId: string): Promise<void> {
    const endpoint = await this.endpoint(executor, endpointId);
    if (!endpoint.enabled)
      throw appError('webhook_endpoint_disabled', {
        longMessage: `Webhook endpoint ${endpointId} is disabled; enable it to deliver to it`,
      });
  }
}
