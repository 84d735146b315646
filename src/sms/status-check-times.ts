/**
 * When a sent message's status is asked for (status-checks.ts): the first check after the carrier accepted it,
 * and the next ones while it stays `sent`. Pure, so that what decides an outcome (outcomes.ts) can plan the first.
 */

/** The first check, after the carrier accepted the message: receipts normally come within seconds. */
export const FIRST_CHECK_AFTER_MS = 10 * 60_000;
/** Longest wait between two checks of one message. */
const MAX_CHECK_INTERVAL_MS = 6 * 3_600_000;
/** A message still `sent` this long after it was sent is left so. */
const CHECK_FOR_MS = 72 * 3_600_000;

/**
 * The check time of a message a carrier has just accepted: only carriers that can be asked get one, when the carrier
 * said its report is due (`afterMs`), else after the usual wait.
 */
export function firstStatusCheck(checkable: boolean, now: number, afterMs = FIRST_CHECK_AFTER_MS): number | null {
  return checkable ? now + afterMs : null;
}

/** After a check that left a message `sent`: the next one, later the older it is; null once it is old enough. */
export function nextStatusCheck(sentAt: number, now: number): number | null {
  const age = now - sentAt;
  if (age >= CHECK_FOR_MS) return null;
  return now + Math.min(MAX_CHECK_INTERVAL_MS, Math.max(FIRST_CHECK_AFTER_MS, age));
}
