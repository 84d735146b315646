/**
 * A strict, logic-less renderer: `{{name}}` (spaces allowed inside the braces) is the only syntax. Any other
 * use of `{{` or `}}`, an unknown variable or a missing required one is an error the caller reports. Values
 * are inserted as plain text, once, and never re-scanned, so a value cannot inject a variable.
 */

const TOKEN = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

export interface TemplateProblem {
  kind: 'empty' | 'syntax' | 'unknown_variable' | 'missing_required_variable';
  detail: string;
  /** The variable an unknown / missing problem is about. */
  variable?: string;
}

/** Variables a body uses, in order of first use. */
export function variablesOf(body: string): string[] {
  return [...new Set(Array.from(body.matchAll(TOKEN), (m) => m[1]!))];
}

export function checkBody(body: string, allowed: readonly string[], required: readonly string[]): TemplateProblem[] {
  if (body.trim() === '') return [{ kind: 'empty', detail: 'the body must not be empty' }];
  const problems: TemplateProblem[] = [];
  // Blank out the well-formed tokens (keeping offsets) and look for a brace pair left over.
  const stray = /\{\{|\}\}/.exec(body.replace(TOKEN, (token) => ' '.repeat(token.length)));
  if (stray) {
    problems.push({
      kind: 'syntax',
      detail: `unexpected "${stray[0]}" at character ${Array.from(body.slice(0, stray.index)).length + 1}: double braces are used only as {{variable}}`,
    });
  }
  const used = variablesOf(body);
  for (const name of used) {
    if (!allowed.includes(name))
      problems.push({
        kind: 'unknown_variable',
        variable: name,
        detail: `{{${name}}} is not a variable of this template (allowed: ${allowed.map((v) => `{{${v}}}`).join(', ')})`,
      });
  }
  for (const name of required) {
    if (!used.includes(name))
      problems.push({ kind: 'missing_required_variable', variable: name, detail: `the body must contain {{${name}}}` });
  }
  return problems;
}

/** Renders a body already accepted by `checkBody`; a variable without a value renders empty. */
export function renderBody(body: string, values: Readonly<Record<string, string>>): string {
  return body.replace(TOKEN, (_match, name: string) => values[name] ?? '');
}
