/**
 * What the outcome of a send does to its message: pure functions of the outcome, the row as it is now, the time
 * and this worker, so the dispatcher only claims, sends and records. An outcome is applied only if this worker
 * still holds the row's lease (the row is `sending`, leased to it), so a carrier callback that got there first,
 * or a worker that took over an expired lease, is never undone. Transient failures retry with exponential
 * backoff and jitter (a carrier's Retry-After wins when longer), permanent ones fail at once, a code whose
 * challenge has expired (or will have by the next attempt) is not sent.
 *
 * Failover: a message moves once, to its route's second driver — the same row, the same sealed body — when the
 * first driver refuses it for a reason another carrier may not share (`failsOver`), fails transiently
 * `after_transient_failures` times, accepts it but sends no final receipt within the receipt wait (the wait is
 * kept only when it ends before the code expires), or accepts it and reports later that it refused it
 * (`afterFailureReport`). So an accepted message that can still move keeps its sealed body until its final receipt,
 * the end of its receipt wait, or else the end of its code's life (`receipt_wait_until`, which then never moves it).
 */
import type { Actor, AuditAction } from '../audit/audit-log.js';
import type { SmsDispatchConfig } from '../config.js';
import type { SmsMessageAttemptsTable, SmsMessagesTable } from '../store/schema.js';
import type { SmsDriverName } from '../instance/settings.js';
import type { CarrierError, SendOutcome, SmsDriver } from './drivers/driver.js';
import { failsOver, failureClass } from './failures.js';
import type { FailoverReason } from './statuses.js';
import { firstStatusCheck } from './status-check-times.js';
import { attemptRow, type TrailEntry } from './transitions.js';

export type SendResult = SendOutcome | { kind: 'error'; error: CarrierError } | { kind: 'expired' };

/** Why a message moved to its failover driver. */

/** Where a message may move if its first driver fails it, from its route when it was sent. */
export interface FailoverPlan {
  /** The second driver; null: none (or the message has moved already). */
  to: SmsDriverName | null;
  afterTransientFailures: number;
  /** How long an accepted message waits for a final receipt before it moves; null: it does not wait. */
  receiptWaitMs: number | null;
}

export const NO_FAILOVER: FailoverPlan = { to: null, afterTransientFailures: 0, receiptWaitMs: null };

/** One attempt's outcome, as the dispatcher records it. */
export interface AttemptOutcome {
  /** The row as this worker claimed it. */
  claimed: SmsMessagesTable;
  driver: SmsDriver['name'];
  /** The carrier can be asked for the message's status later (see status-checks.ts). */
  checkable: boolean;
  startedAt: number;
  finishedAt: number;
  result: SendResult;
  /** The body sent, kept only when the null driver echoes a verification code. */
  echoedBody: string | null;
  failover: FailoverPlan;
}

export type RetryOptions = Pick<SmsDispatchConfig, 'maxAttempts' | 'retryBaseMs' | 'retryMaxMs'>;

/** What an outcome changes: the message's columns, the trail of the change, and whether it is a retry. */
export interface Decision {
  patch: Partial<SmsMessagesTable>;
  trail?: Omit<TrailEntry, 'message'>;
  retry?: boolean;
  /** The message moved to its failover driver. */
  failover?: { from: string; to: SmsDriverName; reason: FailoverReason };
}

const DISPATCHER_ACTOR: Actor = { type: 'dispatcher', id: null };

