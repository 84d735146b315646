/**
 * Variable values are plain text, checked or cleaned by kind (`VariableKind` in catalogue.ts) before a body
 * is rendered, on every send and preview:
 * - every value ends up on one line: line breaks, other control and format characters (bidi overrides,
 *   zero-width joiners) become spaces, runs of white space collapse, and `{` `}` are removed;
 * - `code`, `number` and `url` values are refused unless they are exactly that (a code is digits only);
 * - `person_name` keeps only letters, combining marks, spaces, apostrophes and hyphens (no digits, dots,
 *   slashes, `@`, `:`), so an end user's name can carry neither a code nor a link;
 * - text is cut to the variable's maximum length.
 * Values are inserted once and never re-scanned (render.ts), and the origin-bound line is appended after the
 * body, so no value can reach the last line a browser reads a code from.
 */
import { VARIABLES, type VariableName } from './catalogue.js';

export type ValueCheck = { ok: true; value: string } | { ok: false; reason: string };

const SEPARATORS = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\s]+/gu;
const NOT_NAME = /[^\p{L}\p{M}' \u2019-]+/gu;

function oneLine(text: string): string {
  return text.replace(/[{}]/g, '').replace(SEPARATORS, ' ').trim();
}

function cut(text: string, maxLength: number): string {
  const chars = Array.from(text);
  return chars.length <= maxLength ? text : chars.slice(0, maxLength).join('').trimEnd();
}

function digits(value: string, maxLength: number, what: string): ValueCheck {
  if (new RegExp(`^[0-9]{1,${maxLength}}$`).test(value)) return { ok: true, value };
  return { ok: false, reason: `must be ${what} of 1 to ${maxLength} digits` };
}

export function checkValue(name: VariableName, raw: string): ValueCheck {
  const spec = VARIABLES[name];
  switch (spec.kind) {
    case 'code':
      return digits(raw, spec.maxLength, 'a code');
    case 'number':
      return digits(raw, spec.maxLength, 'a whole number');
    case 'url': {
      const refusal: ValueCheck = {
        ok: false,
        reason: `must be an absolute http or https URL of at most ${spec.maxLength} characters, without spaces or braces`,
      };
      if (raw.length > spec.maxLength || /[\s{}\p{Cc}\p{Cf}]/u.test(raw) || !URL.canParse(raw)) return refusal;
      const { protocol } = new URL(raw);
      return protocol === 'https:' || protocol === 'http:' ? { ok: true, value: raw } : refusal;
    }
    case 'operator_text':
      return { ok: true, value: cut(oneLine(raw), spec.maxLength) };
    case 'person_name':
      return { ok: true, value: cut(oneLine(raw.replace(NOT_NAME, ' ')), spec.maxLength) };
  }
}

export interface ValueProblem {
  name: VariableName;
  reason: string;
}

/** The values a template of these variables is rendered with; values for other names are dropped. */
export function checkValues(
  allowed: readonly VariableName[],
  given: Readonly<Record<string, string>>,
): { values: Partial<Record<VariableName, string>>; problems: ValueProblem[] } {
  const values: Partial<Record<VariableName, string>> = {};
  const problems: ValueProblem[] = [];
  for (const name of allowed) {
    const raw = given[name];
    if (raw === undefined) continue;
    const check = checkValue(name, raw);
    if (check.ok) values[name] = check.value;
    else problems.push({ name, reason: check.reason });
  }
  return { values, problems };
}
