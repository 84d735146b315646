/**
 * One-time codes: six digits from the CSPRNG, stored only as a keyed hash and compared in constant time.
 * The magic code 424242 is never generated, so on a number outside the test range it can never be right.
 */
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';

export const MAGIC_CODE = '424242';
export const CODE_LENGTH = 6;
export const CODE_LIFETIME_MS = 10 * 60_000;
export const RESEND_COOLDOWN_MS = 30_000;

export function generateCode(): string {
  for (;;) {
    const code = randomInt(0, 10 ** CODE_LENGTH).toString().padStart(CODE_LENGTH, '0');
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
