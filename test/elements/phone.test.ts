/**
 * The elements' phone input rules (E.164 as typed, the country from the calling code) and the calling-code table,
 * which is generated from libphonenumber-js and must not drift from it.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { callingCodesSource } from '../../packages/elements/scripts/generate-calling-codes.js';
import { countryOf, switchCountry, toE164 } from '../../packages/elements/src/phone.js';

describe('phone input rules', () => {
  it('writes a national number as E.164 with the country calling code, dropping punctuation', () => {
    expect(toE164('US', '(415) 555-0123')).toBe('+14155550123');
    expect(toE164('US', '')).toBe('');
    expect(toE164('US', '-')).toBe('');
  });

  it('takes a number typed with + as the whole international number', () => {
    expect(toE164('US', '+44 7700 900123')).toBe('+447700900123');
    expect(toE164('US', '+')).toBe('+');
  });

  it('drops the trunk 0 of a national number, except where the 0 belongs to the number (Italy)', () => {
    expect(toE164('GB', '07700 900123')).toBe('+447700900123');
    expect(toE164('IT', '06 1234 5678')).toBe('+390612345678');
  });

  it('finds the allowed country by calling code, keeping the current one when it shares the code', () => {
    expect(countryOf('+14155550123', ['US', 'CA'], 'CA')).toBe('CA');
    expect(countryOf('+447700900123', ['US', 'GB'], 'US')).toBe('GB');
    expect(countryOf('+447700900123', ['US', 'CA'], 'US')).toBeNull();
    // Countries sharing +1: the first allowed one, when the current one is not among them.
    expect(countryOf('+12645551234', ['US', 'AI'], 'GB')).toBe('US');
    expect(countryOf('+35312345678', ['IE', 'GB'], 'GB')).toBe('IE');
  });

  it('swaps the calling code when the user picks another country', () => {
    expect(switchCountry('+14155550123', 'US', 'GB')).toBe('+444155550123');
    expect(switchCountry('', 'US', 'GB')).toBe('');
  });

  it('the calling-code table is the one libphonenumber-js gives (regenerate it with scripts/generate-calling-codes.ts)', () => {
    const checkedIn = fs.readFileSync(new URL('../../packages/elements/src/calling-codes.ts', import.meta.url), 'utf8');
    expect(checkedIn).toBe(callingCodesSource());
  });
});
