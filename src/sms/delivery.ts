/**
 * Where a verification code's message stands, as the person waiting for it may see it: a carrier-neutral status,
 * the reason class of a failure and what to do next. Built from the message row and, for a failure, whether a
 * carrier's report or the send itself failed (their codes are numbered apart, see failures.ts); no carrier code,
 * carrier message id or driver name leaves this module.
 */
import { sql } from 'kysely';
import type { Executor } from '../store/database.js';
import { prepared } from '../store/prepared.js';
import { deliveryReason, failureClass, type DeliveryReason } from './failures.js';
import type { SmsStatus } from './statuses.js';

export const DELIVERY_STATUSES = ['queued', 'sent', 'delivered', 'undelivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** `wait`: the message is on its way; `resend`: ask for a new code (after `resend_after`); `use_another_number`: this number is unlikely to get one. */
export const DELIVERY_NEXT_STEPS = ['wait', 'resend', 'use_another_number'] as const;
export type DeliveryNextStep = (typeof DELIVERY_NEXT_STEPS)[number];

export interface DeliveryState {
  status: DeliveryStatus;
  /** Why it failed (undelivered or failed only). */
  reason: DeliveryReason | null;
  next_step: DeliveryNextStep | null;
  /** When a new code may be requested, on a failure (the challenge's resend time). */
  resend_after: number | null;
}

/** A challenge's message as the state is made from it. */
export interface ChallengeMessage {
  status: SmsStatus;
  driver: string | null;
  error_code: string | null;
  /** The source of the history entry that moved the message to its (failed) status: a driver's name for a carrier report. */
  failed_by: string | null;
}

/**
 * The delivery status of each message status; null for messages nothing is delivered by (a test number, the null
 * driver, a template the operator delivers): the person cannot be told anything about those. A code that expired
 * before it could be sent counts as failed.
 */
const DELIVERY_STATUS_OF: Record<SmsStatus, DeliveryStatus | null> = {
  queued: 'queued',
  sending: 'queued',
  sent: 'sent',
  delivered: 'delivered',
  undelivered: 'undelivered',
  failed: 'failed',
  expired: 'failed',
  dropped: null,
  test_noop: null,
  operator: null,
};

/** What the person can do after a failure of each reason: a number no carrier reaches, or a route refused, needs another number. */
const NEXT_STEP_OF: Record<DeliveryReason, DeliveryNextStep> = {
  number_unreachable: 'use_another_number',
  carrier_rejected: 'use_another_number',
  try_again_later: 'resend',
};

const CARRIER_SOURCES: ReadonlySet<string> = new Set(['twilio', 'vonage']);

/** The state of a challenge's message (null when there is none, or nothing is delivered); `resendAt`: the challenge's. */
export function deliveryState(message: ChallengeMessage | undefined, resendAt: number): DeliveryState | null {
  const status = message ? DELIVERY_STATUS_OF[message.status] : null;
  if (!message || status === null) return null;
  if (status === 'queued' || status === 'sent') return { status, reason: null, next_step: 'wait', resend_after: null };
  if (status === 'delivered') return { status, reason: null, next_step: null, resend_after: null };
  const phase = message.failed_by !== null && CARRIER_SOURCES.has(message.failed_by) ? 'receipt' : 'send';
  const reason = deliveryReason(failureClass(message.driver, phase, message.error_code));
  return { status, reason, next_step: NEXT_STEP_OF[reason], resend_after: resendAt };
}

/**
 * The message of a challenge (index `sms_messages_challenge`), with the source of the history entry of its
 * status when that is a failure (index `sms_message_statuses_message`): one statement, asked each time a client
 * polls its sign-in, sign-up or enrolment.
 */
const challengeMessage = prepared<{ challenge_id: string }, ChallengeMessage>((db, $) =>
  db
    .selectFrom('sms_messages as m')
    .select(['m.status', 'm.driver', 'm.error_code'])
    .select((eb) =>
      eb
        .case()
        .when('m.status', 'in', [sql.lit<SmsStatus>('failed'), sql.lit<SmsStatus>('undelivered')])
        .then(
          eb
            .selectFrom('sms_message_statuses as s')
            .select('s.source')
            .whereRef('s.message_id', '=', 'm.id')
            .whereRef('s.status', '=', 'm.status')
            .where('s.applied', '=', sql.lit(1))
            .orderBy('s.id', 'desc')
            .limit(1),
        )
        .else(null)
        .end()
        .as('failed_by'),
    )
    .where('m.challenge_id', '=', $('challenge_id'))
    .orderBy('m.id', 'desc')
    .limit(1),
);

/** The delivery state of a challenge's code. */
export async function challengeDelivery(executor: Executor, challengeId: string, resendAt: number): Promise<DeliveryState | null> {
  return deliveryState(await challengeMessage.takeFirst(executor, { challenge_id: challengeId }), resendAt);
}
