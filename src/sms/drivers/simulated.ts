/**
 * Simulated carrier outcomes for tests (docs/sms.md, "Simulated outcomes"). Under `test_mode: enabled` a message to
 * +15555550190 … 0199 goes through the real outbox, dispatcher, status history, events, webhooks and failover, but
 * to this driver instead of a carrier: it plays the carrier the message would use (Twilio or Vonage, in that
 * carrier's own codes and statuses, so the history reads as it would in production) and calls nobody.
 *
 * What happens is a pure function of the number's last digit, the carrier played, whether that carrier is the
 * message's first or its failover, the attempt, and the time since the carrier accepted the message. Receipts come
 * through the status checks (status-checks.ts), durable across restarts like any overdue report: an accepted
 * message asks for its first check when its receipt is due, and the check is answered from the carrier message id,
 * which carries the digit and the time of acceptance.
 */
import type { Clock } from '../../clock.js';
import { SMS_DRIVERS, type SmsDriverName } from '../../instance/settings.js';
import { permanent, transient, type CarrierStatus, type OutboundSms, type SendOutcome, type SmsDriver } from './driver.js';

/** Whether a message's `driver` names a carrier a simulation can play. */
export const isCarrier = (name: string | null): name is SmsDriverName => SMS_DRIVERS.includes(name as SmsDriverName);

/** Whether the carrier played is the message's first driver or the one it failed over to. */
export type SimulatedRole = 'first' | 'failover';

/** When a simulated receipt arrives, after the carrier accepted the message. */
export const SIMULATED_RECEIPT_MS = 3_000;
export const SIMULATED_SLOW_RECEIPT_MS = 20_000;

/** How a simulated delivery ends. */
type Ending = 'delivered' | 'unreachable' | 'filtered';
/** How a simulated send is refused. */
type Refusal = 'route_not_permitted' | 'invalid_number';

interface Receipt {
  ending: Ending;
  afterMs: number;
}

type Behaviour = { kind: 'accept'; receipt: Receipt | null } | { kind: 'refuse'; refusal: Refusal } | { kind: 'time_out' };

/** What follows once the carrier played accepts a message to a number ending in `digit`: its receipt, or none ever. */
export function simulatedReceipt(digit: number): Receipt | null {
  switch (digit) {
    case 1:
      return { ending: 'unreachable', afterMs: SIMULATED_RECEIPT_MS };
    case 3:
      return null;
    case 6:
      return { ending: 'delivered', afterMs: SIMULATED_SLOW_RECEIPT_MS };
    case 8:
      return { ending: 'filtered', afterMs: SIMULATED_RECEIPT_MS };
    default:
      return { ending: 'delivered', afterMs: SIMULATED_RECEIPT_MS };
  }
}

/** The table of docs/sms.md: what the carrier played does with a send, by the number's last digit. */
export function simulatedBehaviour(digit: number, role: SimulatedRole, attempt: number): Behaviour {
  const accept: Behaviour = { kind: 'accept', receipt: simulatedReceipt(digit) };
  switch (digit) {
    case 2:
      return { kind: 'refuse', refusal: 'route_not_permitted' };
    case 4:
      return role === 'first' ? { kind: 'refuse', refusal: 'route_not_permitted' } : accept;
    case 5:
      return attempt <= 1 ? { kind: 'time_out' } : accept;
    case 7:
      return { kind: 'refuse', refusal: 'invalid_number' };
    case 9:
      return { kind: 'time_out' };
    default:
      return accept;
  }
}

/** Each carrier's own words for the simulated outcomes (test/fakes/contracts/README.md §2 and §3). */
const SPELLING: Record<
  SmsDriverName,
  {
    accepted: string;
    /** The status a message has while no receipt has come. */
    pending: string;
    endings: Record<Ending, CarrierStatus>;
    refusals: Record<Refusal, { code: string; message: string; httpStatus: number }>;
  }
