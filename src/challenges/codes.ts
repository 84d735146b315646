/**
 * One-time codes: six digits from the CSPRNG, stored only as a keyed hash and compared in constant time.
 * The magic code 424242 is never generated, so on a number outside the test range it can never be right.
 */
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import type { InstanceSettings } from '../instance/settings.js';

export const MAGIC_CODE = '424242';
export const CODE_LENGTH = 6;
export const RESEND_COOLDOWN_MS = 30_000;
/** Challenges that ended on a wrong code longer ago than this no longer lengthen the wait. */
export const WRONG_CODE_MEMORY_MS = 24 * 60 * 60_000;
/** Each wait is up to this fraction shorter, at random, so that numbers attacked together do not come back together. */
const WAIT_JITTER = 0.2;

export const codeLifetimeMs = (settings: InstanceSettings): number => settings.abuse.code_lifetime_minutes * 60_000;

/**
 * The wait before a new code once `failures` challenges in a row (the latest included) ended on a wrong code:
 * `initial_seconds`, doubled for each further failure up to `max_seconds`, less the jitter.
 */
export function wrongCodeWaitMs(failures: number, backoff: InstanceSettings['abuse']['wrong_code_backoff']): number {
  if (failures < 1) return 0;
  const full = Math.min(backoff.max_seconds, backoff.initial_seconds * 2 ** Math.min(failures - 1, 32)) * 1000;
  return Math.round(full * (1 - WAIT_JITTER * (randomInt(0, 1_000) / 1_000)));
}

export function generateCode(): string {
  for (;;) {
    const code = randomInt(0, 10 ** CODE_LENGTH)
      .toString()
      .padStart(CODE_LENGTH, '0');
    if (code !== MAGIC_CODE) return code;
  }
}

/** Bound to the challenge id, so a hash copied to another challenge does not match there. */
export function hashCode(key: Buffer, challengeId: string, code: string): string {
  return createHmac('sha256', key).update(`${challengeId}.${code}`).digest('hex');
}

export function codeMatches(key: Buffer, challengeId: string, code: string, storedHash: string): boolean {
  const given = Buffer.from(hashCode(key, challengeId, code), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}
