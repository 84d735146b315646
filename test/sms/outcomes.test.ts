import { describe, expect, it } from 'vitest';
import type { SmsMessagesTable } from '../../src/store/schema.js';
import {
  NO_FAILOVER,
  afterFailureReport,
  afterReceiptWait,
  backoff,
  decide,
  type AttemptOutcome,
  type FailoverPlan,
  type SendResult,
} from '../../src/sms/outcomes.js';
import { FIRST_CHECK_AFTER_MS } from '../../src/sms/status-check-times.js';
import { permanent, transient } from '../../src/sms/drivers/driver.js';

const WORKER = 'host:1:aaaaaa';
const NOW = 1_800_000_000_000;
const OPTIONS = { maxAttempts: 5, retryBaseMs: 1_000, retryMaxMs: 60_000 };
const middle = () => 0.5;

/** A message as this worker claimed it for its `attempts`-th attempt. */
function claimedRow(patch: Partial<SmsMessagesTable> = {}): SmsMessagesTable {
  return {
    id: 'msg_1',
    created_at: NOW - 5_000,
    updated_at: NOW - 1_000,
    template: 'verification_code',
    to_number: '+14155550123',
    from_number: '+14155550100',
    messaging_service_sid: null,
    body: 'Your code is ******',
    encoding: 'GSM-7',
    segments: 1,
    status: 'sending',
    driver: 'twilio',
    test_number: 0,
    delivered_by_us: 1,
    challenge_id: 'chl_1',
    expires_at: NOW + 600_000,
    attempts: 1,
    next_attempt_at: NOW + 30_000,
    lease_owner: WORKER,
    lease_expires_at: NOW + 30_000,
    carrier_message_id: null,
    error_code: null,
    error_message: null,
    payload: 'sealed',
    carrier_status: null,
    carrier_parts: null,
    sent_at: null,
    completed_at: null,
    status_check_at: null,
    country: 'US',
    failover_from: null,
    failover_reason: null,
    failed_over_at: null,
    failover_attempt: null,
    receipt_wait_until: null,
    ...patch,
  };
}

function outcomeOf(result: SendResult, claimed = claimedRow()): AttemptOutcome {
  return {
    claimed,
    driver: 'twilio',
    checkable: true,
    startedAt: NOW - 200,
    finishedAt: NOW - 10,
    result,
    echoedBody: null,
    failover: NO_FAILOVER,
  };
}

const accepted: SendResult = { kind: 'accepted', carrierMessageId: 'SM1', carrierStatus: 'queued', parts: 1, httpStatus: 201 };
/** What this worker decides now, with the backoff's jitter at its middle. */
const decideNow = (outcome: AttemptOutcome, row = claimedRow()) => decide(outcome, row, NOW, WORKER, OPTIONS, middle);

const released = { lease_owner: null, lease_expires_at: null, next_attempt_at: null, updated_at: NOW, driver: 'twilio' };

