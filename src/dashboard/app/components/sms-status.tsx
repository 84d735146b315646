/** How an SMS's status reads on every page: its name, what it means, and a badge coloured by outcome. */
import type { SmsMessage, SmsStatus } from '../api-types.js';

export const SMS_STATUSES: { id: SmsStatus; name: string; meaning: string }[] = [
  { id: 'queued', name: 'Queued', meaning: 'Waiting for the dispatcher, or for a retry.' },
  { id: 'sending', name: 'Sending', meaning: 'The carrier is being called.' },
  { id: 'sent', name: 'Sent', meaning: 'The carrier took it; its delivery receipt has not come (yet).' },
  { id: 'delivered', name: 'Delivered', meaning: "The carrier's receipt says the handset got it." },
  { id: 'undelivered', name: 'Undelivered', meaning: 'The carrier reported that delivery failed.' },
  { id: 'failed', name: 'Failed', meaning: 'Refused by the carrier, or out of attempts.' },
  { id: 'expired', name: 'Expired', meaning: 'Its code expired before it could be sent, so it was not.' },
  { id: 'dropped', name: 'Dropped', meaning: 'The null driver: nothing left the server.' },
  { id: 'test_noop', name: 'Test number', meaning: 'A reserved test number: recorded, never sent.' },
  { id: 'operator', name: 'Yours to send', meaning: 'The template is delivered by you, from the sms.queued event.' },
];

/** Why a message moved to its failover driver, as a sentence goes on after "because" (docs/sms.md, "Failover"). */
export const FAILOVER_REASON_TEXT: Record<NonNullable<SmsMessage['failover']>['reason'], string> = {
  carrier_refused: 'the first carrier refused it for a reason another carrier may not share',
  transient_failures: 'the first carrier kept failing to answer',
  no_receipt: 'the first carrier sent no delivery report within the wait',
};

const UNDER_WAY: ReadonlySet<SmsStatus> = new Set(['queued', 'sending', 'sent']);
const WENT_WRONG: ReadonlySet<SmsStatus> = new Set(['failed', 'undelivered', 'expired']);

/** Still moving: another status may come (a `sent` message whose carrier never reports stays so). */
export function isUnderWay(status: SmsStatus): boolean {
  return UNDER_WAY.has(status);
}

export function statusName(status: string): string {
  return SMS_STATUSES.find((entry) => entry.id === status)?.name ?? status;
}

export function SmsStatusBadge({ status }: { status: SmsStatus }) {
  const tone =
    status === 'delivered'
      ? 'status-succeeded'
      : WENT_WRONG.has(status)
        ? 'status-failed'
        : UNDER_WAY.has(status)
          ? 'status-pending'
          : 'badge-unset';
  return (
    <span class={`badge ${tone}`} data-sms-status={status}>
      {statusName(status)}
    </span>
  );
}
