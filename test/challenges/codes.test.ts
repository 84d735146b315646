/** One-time codes: six CSPRNG digits, never the magic code, hashed with a key and bound to their challenge. */
import { describe, expect, it, vi } from 'vitest';
import { randomBytes } from 'node:crypto';

const draws: number[] = [];
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, randomInt: (min: number, max: number) => (draws.length ? draws.shift()! : actual.randomInt(min, max)) };
});

const { MAGIC_CODE, codeMatches, generateCode, hashCode } = await import('../../src/challenges/codes.js');

describe('codes', () => {
  it('are six digits, leading zeros kept', () => {
    draws.push(42);
    expect(generateCode()).toBe('000042');
    for (let i = 0; i < 200; i++) expect(generateCode()).toMatch(/^\d{6}$/);
  });

  it('are never the magic code: a draw of 424242 is drawn again', () => {
    draws.push(424242, 424242, 7);
    expect(generateCode()).toBe('000007');
    expect(MAGIC_CODE).toBe('424242');
  });

  it('match only under the same key and challenge', () => {
    const key = randomBytes(32);
    const hash = hashCode(key, 'chl_a', '123456');
    expect(hash).not.toContain('123456');
    expect(codeMatches(key, 'chl_a', '123456', hash)).toBe(true);
    expect(codeMatches(key, 'chl_a', '123457', hash)).toBe(false);
    expect(codeMatches(key, 'chl_b', '123456', hash)).toBe(false);
    expect(codeMatches(randomBytes(32), 'chl_a', '123456', hash)).toBe(false);
    expect(codeMatches(key, 'chl_a', '123456', 'not hex')).toBe(false);
  });
});
