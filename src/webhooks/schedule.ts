/**
 * When a failed delivery is tried again. The schedule (AUTHN_WEBHOOKS_RETRY_SCHEDULE) lists the delay before
 * each retry; the first attempt is made at once. Each delay gets ±10 % jitter so deliveries that failed
 * together (an endpoint that was down) do not all come back in the same instant. A receiver's `Retry-After`
 * is honoured within 1× to 2× the scheduled delay, as Svix does.
 */

const JITTER = 0.1;

/**
 * The delay before the next attempt after `attemptsMade` failed attempts, or null when the schedule is spent
 * (the delivery has failed).
 */
export function retryDelay(
  schedule: readonly number[],
  attemptsMade: number,
  retryAfterMs: number | null,
  random: () => number = Math.random,
): number | null {
  const base = schedule[attemptsMade - 1];
  if (base === undefined) return null;
  const wanted = retryAfterMs === null ? base : Math.min(Math.max(retryAfterMs, base), base * 2);
  return Math.round(wanted * (1 - JITTER + 2 * JITTER * random()));
}