describe('decide', () => {
  it('marks a message this worker holds sent when the carrier accepts it, and plans its status check', () => {
    const decision = decideNow(outcomeOf(accepted));
    expect(decision).toEqual({
      patch: {
        ...released,
        status: 'sent',
        carrier_message_id: 'SM1',
        carrier_parts: 1,
        carrier_status: 'queued',
        sent_at: NOW,
        status_check_at: NOW + FIRST_CHECK_AFTER_MS,
        payload: null,
        receipt_wait_until: null,
        error_code: null,
        error_message: null,
      },
      trail: {
        applied: true,
        source: 'dispatcher',
        actor: { type: 'dispatcher', id: null },
        action: undefined,
        auditData: { attempt: 1, carrier_message_id: 'SM1' },
        event: undefined,
      },
    });
  });

  it('keeps the status a callback set first, noting the carrier id and dropping the payload', () => {
    const delivered = claimedRow({
      status: 'delivered',
      lease_owner: null,
      carrier_message_id: null,
      sent_at: NOW - 50,
      payload: null,
      completed_at: NOW - 50,
    });
    expect(decideNow(outcomeOf(accepted), delivered)).toEqual({
      patch: { carrier_message_id: 'SM1', carrier_parts: 1, sent_at: NOW - 50, payload: null, updated_at: NOW },
    });
    // Still `sent` (a `sent` callback came first): the status check is planned too.
    const sent = claimedRow({ status: 'sent', lease_owner: null, carrier_message_id: 'SM1', sent_at: NOW - 50 });
    expect(decideNow(outcomeOf(accepted), sent)?.patch).toMatchObject({
      status_check_at: NOW + FIRST_CHECK_AFTER_MS,
    });
    expect(decideNow(outcomeOf(accepted), sent)?.patch.status).toBeUndefined();
  });

  it('changes nothing when another worker holds the message', () => {
    const taken = claimedRow({ lease_owner: 'other:2:bbbbbb', attempts: 2 });
    expect(decideNow(outcomeOf(accepted), taken)).toBeNull();
    expect(decideNow(outcomeOf({ kind: 'error', error: permanent('21211', 'invalid number') }), taken)).toBeNull();
    expect(decideNow(outcomeOf({ kind: 'dropped' }), claimedRow({ status: 'queued', lease_owner: null }))).toBeNull();
  });

  it('records a drop (null driver), echoing a verification code only when one was kept', () => {
    const outcome = { ...outcomeOf({ kind: 'dropped' }), echoedBody: 'Your code is 123456' };
    const decision = decideNow(outcome, claimedRow());
    expect(decision?.patch).toEqual({ ...released, payload: null, completed_at: NOW, status: 'dropped' });
    expect(decision?.trail).toMatchObject({
      action: 'sms.dropped',
      auditData: { attempt: 1, driver: 'null', body: 'Your code is 123456' },
    });
    expect(decideNow(outcomeOf({ kind: 'dropped' }))?.trail?.auditData).toEqual({
      attempt: 1,
      driver: 'null',
    });
  });

  it('expires a code that outlived its challenge before it was sent', () => {
    expect(decideNow(outcomeOf({ kind: 'expired' }))?.patch).toEqual({
      ...released,
      payload: null,
      completed_at: NOW,
      status: 'expired',
      error_code: 'expired',
      error_message: 'the verification code expired before the message could be sent',
    });
  });

  it('releases an aborted send to be claimed again at once, without an event', () => {
    const decision = decideNow(outcomeOf({ kind: 'error', error: transient('aborted', 'shutting down') }));
    expect(decision?.patch).toEqual({
      ...released,
      status: 'queued',
      next_attempt_at: NOW,
      error_code: 'aborted',
      error_message: 'shutting down',
    });
    expect(decision?.trail).toMatchObject({ action: 'sms.released', event: false });
    expect(decision?.retry).toBeUndefined();
  });

  it('schedules a transient failure again after the backoff, keeping the payload', () => {
    const decision = decideNow(outcomeOf({ kind: 'error', error: transient('http_503', 'unavailable', 503) }), claimedRow({ attempts: 3 }));
    // Third attempt: a ceiling of 4 s, half fixed, half jitter (0.5 of it).
    expect(decision?.patch).toEqual({
      ...released,
      status: 'queued',
      next_attempt_at: NOW + 3_000,
      error_code: 'http_503',
      error_message: 'unavailable',
    });
    expect(decision?.patch).not.toHaveProperty('payload');
    expect(decision?.trail).toMatchObject({
      action: 'sms.retry_scheduled',
      auditData: { attempt: 1, retry_at: NOW + 3_000 },
      event: false,
    });
    expect(decision?.retry).toBe(true);
  });

  it("waits for the carrier's Retry-After when it is longer than the backoff, and not when it is shorter", () => {
    const retryAt = (ms: number) =>
      decideNow(outcomeOf({ kind: 'error', error: transient('http_429', 'slow down', 429, ms) }))?.patch.next_attempt_at;
    expect(retryAt(20_000)).toBe(NOW + 20_000);
    expect(retryAt(100)).toBe(NOW + 750);
  });

  it('fails a transient failure on the last attempt', () => {
    const decision = decideNow(
      outcomeOf({ kind: 'error', error: transient('timeout', 'no answer') }),
      claimedRow({ attempts: OPTIONS.maxAttempts }),
    );
    expect(decision?.patch).toEqual({
      ...released,
      payload: null,
      completed_at: NOW,
      status: 'failed',
      error_code: 'timeout',
      error_message: 'no answer',
    });
    expect(decision?.trail?.auditData).toEqual({ attempt: 1, final_attempt: true });
    expect(decision?.retry).toBeUndefined();
  });

  it('fails a permanent failure at once', () => {
    const decision = decideNow(outcomeOf({ kind: 'error', error: permanent('21211', 'invalid number', 400) }));
    expect(decision?.patch).toMatchObject({
      status: 'failed',
      error_code: '21211',
      payload: null,
      completed_at: NOW,
      next_attempt_at: null,
    });
    expect(decision?.trail?.auditData).toEqual({ attempt: 1, final_attempt: false });
  });

  it('expires a code whose next attempt would come after it expires', () => {
    const late = claimedRow({ attempts: 2, expires_at: NOW + 1_500 });
    const decision = decideNow(outcomeOf({ kind: 'error', error: transient('timeout', 'no answer') }), late);
    expect(decision?.patch).toMatchObject({ status: 'expired', error_code: 'timeout', payload: null, completed_at: NOW });
    expect(decision?.trail?.auditData).toEqual({ attempt: 1, reason: 'the code expires before the next attempt' });
    // The same failure with time to spare is retried.
    expect(
      decideNow(outcomeOf({ kind: 'error', error: transient('timeout', 'no answer') }), { ...late, expires_at: NOW + 60_000 })?.patch
        .status,
    ).toBe('queued');
  });
});

