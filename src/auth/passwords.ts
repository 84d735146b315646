/**
 * Passwords are stored as argon2id PHC strings (salt and parameters inside), with OWASP's minimum
 * parameters: 19 MiB of memory, 2 passes, 1 lane. Hashing takes tens of milliseconds on the libuv pool, so
 * callers never hold a database transaction around it.
 */
import argon2 from 'argon2';

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;

const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, OPTIONS);
}

export function verifyPassword(hash: string, password: string): Promise<boolean> {
  return argon2.verify(hash, password);
}
