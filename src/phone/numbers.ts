/**
 * Phone numbers and sender ids, by libphonenumber's rules.
 * - Recipients must be *valid* numbers (libphonenumber knows the range is assigned): an SMS to a number that
 *   cannot exist only costs money. The reserved test range is accepted as is.
 * - Senders are the operator's own: an E.164 number only has to be *possible* (right length for its country
 *   code), so fictional and newly assigned ranges work; short codes and (Vonage) alphanumeric ids have their
 *   own rules.
 */
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';

const E164 = /^\+[1-9]\d{1,14}$/;

/** +1 (555) 555-0100 … 0199: never sent, whatever the driver. */
export function isTestNumber(e164: string): boolean {
  return /^\+155555501\d\d$/.test(e164);
}

export type RecipientCheck = { ok: true; e164: string; country: string | null } | { ok: false; reason: string };

/**
 * Recent answers of `parseRecipient`, oldest first. A flow parses the same number at each of its steps and the
 * send engine once more, and libphonenumber's validity check is among the dearest work of a code request.
 */
const recentRecipients = new Map<string, RecipientCheck>();
const RECENT_RECIPIENTS_MAX = 1_024;

/**
 * Normalises a recipient to E.164. Accepts spaces, dashes, dots and brackets around an international number; with
 * `homeCountries` (ISO 3166-1 alpha-2), also a national number of those countries ("(555) 555-0112" in the US),
 * when they all read it as the same number.
 */
export function parseRecipient(input: string, homeCountries: readonly string[] = []): RecipientCheck {
  // Country codes hold no "|", so the key names one pair of countries and input.
  const key = homeCountries.length ? `${homeCountries.join(',')}|${input}` : input;
  let check = recentRecipients.get(key);
  if (!check) {
    check = Object.freeze(checkRecipient(input, homeCountries));
    if (recentRecipients.size >= RECENT_RECIPIENTS_MAX) recentRecipients.delete(recentRecipients.keys().next().value!);
    recentRecipients.set(key, check);
  }
  return check;
}

function checkRecipient(input: string, homeCountries: readonly string[]): RecipientCheck {
  const compact = input.replace(/[\s().-]/g, '');
  if (homeCountries.length && /^\d+$/.test(compact)) return checkNational(compact, homeCountries);
  if (!E164.test(compact)) {
    const national = homeCountries.length ? `, or a national number of ${homeCountries.join(', ')}` : '';
    return { ok: false, reason: `must be an international number in E.164 form, such as +14155550123${national}` };
  }
  if (isTestNumber(compact)) return { ok: true, e164: compact, country: 'US' };
  const parsed = parsePhoneNumberFromString(compact);
  if (!parsed?.isValid()) {
    return { ok: false, reason: 'is not a valid phone number' };
  }
  return { ok: true, e164: parsed.number, country: parsed.country ?? null };
}

/** A number without its country code, read in each home country: one number it can be, or a refusal saying why. */
function checkNational(digits: string, homeCountries: readonly string[]): RecipientCheck {
  const readings = new Map<string, string | null>();
  const readIn: string[] = [];
  for (const homeCountry of homeCountries) {
    // The instance's country lists hold only codes libphonenumber knows (checked when they are saved).
    const parsed = parsePhoneNumberFromString(digits, homeCountry as CountryCode);
    if (!parsed || !(isTestNumber(parsed.number) || parsed.isValid())) continue;
    readings.set(parsed.number, isTestNumber(parsed.number) ? 'US' : (parsed.country ?? null));
    readIn.push(homeCountry);
  }
  const [first, ...others] = readings;
  if (first && others.length === 0) return { ok: true, e164: first[0], country: first[1] };
  const withCode = 'write it with + and its country code, such as +14155550123';
  if (first) return { ok: false, reason: `is a different national number in each of ${readIn.join(', ')}: ${withCode}` };
  return { ok: false, reason: `is not a valid national number of ${homeCountries.join(', ')}: ${withCode}` };
}

export type SenderKind = 'e164' | 'short_code' | 'alphanumeric';

export type SenderCheck = { ok: true; kind: SenderKind } | { ok: false; reason: string };

/** Classifies and checks a sender (`from_number`); whether the kind suits the driver is the caller's rule. */
export function checkSender(value: string): SenderCheck {
  if (value.startsWith('+')) {
    if (!E164.test(value)) return { ok: false, reason: 'must be an E.164 number such as +14155550123' };
    const parsed = parsePhoneNumberFromString(value);
    if (!isTestNumber(value) && !parsed?.isPossible()) {
      return { ok: false, reason: 'is not a possible phone number for its country code' };
    }
    return { ok: true, kind: 'e164' };
  }
  if (/^\d+$/.test(value)) {
    // Short codes are 3 to 8 digits across the countries that use them (US 5-6, UK 5, FR 5, …).
    if (value.length >= 3 && value.length <= 8) return { ok: true, kind: 'short_code' };
    return { ok: false, reason: 'must be an E.164 number with a leading +, or a short code of 3 to 8 digits' };
  }
  // Alphanumeric sender ids: 1 to 11 ASCII letters and digits, at least one letter, no spaces (carriers
  // reject or rewrite anything else, so it is refused here rather than at send time).
  if (/^[A-Za-z0-9]{1,11}$/.test(value) && /[A-Za-z]/.test(value)) return { ok: true, kind: 'alphanumeric' };
  return {
    ok: false,
    reason: 'must be an E.164 number, a short code, or an alphanumeric sender id of up to 11 ASCII letters and digits without spaces',
  };
}
