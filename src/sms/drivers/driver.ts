/**
 * The one interface every SMS driver implements. A driver turns one outbound message into one carrier API
 * call and reports what the carrier said; it knows nothing of templates, HTTP routes or the store. Failures
 * are `CarrierError`s that say whether trying again can help (transient) or not (permanent), and keep the
 * carrier's own code and message.
 */

export const DRIVER_NAMES = ['null', 'twilio', 'vonage'] as const;
export type DriverName = (typeof DRIVER_NAMES)[number];

export interface OutboundSms {
  /** Our message id; carriers echo it back (Vonage `client-ref`). */
  id: string;
  /** E.164. */
  to: string;
  /** Sender, or null when a Twilio messaging service picks one. */
  from: string | null;
  messagingServiceSid: string | null;
  body: string;
  /** Seconds the message stays useful (a code's remaining validity): the carrier drops it after. null: carrier default. */
  validitySeconds: number | null;
  /** Where the carrier reports delivery for this message. */
  statusCallbackUrl: string;
}

/** What a carrier charged, as it reported it: an amount in billionths of `currency` (see migration 012). */
export interface CarrierPrice {
  nanos: number;
  /** ISO 4217. */
  currency: string;
}

const DECIMAL = /^-?(\d+)(?:\.(\d+))?$/;

/**
 * A carrier's decimal price text (`0.03330000`, Twilio's `-0.00750`) as an amount in billionths, always positive:
 * the cost to us, whichever sign the carrier writes it with. null when the text is not a decimal number.
 */
export function priceNanos(text: string): number | null {
  const match = DECIMAL.exec(text.trim());
  if (!match) return null;
  const fraction = (match[2] ?? '').padEnd(9, '0');
  // Beyond a billionth nothing is kept: no carrier reports that finely.
  return Number(match[1]) * 1e9 + Number(fraction.slice(0, 9));
}

/** Billionths as an exact decimal text: at least two decimals, no trailing zeros beyond. */
export function priceDecimal(nanos: number): string {
  const whole = Math.floor(nanos / 1e9);
  const fraction = String(nanos % 1e9)
    .padStart(9, '0')
    .replace(/0+$/, '')
    .padEnd(2, '0');
  return `${whole}.${fraction}`;
}

export type SendOutcome =
  | {
      kind: 'accepted';
      carrierMessageId: string;
      /** The carrier's status on acceptance, as it spells it (`queued`, `accepted`, `0`…). */
      carrierStatus: string;
      /** Parts the carrier split the message into; each gets its own delivery receipt. */
      parts: number;
      httpStatus: number;
      /** The carrier's report is due this soon, so the first status check is then (status-checks.ts); absent: the usual wait. */
      firstCheckAfterMs?: number;
      /** What the carrier said the message costs, when its answer says (Vonage's `message-price`, summed over the parts). */
      price?: CarrierPrice;
    }
  /** The null driver: nothing left the server. */
  | { kind: 'dropped' };

/** What the carrier says of a message it accepted, when asked (rather than told through a callback). */
export interface CarrierStatus {
  /** As the carrier spells it. */
  status: string;
  errorCode: string | null;
  /** What the carrier charged, once it knows (Twilio's `price` and `price_unit`). */
  price?: CarrierPrice;
}

export interface SmsDriver {
  readonly name: DriverName;
  /** `signal` aborts the call (shutdown); the call has its own timeout besides. */
  send(message: OutboundSms, signal?: AbortSignal): Promise<SendOutcome>;
  /**
   * A carrier that can be asked for a message's status (Twilio's FetchMessage) implements this; null when the
   * carrier no longer knows the message.
   */
  fetchStatus?(carrierMessageId: string, signal?: AbortSignal): Promise<CarrierStatus | null>;
}

export type CarrierErrorKind = 'transient' | 'permanent';

export class CarrierError extends Error {
  constructor(
    readonly kind: CarrierErrorKind,
    /**
     * The carrier's error code (`21211`, Vonage status `4`), or ours when the carrier gave none:
     * `timeout`, `network_error`, `http_<status>`, `aborted`.
     */
    readonly code: string,
    message: string,
    readonly httpStatus: number | null = null,
    /** The carrier asked us to wait this long before trying again (Retry-After). */
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
    this.name = 'CarrierError';
  }
}

export const transient = (code: string, message: string, httpStatus: number | null = null, retryAfterMs: number | null = null) =>
  new CarrierError('transient', code, message, httpStatus, retryAfterMs);
export const permanent = (code: string, message: string, httpStatus: number | null = null) =>
  new CarrierError('permanent', code, message, httpStatus);

/** A carrier answer that is not what its API promises: we cannot tell whether it sent, so it is worth another try. */
export function unexpectedAnswer(carrier: string, status: number): CarrierError {
  return transient(`http_${status}`, `${carrier} answered HTTP ${status} with a body we could not read`, status);
}