describe('failover', () => {
  const plan: FailoverPlan = { to: 'vonage', afterTransientFailures: 2, receiptWaitMs: 60_000 };
  const withPlan = (result: SendResult, claimed = claimedRow()) => ({ ...outcomeOf(result, claimed), failover: plan });
  const moved = {
    status: 'queued',
    driver: 'vonage',
    failover_from: 'twilio',
    failed_over_at: NOW,
    next_attempt_at: NOW,
    lease_owner: null,
    carrier_message_id: null,
    receipt_wait_until: null,
  };

  it('moves a message its first driver refuses for a reason another carrier may not share, keeping the body', () => {
    const decision = decideNow(withPlan({ kind: 'error', error: permanent('21408', 'region not permitted', 400) }));
    expect(decision?.patch).toMatchObject({ ...moved, failover_reason: 'carrier_refused', failover_attempt: 1, error_code: '21408' });
    expect(decision?.patch).not.toHaveProperty('payload');
    expect(decision?.failover).toEqual({ from: 'twilio', to: 'vonage', reason: 'carrier_refused' });
    expect(decision?.trail).toMatchObject({
      action: 'sms.failover',
      eventType: 'sms.failover',
      eventData: { failover: { from: 'twilio', to: 'vonage', reason: 'carrier_refused' } },
    });
  });

  it('never moves an invalid or opted-out number, nor a message that has moved once', () => {
    for (const code of ['21211', '21610']) {
      expect(decideNow(withPlan({ kind: 'error', error: permanent(code, 'no', 400) }))?.patch.status).toBe('failed');
    }
    const second = claimedRow({ driver: 'vonage', failover_from: 'twilio', failover_attempt: 1, attempts: 2 });
    expect(decideNow(withPlan({ kind: 'error', error: permanent('29', 'not permitted') }), second)?.patch.status).toBe('failed');
  });

  it('moves after afterTransientFailures transient failures; the second driver then has its own retries', () => {
    const transientError: SendResult = { kind: 'error', error: transient('http_503', 'unavailable', 503) };
    expect(decideNow(withPlan(transientError), claimedRow({ attempts: 1 }))?.patch.status).toBe('queued');
    expect(decideNow(withPlan(transientError), claimedRow({ attempts: 1 }))?.failover).toBeUndefined();
    expect(decideNow(withPlan(transientError), claimedRow({ attempts: 2 }))?.failover).toEqual({
      from: 'twilio',
      to: 'vonage',
      reason: 'transient_failures',
    });
    expect(decideNow(withPlan(transientError), claimedRow({ attempts: 2 }))?.patch.failover_reason).toBe('transient_failures');
    const second = claimedRow({ driver: 'vonage', failover_from: 'twilio', failover_attempt: 2, attempts: 2 + OPTIONS.maxAttempts - 1 });
    expect(decideNow(withPlan(transientError), second)?.retry).toBe(true);
    expect(decideNow(withPlan(transientError), { ...second, attempts: 2 + OPTIONS.maxAttempts })?.patch.status).toBe('failed');
  });

  it('waits for a receipt, keeping the body, until the wait ends, or else until the code expires', () => {
    const waiting = decideNow(withPlan(accepted), claimedRow());
    expect(waiting?.patch).toMatchObject({ status: 'sent', receipt_wait_until: NOW + 60_000 });
    expect(waiting?.patch).not.toHaveProperty('payload');
    // The wait would end after the code: the body stays while the code lives (a failure report may still move it).
    const tooLate = decideNow(withPlan(accepted), claimedRow({ expires_at: NOW + 60_000 }));
    expect(tooLate?.patch).toMatchObject({ status: 'sent', receipt_wait_until: NOW + 60_000 });
    expect(tooLate?.patch).not.toHaveProperty('payload');
    const noWait = { ...withPlan(accepted), failover: { ...plan, receiptWaitMs: null } };
    expect(decideNow(noWait, claimedRow({ expires_at: NOW + 600_000 }))?.patch).toMatchObject({
      receipt_wait_until: NOW + 600_000,
    });
    // No code, no wait: nothing bounds the keeping, so the body goes.
    expect(decideNow(noWait, claimedRow({ expires_at: null }))?.patch).toMatchObject({
      receipt_wait_until: null,
      payload: null,
    });
    // Nowhere to move: the body goes at once.
    expect(decideNow(outcomeOf(accepted), claimedRow({ expires_at: NOW + 600_000 }))?.patch).toMatchObject({
      receipt_wait_until: null,
      payload: null,
    });
    // The end of a wait at the code's expiry never moves the message.
    const sent = claimedRow({ status: 'sent', lease_owner: null, expires_at: NOW, receipt_wait_until: NOW });
    expect(afterReceiptWait(sent, 'vonage', NOW).failover).toBeUndefined();
  });

  it('moves a message whose first carrier reports later a refusal another carrier may not share', () => {
    const sent = claimedRow({
      status: 'sent',
      lease_owner: null,
      carrier_message_id: 'SM1',
      expires_at: NOW + 600_000,
      receipt_wait_until: NOW + 600_000,
    });
    const filtered = { source: 'twilio', errorCode: '30007', errorMessage: 'filtered' } as const;
    const decision = afterFailureReport(sent, filtered, 'vonage', NOW);
    expect(decision).toMatchObject({
      patch: { ...moved, failover_reason: 'carrier_refused', error_code: '30007', error_message: 'filtered' },
      failover: { from: 'twilio', to: 'vonage', reason: 'carrier_refused' },
    });
    expect(afterFailureReport(sent, { source: 'vonage', errorCode: '6', errorMessage: null }, 'twilio', NOW)).toBeNull();
    expect(
      afterFailureReport({ ...sent, driver: 'vonage' }, { source: 'vonage', errorCode: '6', errorMessage: null }, 'twilio', NOW)?.failover,
    ).toEqual({ from: 'vonage', to: 'twilio', reason: 'carrier_refused' });
    // Unreachable, invalid, opted out: no carrier would do better.
    for (const errorCode of ['30003', '30005', '21610'])
      expect(afterFailureReport(sent, { ...filtered, errorCode }, 'vonage', NOW)).toBeNull();
    // No failover driver, moved already, no longer waiting (body gone), code expired.
    expect(afterFailureReport(sent, filtered, null, NOW)).toBeNull();
    expect(afterFailureReport({ ...sent, failover_from: 'vonage' }, filtered, 'vonage', NOW)).toBeNull();
    expect(afterFailureReport({ ...sent, receipt_wait_until: null }, filtered, 'vonage', NOW)).toBeNull();
    expect(afterFailureReport({ ...sent, expires_at: NOW }, filtered, 'vonage', NOW)).toBeNull();
  });

  it('after the wait, moves a message still sent, and otherwise only stops waiting', () => {
    const sent = claimedRow({ status: 'sent', lease_owner: null, carrier_message_id: 'SM1', receipt_wait_until: NOW });
    expect(afterReceiptWait(sent, 'vonage', NOW)).toMatchObject({
      patch: { ...moved, failover_reason: 'no_receipt', error_code: 'no_receipt' },
      failover: { reason: 'no_receipt' },
    });
    const stop = { patch: { receipt_wait_until: null, payload: null, updated_at: NOW } };
    expect(afterReceiptWait(sent, null, NOW)).toEqual(stop);
    expect(afterReceiptWait({ ...sent, expires_at: NOW }, 'vonage', NOW)).toEqual(stop);
    expect(afterReceiptWait({ ...sent, status: 'delivered' }, 'vonage', NOW)).toEqual(stop);
  });
});

describe('backoff', () => {
  it('doubles per attempt from the base, up to the maximum', () => {
    const ceiling = () => 1 - Number.EPSILON;
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoff(n, OPTIONS, ceiling))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000,
    ]);
    expect(backoff(0, OPTIONS, ceiling)).toBe(1_000);
  });

  it('jitters only within the upper half of the delay', () => {
    expect(backoff(4, OPTIONS, () => 0)).toBe(4_000);
    expect(backoff(4, OPTIONS, middle)).toBe(6_000);
    for (let i = 0; i < 200; i++) {
      const delay = backoff(4, OPTIONS, Math.random);
      expect(delay).toBeGreaterThanOrEqual(4_000);
      expect(delay).toBeLessThanOrEqual(8_000);
    }
  });
});
