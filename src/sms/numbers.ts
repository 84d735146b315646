/**
 * Phone numbers and sender ids, by libphonenumber's rules.
 * - Recipients must be *valid* numbers (libphonenumber knows the range is assigned): an SMS to a number that
 *   cannot exist only costs money. The reserved test range is accepted as is.
 * - Senders are the operator's own: an E.164 number only has to be *possible* (right length for its country
 *   code), so fictional and newly assigned ranges work; short codes and (Vonage) alphanumeric ids have their
 *   own rules.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

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

/** Normalises a recipient to E.164. Accepts spaces, dashes, dots and brackets around an international number. */
export function parseRecipient(input: string): RecipientCheck {
  let check = recentRecipients.get(input);
  if (!check) {
    check = Object.freeze(checkRecipient(input));
    if (recentRecipients.size >= RECENT_RECIPIENTS_MAX) recentRecipients.delete(recentRecipients.keys().next().value!);
    recentRecipients.set(input, check);
  }
  return check;
}

function checkRecipient(input: string): RecipientCheck {
  const compact = input.replace(/[\s().-]/g, '');
  if (!E164.test(compact)) {
    return { ok: false, reason: 'must be an international number in E.164 form, such as +14155550123' };
  }
  if (isTestNumber(compact)) return { ok: true, e164: compact, country: 'US' };
  const parsed = parsePhoneNumberFromString(compact);
  if (!parsed || !parsed.isValid()) {
    return { ok: false, reason: 'is not a valid phone number' };
  }
  return { ok: true, e164: parsed.number, country: parsed.country ?? null };
}

export type SenderKind = 'e164' | 'short_code' | 'alphanumeric';

export type SenderCheck = { ok: true; kind: SenderKind } | { ok: false; reason: string };

/** Classifies and checks a sender (`from_number`); whether the kind suits the driver is the caller's rule. */
export function checkSender(value: string): SenderCheck {
  if (value.startsWith('+')) {
    if (!E164.test(value)) return { ok: false, reason: 'must be an E.164 number such as +14155550123' };
    const parsed = parsePhoneNumberFromString(value);
    if (!isTestNumber(value) && (!parsed || !parsed.isPossible())) {
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
