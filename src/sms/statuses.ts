/**
 * Where a message stands. Terminal: delivered, failed, undelivered, dropped (null driver), test_noop (reserved
 * test range), operator (delivered_by_us false), expired (a code whose challenge expired before it was sent).
 * A leaf module: the store's schema types its status columns with it.
 */
export const SMS_STATUSES = [
  'queued',
  'sending',
  'sent',
  'delivered',
  'failed',
  'undelivered',
  'dropped',
  'test_noop',
  'operator',
  'expired',
] as const;
export type SmsStatus = (typeof SMS_STATUSES)[number];
export const TERMINAL_STATUSES: ReadonlySet<SmsStatus> = new Set([
  'delivered',
  'failed',
  'undelivered',
  'dropped',
  'test_noop',
  'operator',
  'expired',
]);

/** Why a message moved to its failover driver (docs/sms.md, "Failover"). */
export const FAILOVER_REASONS = ['carrier_refused', 'transient_failures', 'no_receipt'] as const;
export type FailoverReason = (typeof FAILOVER_REASONS)[number];
