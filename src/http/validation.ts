/**
 * Rules every input obeys, whatever its schema says: text that both stores can hold (PostgreSQL refuses NUL, and
 * an unpaired UTF-16 surrogate has no UTF-8 form), and numbers held exactly (finite, within ±(2^53 − 1)). They run
 * after the schema's own check, on what it made of the input: a query's `Infinity` or `1e400` is coerced to a
 * number that Ajv's range keywords let through, and only then can it be seen.
 */
import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify';

/** What a validator compiler gives Fastify (its type is not exported by name). */
type Validator = ReturnType<FastifySchemaCompiler<unknown>>;

/** NUL, a high surrogate not followed by a low one, or a low surrogate not preceded by a high one. */
const UNSTORABLE_TEXT = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function isStorableText(text: string): boolean {
  return !UNSTORABLE_TEXT.test(text);
}

function isExactNumber(value: number): boolean {
  return Number.isFinite(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER;
}

const TEXT_RULE = 'must not contain a NUL character or an unpaired UTF-16 surrogate';
const NAME_RULE = 'must not have a parameter name with a NUL character or an unpaired UTF-16 surrogate';
const NUMBER_RULE = `must be a finite number from -${Number.MAX_SAFE_INTEGER} to ${Number.MAX_SAFE_INTEGER}`;

/** A JSON Pointer segment, as Ajv writes `instancePath`. */
function pointerSegment(key: string | number): string {
  return `/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

function problem(instancePath: string, keyword: string, message: string): FastifySchemaValidationError {
  return { keyword, instancePath, schemaPath: '#', params: {}, message };
}

/** Every place in `data` that breaks the rules, in document order. Iterative: a deeply nested body cannot overflow the stack. */
export function inputRuleProblems(data: unknown): FastifySchemaValidationError[] {
  const problems: FastifySchemaValidationError[] = [];
  const pending: { value: unknown; path: string }[] = [{ value: data, path: '' }];
  while (pending.length > 0) {
    const { value, path } = pending.pop()!;
    if (typeof value === 'string') {
      if (!isStorableText(value)) problems.push(problem(path, 'storableText', TEXT_RULE));
    } else if (typeof value === 'number') {
      if (!isExactNumber(value)) problems.push(problem(path, 'exactNumber', NUMBER_RULE));
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) pending.push({ value: value[i], path: path + pointerSegment(i) });
    } else if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value);
      if (entries.some(([key]) => !isStorableText(key))) problems.push(problem(path, 'propertyNames', NAME_RULE));
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i]!;
        if (isStorableText(key)) pending.push({ value: child, path: path + pointerSegment(key) });
      }
    }
  }
  return problems;
}

/**
 * The schema's validator, then the rules above on the validated (coerced) data. A place that breaks a rule is
 * reported once, by the rule: the schema's complaints about the same place add nothing.
 */
export function withInputRules(validate: Validator): Validator {
  const checked: Validator = (data: unknown) => {
    const valid = validate(data);
    if (typeof valid !== 'boolean') throw new TypeError('withInputRules takes a synchronous validator');
    const problems = inputRuleProblems(data);
    if (valid && problems.length === 0) {
      checked.errors = null;
      return true;
    }
    const broken = new Set(problems.map((p) => p.instancePath));
    const schemaErrors = valid ? [] : (validate.errors ?? []).filter((e) => !broken.has(e.instancePath));
    checked.errors = [...problems, ...schemaErrors];
    return false;
  };
  return checked;
}
