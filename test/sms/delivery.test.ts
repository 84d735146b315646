/** The delivery state a message row gives (src/sms/delivery.ts): statuses, the failure's phase and its wording. */
import { describe, expect, it } from 'vitest';
import { deliveryState, type ChallengeMessage } from '../../src/sms/delivery.js';

const RESEND_AT = 1_800_000_000_000;
const message = (fields: Partial<ChallengeMessage>): ChallengeMessage => ({
  status: 'queued',
  driver: 'twilio',
  error_code: null,
  failed_by: null,
  ...fields,
});

describe('deliveryState', () => {
  it('says wait while the message is on its way, and nothing more once delivered', () => {
    for (const status of ['queued', 'sending'] as const)
      expect(deliveryState(message({ status }), RESEND_AT)).toEqual({
        status: 'queued',
        reason: null,
        next_step: 'wait',
        resend_after: null,
      });
    expect(deliveryState(message({ status: 'sent' }), RESEND_AT)).toEqual({
      status: 'sent',
      reason: null,
      next_step: 'wait',
      resend_after: null,
    });
    expect(deliveryState(message({ status: 'delivered' }), RESEND_AT)).toEqual({
      status: 'delivered',
      reason: null,
      next_step: null,
      resend_after: null,
    });
  });

  it('has no state for a message nothing delivers, nor without a message', () => {
    for (const status of ['dropped', 'test_noop', 'operator'] as const) expect(deliveryState(message({ status }), RESEND_AT)).toBeNull();
    expect(deliveryState(undefined, RESEND_AT)).toBeNull();
  });

  it("reads a failure's code in the numbering of where it came from: a carrier report, or the send", () => {
    // Vonage numbers its send answers and its receipts apart: 2 is a refused message when sending, an unreachable handset in a receipt.
    expect(deliveryState(message({ status: 'undelivered', driver: 'vonage', error_code: '2', failed_by: 'vonage' }), RESEND_AT)).toEqual({
      status: 'undelivered',
      reason: 'number_unreachable',
      next_step: 'use_another_number',
      resend_after: RESEND_AT,
    });
    expect(
      deliveryState(message({ status: 'failed', driver: 'vonage', error_code: '2', failed_by: 'dispatcher' }), RESEND_AT),
    ).toMatchObject({ status: 'failed', reason: 'carrier_rejected' });
  });

  it('asks for a new code after a passing failure, and counts a code that expired unsent as failed', () => {
    expect(deliveryState(message({ status: 'failed', error_code: 'timeout', failed_by: 'dispatcher' }), RESEND_AT)).toEqual({
      status: 'failed',
      reason: 'try_again_later',
      next_step: 'resend',
      resend_after: RESEND_AT,
    });
    expect(deliveryState(message({ status: 'expired', error_code: 'expired', failed_by: null }), RESEND_AT)).toEqual({
      status: 'failed',
      reason: 'try_again_later',
      next_step: 'resend',
      resend_after: RESEND_AT,
    });
  });
});
