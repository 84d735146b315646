/**
 * How a message moves between statuses, and the trail each move leaves: a status-history row, an event for
 * webhooks and an audit entry, all in the transaction that changes the message. The rules are order-safe:
 * a status only moves forward (queued → sending → sent → terminal), so a late or repeated report never
 * undoes a later one, and a terminal status is final.
 */
import type { Clock } from '../clock.js';
import { newId } from '../ids.js';
import { auditRow, eventAuditData, type Actor, type AuditAction } from '../audit/audit-log.js';
import { recordEvents, type EventInput } from '../webhooks/events.js';
import type { EventType } from '../webhooks/catalogue.js';
import type { Executor, Tx } from '../store/database.js';
import { rowsInsert, rowsUpdate, type ChangeWrite } from '../store/writes.js';
import type { AuditLogsTable, SmsMessageAttemptsTable, SmsMessagesTable, SmsMessageStatusesTable } from '../store/schema.js';
import type { CarrierError, CarrierPrice } from './drivers/driver.js';
import { countryLabel, type SmsMetrics } from './metrics.js';

import { TERMINAL_STATUSES, type SmsStatus } from './statuses.js';

export { SMS_STATUSES, TERMINAL_STATUSES, type SmsStatus } from './statuses.js';

const RANK: Record<SmsStatus, number> = {
  queued: 0,
  sending: 1,
  sent: 2,
  delivered: 3,
  failed: 3,
  undelivered: 3,
  dropped: 3,
  test_noop: 3,
  operator: 3,
  expired: 3,
};

export function isTerminal(status: string): boolean {
  return TERMINAL_STATUSES.has(status as SmsStatus);
}

/** Whether a message in `current` may move to `next`: forward only, and never out of a terminal status. */
export function canAdvance(current: string, next: SmsStatus): boolean {
  return !isTerminal(current) && RANK[next] > RANK[current as SmsStatus];
}

/** The event each status fires (none for the quiet ones: a null-driver drop is an audit entry only). */
const EVENT_OF: Partial<Record<SmsStatus, EventType>> = {
  sent: 'sms.sent',
  delivered: 'sms.delivered',
  failed: 'sms.failed',
  undelivered: 'sms.failed',
  expired: 'sms.failed',
};

/** The delivery-outcome counter of each final carrier status. */
const OUTCOME_METRIC: Partial<Record<SmsStatus, 'delivered' | 'undelivered' | 'failed'>> = {
  delivered: 'delivered',
  undelivered: 'undelivered',
  failed: 'failed',
};

/** The message as events describe it (never the body: it may hold a live code). */
export function messageEventData(row: SmsMessagesTable): Record<string, unknown> {
  return {
    id: row.id,
    object: 'sms_message',
    template: row.template,
    to_phone_number: row.to_number,
    from_phone_number: row.from_number,
    delivered_by_us: row.delivered_by_us === 1,
    status: row.status,
    driver: row.driver,
    carrier_message_id: row.carrier_message_id,
    error_code: row.error_code,
    error_message: row.error_message,
  };
}

export interface TrailEntry {
  /** The message after the change (or as it stays, when `applied` is false). */
  message: SmsMessagesTable;
  applied: boolean;
  source: 'engine' | 'dispatcher' | 'twilio' | 'vonage';
  actor: Actor;
  /** Audit action; defaults to `sms.<status>`. */
  action?: AuditAction;
  auditData?: Record<string, unknown>;
  carrier?: { status: string; messageId: string | null; dedupeKey: string };
  /** false: record history and audit, but no event (a retry being scheduled is not news for webhooks). */
  event?: boolean;
  /** The event fired instead of the status's own, with `eventData` added to the message's (a failover). */
  eventType?: EventType;
  eventData?: Record<string, unknown>;
}

/**
 * Collects the trail of many changes and writes it in a few multi-row statements: the dispatcher records a
 * whole batch of outcomes in one transaction. Metrics are counted only once the transaction has committed.
 */
export class Trail {
  private readonly history: SmsMessageStatusesTable[] = [];
  private readonly audits: AuditLogsTable[] = [];
  private readonly events: EventInput[] = [];
  private readonly counted: SmsMessagesTable[] = [];

  constructor(private readonly clock: Clock) {}