> = {
  twilio: {
    accepted: 'queued',
    pending: 'sent',
    endings: {
      delivered: { status: 'delivered', errorCode: null },
      unreachable: { status: 'undelivered', errorCode: '30003' },
      filtered: { status: 'undelivered', errorCode: '30007' },
    },
    refusals: {
      route_not_permitted: {
        code: '21408',
        message: 'Permission to send an SMS has not been enabled for the region indicated by the To number',
        httpStatus: 400,
      },
      invalid_number: { code: '21211', message: "The 'To' number is not a valid phone number.", httpStatus: 400 },
    },
  },
  vonage: {
    accepted: '0',
    pending: 'accepted',
    endings: {
      delivered: { status: 'delivered', errorCode: null },
      unreachable: { status: 'expired', errorCode: '2' },
      filtered: { status: 'rejected', errorCode: '6' },
    },
    refusals: {
      // Vonage answers HTTP 200 and refuses in the part's status.
      route_not_permitted: { code: '29', message: 'Non-whitelisted destination', httpStatus: 200 },
      invalid_number: { code: '33', message: 'Number de-activated', httpStatus: 200 },
    },
  },
};

/** The carrier message id of a simulated message: the digit and the time of acceptance, then our message id. */
const simulatedMessageId = (digit: number, acceptedAt: number, messageId: string) => `sim-${digit}-${acceptedAt}-${messageId}`;
const SIMULATED_MESSAGE_ID = /^sim-(\d)-(\d+)-/;

/** What the carrier played says of a message it accepted, `ageMs` after accepting it. */
export function simulatedStatus(carrier: SmsDriverName, digit: number, ageMs: number): CarrierStatus {
  const receipt = simulatedReceipt(digit);
  const spelling = SPELLING[carrier];
  if (receipt === null || ageMs < receipt.afterMs) return { status: spelling.pending, errorCode: null };
  return spelling.endings[receipt.ending];
}

/** The last digit of a simulated number. */
const lastDigit = (e164: string) => Number(e164.at(-1));

export interface SimulatedDriverOptions {
  clock: Clock;
  role?: SimulatedRole;
  /** This send's attempt (the message's `attempts` once claimed). */
  attempt?: number;
  /** Told when a receipt falls due, so that the status checks look then rather than at their next round. */
  onReceiptDue?: (at: number) => void;
}

export class SimulatedDriver implements SmsDriver {
  constructor(
    readonly name: SmsDriverName,
    private readonly options: SimulatedDriverOptions,
  ) {}

  async send(message: OutboundSms): Promise<SendOutcome> {
    const digit = lastDigit(message.to);
    const behaviour = simulatedBehaviour(digit, this.options.role ?? 'first', this.options.attempt ?? 1);
    switch (behaviour.kind) {
      case 'time_out':
        throw transient('timeout', 'no answer from the carrier in time (simulated)');
      case 'refuse': {
        const { code, message: text, httpStatus } = SPELLING[this.name].refusals[behaviour.refusal];
        throw permanent(code, text, httpStatus);
      }
      case 'accept': {
        const acceptedAt = this.options.clock.now();
        if (behaviour.receipt) this.options.onReceiptDue?.(acceptedAt + behaviour.receipt.afterMs);
        return {
          kind: 'accepted',
          carrierMessageId: simulatedMessageId(digit, acceptedAt, message.id),
          carrierStatus: SPELLING[this.name].accepted,
          parts: 1,
          httpStatus: this.name === 'twilio' ? 201 : 200,
          ...(behaviour.receipt ? { firstCheckAfterMs: behaviour.receipt.afterMs } : {}),
        };
      }
    }
  }

  /** Answers as the carrier played would be asked; null for an id this simulation did not give out. */
  async fetchStatus(carrierMessageId: string): Promise<CarrierStatus | null> {
    const match = SIMULATED_MESSAGE_ID.exec(carrierMessageId);
    if (!match) return null;
    return simulatedStatus(this.name, Number(match[1]), this.options.clock.now() - Number(match[2]));
  }
}
