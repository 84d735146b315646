/**
 * What a failed message's error code means, carrier-neutrally: one class per cause, used to decide whether
 * another carrier may succeed where this one failed (failover), how to word it to the person waiting for the
 * code (FAPI delivery state), and how to group failures on the delivery page.
 *
 * Codes come from two places with separate numbering: the carrier's answer to the send request (`send`: Twilio
 * error codes, Vonage `status`) and its later delivery report (`receipt`: Twilio `ErrorCode`, Vonage DLR
 * `err-code`). Our own codes (`timeout`, `network_error`, `http_<status>`, `expired`, …) are the same in both.
 */
import type { DriverName } from './drivers/driver.js';

export const FAILURE_CLASSES = [
  /** The number does not exist or cannot take SMS (landline): no carrier will deliver it. */
  'invalid_number',
  /** The person opted out (STOP) or barred messages. */
  'opted_out',
  /** The handset is off, out of coverage or busy. */
  'unreachable',
  /** The carrier or a network on the way blocked the message (spam filter, blocked sender). */
  'carrier_filtered',
  /** This account may not send to that country or network, or the carrier cannot route there. */
  'route_not_permitted',
  /** The carrier account is suspended, barred, out of funds or a trial. */
  'account',
  /** The carrier refused our credentials. */
  'credentials',
  /** The sender (from number, sender id) is not valid for this carrier. */
  'sender',
  /** The message itself was refused (too long, empty): another carrier would refuse it too. */
  'message',
  /** The carrier asked us to slow down. */
  'rate_limited',
  /** The carrier failed or could not be reached (5xx, timeout, network error, unknown carrier error). */
  'carrier_error',
  /** The code expired before it could be sent. */
  'expired',
  'unknown',
] as const;
export type FailureClass = (typeof FAILURE_CLASSES)[number];

/** Where a code came from: the send call's answer or a later delivery report (their numbering differs). */
export type FailurePhase = 'send' | 'receipt';

const TWILIO: Record<string, FailureClass> = {
  '20003': 'credentials',
  '20429': 'rate_limited',
  '21211': 'invalid_number',
  '21212': 'sender',
  '21408': 'route_not_permitted',
  '21602': 'message',
  '21604': 'invalid_number',
  '21606': 'sender',
  '21608': 'account',
  '21610': 'opted_out',
  '21612': 'route_not_permitted',
  '21614': 'invalid_number',
  '21617': 'message',
  '30001': 'rate_limited',
  '30002': 'account',
  '30003': 'unreachable',
  '30004': 'carrier_filtered',
  '30005': 'invalid_number',
  '30006': 'invalid_number',
  '30007': 'carrier_filtered',
  '30008': 'carrier_error',
};

/** Vonage's answer to a send (`status`, contracts §3.2). */
const VONAGE_SEND: Record<string, FailureClass> = {
  '1': 'rate_limited',
  '2': 'message',
  '3': 'message',
  '4': 'credentials',
  '5': 'carrier_error',
  '6': 'message',
  '7': 'carrier_filtered',
  '8': 'account',
  '9': 'account',
  '10': 'rate_limited',
  '11': 'account',
  '12': 'message',
  '14': 'credentials',
  '15': 'sender',
  '22': 'route_not_permitted',
  '29': 'route_not_permitted',
  '32': 'credentials',
  '33': 'invalid_number',
};

/** Vonage delivery receipts' `err-code` (contracts §3.3). */
const VONAGE_RECEIPT: Record<string, FailureClass> = {
  '1': 'carrier_error',
  '2': 'unreachable',
  '3': 'unreachable',
  '4': 'opted_out',
  '5': 'route_not_permitted',
  '6': 'carrier_filtered',
  '7': 'unreachable',
  '8': 'carrier_error',
  '9': 'invalid_number',
  '10': 'message',
  '11': 'route_not_permitted',
  '12': 'unreachable',
  '13': 'carrier_filtered',
  '14': 'carrier_filtered',
};

/** Our own codes, whichever driver. */
const OURS: Record<string, FailureClass> = {
  timeout: 'carrier_error',
  network_error: 'carrier_error',
  expired: 'expired',
  sender_missing: 'sender',
  internal_error: 'unknown',
  http_401: 'credentials',
  http_403: 'credentials',
  http_429: 'rate_limited',
};

/** The class of a failure code reported for `driver` (null or unknown codes: `unknown`). */
export function failureClass(driver: DriverName | string | null, phase: FailurePhase, code: string | null): FailureClass {
  if (code === null) return 'unknown';
  const own = OURS[code] ?? (/^http_5\d\d$/.test(code) ? 'carrier_error' : undefined);
  if (own) return own;
  if (driver === 'twilio') return TWILIO[code] ?? 'unknown';
  if (driver === 'vonage') return (phase === 'send' ? VONAGE_SEND : VONAGE_RECEIPT)[code] ?? 'unknown';
  return 'unknown';
}

/**
 * Whether another carrier may succeed where this one failed for good: refusals that belong to this carrier or
 * this account, never a number that is invalid or has opted out, nor a message any carrier would refuse.
 */
export function failsOver(failure: FailureClass): boolean {
  return (
    failure === 'carrier_filtered' ||
    failure === 'route_not_permitted' ||
    failure === 'account' ||
    failure === 'credentials' ||
    failure === 'sender'
  );
}

/** How a UI can word a failed delivery to the person waiting for the code (nothing carrier-specific). */
export const DELIVERY_REASONS = ['carrier_rejected', 'number_unreachable', 'try_again_later'] as const;
export type DeliveryReason = (typeof DELIVERY_REASONS)[number];

export function deliveryReason(failure: FailureClass): DeliveryReason {
  switch (failure) {
    case 'invalid_number':
    case 'opted_out':
    case 'unreachable':
      return 'number_unreachable';
    case 'carrier_filtered':
    case 'route_not_permitted':
    case 'account':
    case 'credentials':
    case 'sender':
    case 'message':
      return 'carrier_rejected';
    case 'rate_limited':
    case 'carrier_error':
    case 'expired':
    case 'unknown':
      return 'try_again_later';
  }
}
