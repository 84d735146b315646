/**
 * The API's refusals in the page's words. Each form lists its fields once, in the order the page shows them, with
 * the label an operator reads there; an error then names that label instead of the API's parameter
 * (`sms.twilio.account_sid` → "Account SID"), and a form's errors come in the order of its fields. The server's
 * messages stay as they are (they speak to developers); the dashboard translates. Pure functions, no DOM.
 */
import type { ApiErrorDetail } from './api-types.js';

export interface FormField {
  /** The API parameter; its items (`event_types.2`) belong to the field too. */
  param: string;
  /** As the page names the field, at the start of a sentence. */
  label: string;
  /** What the page says instead of the API's message, by error code, where the API's words would not help here. */
  says?: Readonly<Record<string, string>>;
}

/** "Auth token" → "auth token" inside a sentence; "API secret" keeps its acronym. */
export function inSentence(label: string): string {
  return /^[A-Z][a-z]/.test(label) ? label[0]!.toLowerCase() + label.slice(1) : label;
}

/** The field a parameter belongs to: its own, else the one it is an item of (the longest such). */
export function fieldOf(fields: readonly FormField[], param: string): FormField | undefined {
  const own = fields.find((field) => field.param === param);
  if (own) return own;
  return fields.filter((field) => param.startsWith(`${field.param}.`)).sort((a, b) => b.param.length - a.param.length)[0];
}

/** The schema validator's wording ("must be <= 10"), as a sentence says it. */
const VALIDATOR_WORDING: [RegExp, string][] = [
  [/\bmust be <= (\S+)/g, 'must be at most $1'],
  [/\bmust be >= (\S+)/g, 'must be at least $1'],
  [/\bmust be < (\S+)/g, 'must be less than $1'],
  [/\bmust be > (\S+)/g, 'must be more than $1'],
  [/\bmust NOT have more than (\d+) characters/g, 'must be at most $1 characters long'],
  [/\bmust NOT have fewer than (\d+) characters/g, 'must be at least $1 characters long'],
  [/\bmust NOT have more than (\d+) items/g, 'must have at most $1 entries'],
  [/\bmust NOT have fewer than (\d+) items/g, 'must have at least $1 entries'],
];

const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The message with the parameters of the form named by their labels: the error's own parameter where the message
 * starts with it ("sms.from_number must …", "body: …"), "the body" as "the message", and any other dotted or
 * snake_case parameter of the form wherever it appears. A one-word parameter elsewhere in a sentence is left alone:
 * "to" or "url" there are as likely to be plain words.
 */
function withLabels(message: string, param: string, field: FormField, fields: readonly FormField[]): string {
  let spoken = message.replace(new RegExp(`^${escaped(param)}(?=[ :])`), field.label);
  spoken = spoken.replace(new RegExp(`\\bthe ${escaped(field.param)}\\b`, 'g'), `the ${inSentence(field.label)}`);
  for (const other of [...fields].sort((a, b) => b.param.length - a.param.length)) {
    if (!/[._]/.test(other.param)) continue;
    spoken = spoken.replace(new RegExp(`(?<![\\w.{])${escaped(other.param)}(?:\\.\\w+)*(?![\\w.])`, 'g'), other.label);
  }
  for (const [pattern, wording] of VALIDATOR_WORDING) spoken = spoken.replace(pattern, wording);
  return spoken;
}

/** One error in the page's words, about the page's field (an item's error is its field's). */
function speak(error: ApiErrorDetail, fields: readonly FormField[]): ApiErrorDetail {
  const param = error.meta?.param_name;
  const field = param === undefined ? undefined : fieldOf(fields, param);
  if (param === undefined || !field) return error;
  const longMessage =
    field.says?.[error.code] ??
    (error.code === 'form_param_missing' ? `${field.label} is required.` : withLabels(error.long_message, param, field, fields));
  return { ...error, long_message: longMessage, meta: { ...error.meta, param_name: field.param } };
}

/**
 * A refusal's errors as the page shows them: in its words, errors about the form as a whole (or a parameter the page
 * does not show) first, then the fields' in page order; an error said twice once.
 */
export function speakErrors(errors: readonly ApiErrorDetail[], fields: readonly FormField[]): ApiErrorDetail[] {
  const position = (error: ApiErrorDetail) => {
    const param = error.meta?.param_name;
    return param === undefined ? -1 : fields.findIndex((field) => field.param === param);
  };
  const seen = new Set<string>();
  return errors
    .map((error) => speak(error, fields))
    .filter((error) => {
      const key = `${error.code} ${error.meta?.param_name ?? ''} ${error.long_message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .map((error, index) => ({ error, index }))
    .sort((a, b) => position(a.error) - position(b.error) || a.index - b.index)
    .map(({ error }) => error);
}
