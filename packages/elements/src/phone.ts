/**
 * The phone input's rules, without a formatting library: the number is kept in E.164 as it is typed (the country's
 * calling code, then the digits), which is what the server takes and what the user sees confirmed. libphonenumber-js's
 * as-you-type formatter alone weighs 32 kB gzipped, most of the components' 40 kB budget; the server validates the
 * number and its answer is shown beside the field.
 */
import { CALLING_CODES } from './calling-codes.js';

/** Where a national number keeps its leading 0 after the calling code (elsewhere the 0 is a trunk prefix, dropped). */
const KEEPS_LEADING_ZERO = new Set(['IT', 'SM', 'VA']);

export function callingCode(country: string): string {
  return CALLING_CODES[country] ?? '';
}

/** `typed` as E.164: a leading `+` means the whole international number; otherwise a national number of `country`. */
export function toE164(country: string, typed: string): string {
  const digits = typed.replace(/\D/g, '');
  if (typed.trimStart().startsWith('+')) return digits ? `+${digits}` : '+';
  if (!digits) return '';
  const national = KEEPS_LEADING_ZERO.has(country) ? digits : digits.replace(/^0/, '');
  return `+${callingCode(country)}${national}`;
}

/**
 * The allowed country an E.164 number belongs to by its calling code (calling codes are prefix-free): `current`
 * when it has that code (+1 is the US, Canada and more), else the first allowed country with it; null when none.
 */
export function countryOf(e164: string, countries: readonly string[], current: string): string | null {
  const digits = e164.replace(/\D/g, '');
  const matches = (country: string) => callingCode(country) !== '' && digits.startsWith(callingCode(country));
  if (current && matches(current)) return current;
  return countries.find(matches) ?? null;
}

/** The number with its calling code swapped for the one of `to` (the user picked another country). */
export function switchCountry(e164: string, from: string, to: string): string {
  const digits = e164.replace(/\D/g, '');
  const fromCode = callingCode(from);
  if (digits === '' || !digits.startsWith(fromCode)) return e164;
  return `+${callingCode(to)}${digits.slice(fromCode.length)}`;
}