/** What `outcome` does to the message as it is now (`row`); null: nothing beyond the attempt record. */
export function decide(
  outcome: AttemptOutcome,
  row: SmsMessagesTable,
  now: number,
  worker: string,
  options: RetryOptions,
  random: () => number,
): Decision | null {
  const ours = row.status === 'sending' && row.lease_owner === worker;
  const { result } = outcome;
  const done = { lease_owner: null, lease_expires_at: null, next_attempt_at: null, updated_at: now, driver: outcome.driver };
  const finished = { ...done, payload: null, completed_at: now };
  const entry = (action?: AuditAction, auditData?: Record<string, unknown>, event?: boolean): Omit<TrailEntry, 'message'> => ({
    applied: true,
    source: 'dispatcher',
    actor: DISPATCHER_ACTOR,
    action,
    auditData: { attempt: outcome.claimed.attempts, ...auditData },
    event,
  });

  const failoverTo = row.failover_from === null ? outcome.failover.to : null;
  if (result.kind === 'accepted') {
    const carrier = {
      carrier_message_id: row.carrier_message_id ?? result.carrierMessageId,
      carrier_parts: result.parts,
      sent_at: row.sent_at ?? now,
    };
    const waitUntil = keepBodyUntil(row, failoverTo, outcome.failover.receiptWaitMs, now);
    const wait = waitUntil !== null ? { receipt_wait_until: waitUntil } : { receipt_wait_until: null, payload: null };
    const check = { status_check_at: firstStatusCheck(outcome.checkable, now, result.firstCheckAfterMs) };
    if (ours) {
      return {
        patch: {
          ...done,
          ...carrier,
          ...check,
          status: 'sent',
          carrier_status: result.carrierStatus,
          ...wait,
          error_code: null,
          error_message: null,
        },
        trail: entry(undefined, { carrier_message_id: result.carrierMessageId }),
      };
    }
    // A callback got here first (the message is already sent or final): keep its status, note the carrier's id.
    if (row.status === 'sent') return { patch: { ...carrier, ...check, ...wait, updated_at: now } };
    if (row.status !== 'sending' && row.status !== 'queued') return { patch: { ...carrier, payload: null, updated_at: now } };
    return null;
  }
  if (!ours) return null;
  switch (result.kind) {
    case 'dropped':
      return {
        patch: { ...finished, status: 'dropped' },
        trail: entry('sms.dropped', { driver: 'null', ...(outcome.echoedBody !== null ? { body: outcome.echoedBody } : {}) }),
      };
    case 'expired':
      return {
        patch: {
          ...finished,
          status: 'expired',
          error_code: 'expired',
          error_message: 'the verification code expired before the message could be sent',
        },
        trail: entry(),
      };
    case 'error': {
      const { error } = result;
      const failure = { error_code: error.code, error_message: error.message };
      if (error.code === 'aborted') {
        return { patch: { ...done, ...failure, status: 'queued', next_attempt_at: now }, trail: entry('sms.released', {}, false) };
      }
      if (failoverTo !== null && error.kind === 'permanent' && failsOver(failureClass(outcome.driver, 'send', error.code))) {
        return moveToFailover(row, failoverTo, 'carrier_refused', now, failure);
      }
      if (failoverTo !== null && error.kind === 'transient' && row.attempts >= outcome.failover.afterTransientFailures) {
        return moveToFailover(row, failoverTo, 'transient_failures', now, failure);
      }
      // After a move, the second driver's attempts count from the move.
      if (error.kind === 'transient' && row.attempts - (row.failover_attempt ?? 0) < options.maxAttempts) {
        const retryAt = now + Math.max(backoff(row.attempts, options, random), error.retryAfterMs ?? 0);
        if (row.expires_at !== null && retryAt >= row.expires_at) {
          return {
            patch: { ...finished, status: 'expired', ...failure },
            trail: entry(undefined, { reason: 'the code expires before the next attempt' }),
          };
        }
        return {
          patch: { ...done, ...failure, status: 'queued', next_attempt_at: retryAt },
          trail: entry('sms.retry_scheduled', { retry_at: retryAt }, false),
          retry: true,
        };
      }
      return {
        patch: { ...finished, ...failure, status: 'failed' },
        trail: entry(undefined, { final_attempt: error.kind === 'transient' }),
      };
    }
  }
}

/**
 * The move of `row` to its failover driver `to`: queued again at once, the first driver's error kept for the
 * history entry, its carrier id, receipt wait and status check cleared (a late receipt from it changes nothing).
 */
export function moveToFailover(
  row: SmsMessagesTable,
  to: SmsDriverName,
  reason: FailoverReason,
  now: number,
  failure: { error_code: string; error_message: string },
): Decision {
  const from = row.driver ?? 'null';
  const failover = { from, to, reason };
  return {
    patch: {
      status: 'queued',
      driver: to,
      failover_from: from,
      failover_reason: reason,
      failed_over_at: now,
      failover_attempt: row.attempts,
      next_attempt_at: now,
      lease_owner: null,
      lease_expires_at: null,
      updated_at: now,
      carrier_message_id: null,
      carrier_status: null,
      carrier_parts: null,
      sent_at: null,
      status_check_at: null,
      receipt_wait_until: null,
      ...failure,
    },
    trail: {
      applied: true,
      source: 'dispatcher',
      actor: DISPATCHER_ACTOR,
      action: 'sms.failover',
      auditData: { attempt: row.attempts },
      eventType: 'sms.failover',
      eventData: { failover },
    },
    failover,
  };
}

