/**
 * What the outcome of a send does to its message: pure functions of the outcome, the row as it is now, the time
 * and this worker, so the dispatcher only claims, sends and records. An outcome is applied only if this worker
 * still holds the row's lease (the row is `sending`, leased to it), so a carrier callback that got there first,
 * or a worker that took over an expired lease, is never undone. Transient failures retry with exponential
 * backoff and jitter (a carrier's Retry-After wins when longer), permanent ones fail at once, a code whose
 * challenge has expired (or will have by the next attempt) is not sent.
 */
import type { Actor, AuditAction } from '../audit/audit-log.js';
import type { SmsDispatchConfig } from '../config.js';
import type { SmsMessageAttemptsTable, SmsMessagesTable } from '../store/schema.js';
import type { CarrierError, SendOutcome, SmsDriver } from './drivers/driver.js';
import { firstStatusCheck } from './status-checks.js';
import { attemptRow, type TrailEntry } from './transitions.js';

export type SendResult = SendOutcome | { kind: 'error'; error: CarrierError } | { kind: 'expired' };

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
}

export type RetryOptions = Pick<SmsDispatchConfig, 'maxAttempts' | 'retryBaseMs' | 'retryMaxMs'>;

/** What an outcome changes: the message's columns, the trail of the change, and whether it is a retry. */
export interface Decision {
  patch: Partial<SmsMessagesTable>;
  trail?: Omit<TrailEntry, 'message'>;
  retry?: boolean;
}

const DISPATCHER_ACTOR: Actor = { type: 'dispatcher', id: null };

/** What `outcome` does to the message as it is now (`row`); null: nothing beyond the attempt record. */
export function decide(outcome: AttemptOutcome, row: SmsMessagesTable, now: number, worker: string, options: RetryOptions, random: () => number): Decision | null {
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

  if (result.kind === 'accepted') {
    const carrier = { carrier_message_id: row.carrier_message_id ?? result.carrierMessageId, carrier_parts: result.parts, sent_at: row.sent_at ?? now };
    const check = { status_check_at: firstStatusCheck(outcome.checkable, now, result.firstCheckAfterMs) };
    if (ours) {
      return {
        patch: { ...done, ...carrier, ...check, status: 'sent', carrier_status: result.carrierStatus, payload: null, error_code: null, error_message: null },
        trail: entry(undefined, { carrier_message_id: result.carrierMessageId }),
      };
    }
    // A callback got here first (the message is already sent or final): keep its status, note the carrier's id.
    if (row.status !== 'sending' && row.status !== 'queued') return { patch: { ...carrier, ...(row.status === 'sent' ? check : {}), payload: null, updated_at: now } };
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
        patch: { ...finished, status: 'expired', error_code: 'expired', error_message: 'the verification code expired before the message could be sent' },
        trail: entry(),
      };
    case 'error': {
      const { error } = result;
      const failure = { error_code: error.code, error_message: error.message };
      if (error.code === 'aborted') {
        return { patch: { ...done, ...failure, status: 'queued', next_attempt_at: now }, trail: entry('sms.released', {}, false) };
      }
      if (error.kind === 'transient' && row.attempts < options.maxAttempts) {
        const retryAt = now + Math.max(backoff(row.attempts, options, random), error.retryAfterMs ?? 0);
        if (row.expires_at !== null && retryAt >= row.expires_at) {
          return { patch: { ...finished, status: 'expired', ...failure }, trail: entry(undefined, { reason: 'the code expires before the next attempt' }) };
        }
        return { patch: { ...done, ...failure, status: 'queued', next_attempt_at: retryAt }, trail: entry('sms.retry_scheduled', { retry_at: retryAt }, false), retry: true };
      }
      return { patch: { ...finished, ...failure, status: 'failed' }, trail: entry(undefined, { final_attempt: error.kind === 'transient' }) };
    }
  }
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
      return attemptRow(claimed, driver, worker, startedAt, finishedAt, 'accepted', null, result.carrierMessageId, result.httpStatus, result.price ?? null);
    case 'error':
      return attemptRow(claimed, driver, worker, startedAt, finishedAt, result.error.code === 'aborted' ? 'released' : `${result.error.kind}_error`, result.error, null);
    default:
      return attemptRow(claimed, driver, worker, startedAt, finishedAt, result.kind, null, null);
  }
}