  add(entry: TrailEntry): void {
    const { message } = entry;
    const now = this.clock.now();
    this.history.push({
      id: newId('mst', now),
      message_id: message.id,
      created_at: now,
      status: message.status,
      source: entry.source,
      carrier_status: entry.carrier?.status ?? null,
      carrier_message_id: entry.carrier?.messageId ?? null,
      error_code: entry.applied ? message.error_code : null,
      error_message: entry.applied ? message.error_message : null,
      applied: entry.applied ? 1 : 0,
      dedupe_key: entry.carrier?.dedupeKey ?? null,
    });
    if (!entry.applied) return;
    const type = entry.event === false ? undefined : (entry.eventType ?? EVENT_OF[message.status]);
    const details = {
      status: message.status,
      ...(message.error_code ? { error_code: message.error_code, error_message: message.error_message } : {}),
      ...entry.auditData,
    };
    const event = type ? { type, data: { ...messageEventData(message), ...entry.eventData } } : null;
    this.audits.push(
      auditRow(this.clock, {
        actor: entry.actor,
        action: entry.action ?? `sms.${message.status as SmsStatus}`,
        target: { type: 'sms_message', id: message.id },
        // An entry that comes with an event carries the event's data (undelivered and expired fire sms.failed).
        data: event ? eventAuditData(event.type, event.data, details) : details,
      }),
    );
    if (event) this.events.push(event);
    this.counted.push(message);
  }

  /**
   * Writes the trail together with `change` (the writes of the changes it records) and `events` (fired before the
   * trail's own): one statement on PostgreSQL.
   */
  async write(tx: Tx, change: readonly ChangeWrite[], events: readonly EventInput[] = []): Promise<void> {
    const writes = [...change, ...rowsInsert(tx, 'sms_message_statuses', this.history), ...rowsInsert(tx, 'audit_logs', this.audits)];
    await recordEvents(tx, this.clock, [...events, ...this.events], writes);
  }

  /** After commit. */
  count(metrics: SmsMetrics): void {
    for (const message of this.counted) {
      const driver = message.driver ?? 'null';
      metrics.messages.inc({ driver, status: message.status });
      const outcome = OUTCOME_METRIC[message.status as SmsStatus];
      if (outcome) metrics[outcome].inc({ driver, country: countryLabel(message.country) });
      if (message.status === 'delivered' && message.sent_at !== null && message.completed_at !== null) {
        metrics.timeToDelivery.observe({ driver }, Math.max(0, message.completed_at - message.sent_at) / 1000);
      }
    }
  }
}

/** The record of one attempt to hand a message to its driver (the message log's `attempts`). */
export function attemptRow(
  row: SmsMessagesTable,
  driver: string,
  worker: string,
  startedAt: number,
  finishedAt: number,
  outcome: string,
  error: CarrierError | null,
  carrierMessageId: string | null,
  httpStatus: number | null = error?.httpStatus ?? null,
  price: CarrierPrice | null = null,
): SmsMessageAttemptsTable {
  return {
    id: newId('att', finishedAt),
    message_id: row.id,
    attempt: row.attempts,
    driver,
    worker,
    started_at: startedAt,
    finished_at: finishedAt,
    outcome,
    carrier_message_id: carrierMessageId,
    http_status: httpStatus,
    error_code: error?.code ?? null,
    error_message: error?.message ?? null,
    price_nanos: price?.nanos ?? null,
    price_currency: price?.currency ?? null,
  };
}

/** The columns a status change may touch; the rest of a message never changes after it is queued. */
const MUTABLE = [
  'status',
  'updated_at',
  'attempts',
  'next_attempt_at',
  'lease_owner',
  'lease_expires_at',
  'carrier_message_id',
  'carrier_status',
  'carrier_parts',
  'error_code',
  'error_message',
  'payload',
  'driver',
  'sent_at',
  'completed_at',
  'status_check_at',
  'failover_from',
  'failover_reason',
  'failed_over_at',
  'failover_attempt',
  'receipt_wait_until',
] as const satisfies readonly (keyof SmsMessagesTable)[];

/** The writes that store the new state of several messages (batched as `store/writes.ts` says). */
export function messageUpdates(executor: Executor, rows: readonly SmsMessagesTable[]): ChangeWrite[] {
  const changes = rows.map((row) => {
    const change: Partial<SmsMessagesTable> & { id: string } = { id: row.id };
    for (const column of MUTABLE) (change as Record<string, unknown>)[column] = row[column];
    return change;
  });
  return rowsUpdate(executor, 'sms_messages', MUTABLE, changes);
}
