/**
 * The abuse-defences form's model: the draft (what the inputs hold, as text) and the merge patch that saves it.
 * Pure functions, no DOM. A number that is not a whole number is sent as typed, so the API's own field error
 * explains it beside its input.
 */
import type { AbuseSettings, InstanceSettings } from './api-types.js';
import { setIn, type JsonPatch } from './settings-form.js';

/**
 * Every numeric setting of the page, by its API parameter, with how the page labels it (under its group), names it
 * in a sentence (an error), and explains it.
 */
export const ABUSE_NUMBERS = [
  {
    param: 'abuse.sends_per_phone_number.max',
    group: 'Codes sent to one phone number',
    label: 'At most',
    name: 'Limit on codes sent to one phone number',
    hint: 'Codes per window (default 5).',
  },
  {
    param: 'abuse.sends_per_phone_number.window_seconds',
    group: 'Codes sent to one phone number',
    label: 'Window (seconds)',
    name: 'Window in seconds for codes sent to one phone number',
    hint: 'Default 600 (10 minutes).',
  },
  {
    param: 'abuse.sends_per_ip.max',
    group: 'Codes requested from one IP address',
    label: 'At most',
    name: 'Limit on codes requested from one IP address',
    hint: 'Requests per window (default 20).',
  },
  {
    param: 'abuse.sends_per_ip.window_seconds',
    group: 'Codes requested from one IP address',
    label: 'Window (seconds)',
    name: 'Window in seconds for codes requested from one IP address',
    hint: 'Default 600 (10 minutes).',
  },
  {
    param: 'abuse.attempts_per_ip.max',
    group: 'Answers (codes and passwords) from one IP address',
    label: 'At most',
    name: 'Limit on answers (codes and passwords) from one IP address',
    hint: 'Right or wrong, whatever they are for (default 30).',
  },
  {
    param: 'abuse.attempts_per_ip.window_seconds',
    group: 'Answers (codes and passwords) from one IP address',
    label: 'Window (seconds)',
    name: 'Window in seconds for answers (codes and passwords) from one IP address',
    hint: 'Default 300 (5 minutes).',
  },
  {
    param: 'abuse.creates_per_ip.max',
    group: 'New clients, sign-ups and sign-ins from one IP address',
    label: 'At most',
    name: 'Limit on new clients, sign-ups and sign-ins from one IP address',
    hint: 'Default 30.',
  },
  {
    param: 'abuse.creates_per_ip.window_seconds',
    group: 'New clients, sign-ups and sign-ins from one IP address',
    label: 'Window (seconds)',
    name: 'Window in seconds for new clients, sign-ups and sign-ins from one IP address',
    hint: 'Default 60.',
  },
  {
    param: 'abuse.password_lockout.max_failures',
    group: 'Wrong passwords for one account',
    label: 'At most',
    name: 'Limit on wrong passwords for one account',
    hint: 'Then password sign-in is refused for the rest of the window; a phone code still works (default 10).',
  },
  {
    param: 'abuse.password_lockout.window_seconds',
    group: 'Wrong passwords for one account',
    label: 'Window (seconds)',
    name: 'Window in seconds for wrong passwords for one account',
    hint: 'Default 3600 (1 hour).',
  },
  {
    param: 'abuse.hourly_send_budget',
    group: 'The whole instance',
    label: 'Codes sent per hour',
    name: 'Codes sent per hour',
    hint: 'Over it, sends are refused and an audit entry is written (default 1000). Test numbers do not count.',
  },
  {
    param: 'abuse.attempts_per_challenge',
    group: 'The whole instance',
    label: 'Wrong codes per challenge',
    name: 'Wrong codes per challenge',
    hint: 'Then the code stops working and a new one is needed: 1 to 10 (default 5).',
  },
  {
    param: 'abuse.code_lifetime_minutes',
    group: 'The whole instance',
    label: 'Code lifetime (minutes)',
    name: 'Code lifetime in minutes',
    hint: 'How long a code works after it is sent, as its SMS says: 1 to 60 (default 10).',
  },
  {
    param: 'abuse.wrong_code_backoff.initial_seconds',
    group: 'Wait for a new code after wrong codes',
    label: 'First wait (seconds)',
    name: 'First wait in seconds for a new code after wrong codes',
    hint: 'After the first challenge that ends on a wrong code, doubled for each further one; 0 switches the wait off (default 60).',
  },
  {
    param: 'abuse.wrong_code_backoff.max_seconds',
    group: 'Wait for a new code after wrong codes',
    label: 'Longest wait (seconds)',
    name: 'Longest wait in seconds for a new code after wrong codes',
    hint: 'Default 1920 (32 minutes). A right code starts again from the first wait.',
  },
] as const;

export type AbuseNumberParam = (typeof ABUSE_NUMBERS)[number]['param'];

export interface AbuseDraft {
  numbers: Record<AbuseNumberParam, string>;
  countryMode: AbuseSettings['sms_countries']['mode'];
  /** ISO 3166-1 alpha-2 codes, separated by commas or spaces. */
  countries: string;
}

function valueAt(view: InstanceSettings, param: string): unknown {
  return param.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], view);
}

export function abuseDraftFrom(view: InstanceSettings): AbuseDraft {
  const numbers = Object.fromEntries(ABUSE_NUMBERS.map(({ param }) => [param, String(valueAt(view, param))])) as Record<
    AbuseNumberParam,
    string
  >;
  return { numbers, countryMode: view.abuse.sms_countries.mode, countries: view.abuse.sms_countries.countries.join(', ') };
}

/** `" us, ca  GB"` → `["US", "CA", "GB"]`. */
export function parseCountries(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .filter((code) => code !== '')
    .map((code) => code.toUpperCase());
}

/** The merge patch from the loaded settings to the draft: only what changed (an empty object: nothing to save). */
export function buildAbusePatch(view: InstanceSettings, draft: AbuseDraft): JsonPatch {
  const patch: JsonPatch = {};
  for (const { param } of ABUSE_NUMBERS) {
    const typed = draft.numbers[param].trim();
    const value = /^\d+$/.test(typed) ? Number(typed) : typed;
    if (value !== valueAt(view, param)) setIn(patch, param, value);
  }
  if (draft.countryMode !== view.abuse.sms_countries.mode) setIn(patch, 'abuse.sms_countries.mode', draft.countryMode);
  const countries = parseCountries(draft.countries);
  if (countries.join() !== view.abuse.sms_countries.countries.join()) setIn(patch, 'abuse.sms_countries.countries', countries);
  return patch;
}