/**
 * Until when an accepted message waits for its final receipt with its sealed body, able to move (null: it cannot
 * move, its body goes now): the end of the receipt wait when that comes before the code expires, else the code's
 * expiry (a later failure report can still move it until then; the end of that wait never does, the code being
 * expired). A message without an expiry keeps its body only for a receipt wait.
 */
function keepBodyUntil(row: SmsMessagesTable, failoverTo: SmsDriverName | null, receiptWaitMs: number | null, now: number): number | null {
  if (failoverTo === null) return null;
  const waitUntil = receiptWaitMs === null ? null : now + receiptWaitMs;
  if (row.expires_at === null) return waitUntil;
  return waitUntil !== null && waitUntil < row.expires_at ? waitUntil : row.expires_at;
}

/** A carrier's later report that it did not deliver a message, as far as failover cares. */
export interface FailureReport {
  source: SmsDriverName;
  errorCode: string;
  errorMessage: string | null;
}

/**
 * A failure its carrier reports after accepting a message (a receipt or a status check): the message moves to `to`
 * (its route's failover driver) as a refusal at send would, if the failure is one another carrier may not share,
 * the reporting carrier is the message's first, it has not moved, still waits for its receipt (`keepBodyUntil`) and its code has not
 * expired. Null: the report applies as it is (the message ends there).
 */
export function afterFailureReport(row: SmsMessagesTable, report: FailureReport, to: SmsDriverName | null, now: number): Decision | null {
  const movable =
    row.failover_from === null && row.driver === report.source && to !== null && to !== row.driver && row.receipt_wait_until !== null;
  if (!movable || (row.expires_at !== null && now >= row.expires_at)) return null;
  if (!failsOver(failureClass(report.source, 'receipt', report.errorCode))) return null;
  return moveToFailover(row, to, 'carrier_refused', now, {
    error_code: report.errorCode,
    error_message: report.errorMessage ?? report.errorCode,
  });
}

/**
 * A message whose receipt wait is over: it moves to `to` (its route's failover driver now) if it is still only
 * `sent`, has not moved, and its code has not expired; otherwise it stops waiting, and its sealed body goes.
 */
export function afterReceiptWait(row: SmsMessagesTable, to: SmsDriverName | null, now: number): Decision {
  if (
    row.status === 'sent' &&
    row.failover_from === null &&
    to !== null &&
    to !== row.driver &&
    (row.expires_at === null || now < row.expires_at)
  ) {
    return moveToFailover(row, to, 'no_receipt', now, {
      error_code: 'no_receipt',
      error_message: `no delivery receipt from ${row.driver} within the receipt wait`,
    });
  }
  return { patch: { receipt_wait_until: null, payload: null, updated_at: now } };
}

/**
 * The delay before the attempt after `attempt` failed: exponential, capped at `retryMaxMs`, with jitter — half of
 * the doubled delay is fixed, the other half random (`random` in [0, 1)).
 */
export function backoff(attempt: number, options: Pick<RetryOptions, 'retryBaseMs' | 'retryMaxMs'>, random: () => number): number {
  const ceiling = Math.min(options.retryMaxMs, options.retryBaseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** The record of an attempt's outcome, made by `worker`. */
export function outcomeAttemptRow(outcome: AttemptOutcome, worker: string): SmsMessageAttemptsTable {
  const { claimed, driver, startedAt, finishedAt, result } = outcome;
  switch (result.kind) {
    case 'accepted':
      return attemptRow(
        claimed,
        driver,
        worker,
        startedAt,
        finishedAt,
        'accepted',
        null,
        result.carrierMessageId,
        result.httpStatus,
        result.price ?? null,
      );
    case 'error':
      return attemptRow(
        claimed,
        driver,
        worker,
        startedAt,
        finishedAt,
        result.error.code === 'aborted' ? 'released' : `${result.error.kind}_error`,
        result.error,
        null,
      );
    default:
      return attemptRow(claimed, driver, worker, startedAt, finishedAt, result.kind, null, null);
  }
}
