/**
 * From a template to the message that leaves, and the rules a template must satisfy. Pure: the service
 * (service.ts) does the reading and writing. Sends, previews and the stored templates' figures all go
 * through `composeMessage`, so they agree on the text, its encoding and its segment count.
 */
import { AppError, errorDetail, type ErrorCode, type ErrorDetail } from '../../errors.js';
import { senderProblem, type InstanceSettings } from '../../instance/settings.js';
import { measureSms, type SmsMeasure } from '../encoding.js';
import { MAX_SEGMENTS, TEMPLATES, VARIABLES, type TemplateSlug, type VariableName } from './catalogue.js';
import { checkBody, renderBody, type TemplateProblem } from './render.js';
import { checkValues } from './variables.js';

/** What an operator may change on a template. */
export interface TemplateFields {
  body: string;
  /** Sender for this slug; ignored while a Twilio messaging service SID is configured. */
  from_number_override: string | null;
  /** false: authn.sh does not send this slug; the operator delivers it from the sms.queued event. */
  delivered_by_us: boolean;
}

export function defaultFields(slug: TemplateSlug): TemplateFields {
  return { body: TEMPLATES[slug].body, from_number_override: null, delivered_by_us: true };
}

export function isDefault(slug: TemplateSlug, fields: TemplateFields): boolean {
  const shipped = defaultFields(slug);
  return (
    fields.body === shipped.body &&
    fields.from_number_override === shipped.from_number_override &&
    fields.delivered_by_us === shipped.delivered_by_us
  );
}

export interface ComposedMessage extends SmsMeasure {
  body: string;
  /** The values the body was rendered with, after cleaning (variables.ts). */
  values: Partial<Record<VariableName, string>>;
}

/** The values previews use: each variable's sample, but the instance's own `app_name` and code lifetime. */
export function sampleValues(slug: TemplateSlug, settings: InstanceSettings): Record<string, string> {
  const instance: Partial<Record<VariableName, string>> = {
    app_name: settings.app_name,
    expires_in_minutes: String(settings.abuse.code_lifetime_minutes),
  };
  return Object.fromEntries(TEMPLATES[slug].variables.map((name) => [name, instance[name] ?? VARIABLES[name].sample]));
}

/** The origin-bound one-time code line (WebOTP: `@app.example.com #123456`) that ends a verification code, when enabled. */
export function originBoundLine(slug: TemplateSlug, settings: InstanceSettings, code: string | undefined): string | null {
  const { enabled, domain } = settings.sms.origin_bound_codes;
  if (slug !== 'verification_code' || !enabled || domain === null || !code) return null;
  return `@${domain} #${code}`;
}

/**
 * Renders `body` with `given` values (`app_name` defaults to the setting) and measures the result. A value
 * that breaks its variable's rule is refused (422 `sms_template_variable_invalid`, `variables.<name>`).
 */
export function composeMessage(
  slug: TemplateSlug,
  body: string,
  given: Readonly<Record<string, string>>,
  settings: InstanceSettings,
): ComposedMessage {
  const { values, problems } = checkValues(TEMPLATES[slug].variables, { app_name: settings.app_name, ...given });
  if (problems.length) {
    throw new AppError(
      problems.map(({ name, reason }) =>
        errorDetail('sms_template_variable_invalid', { paramName: `variables.${name}`, longMessage: `variables.${name} ${reason}` }),
      ),
    );
  }
  const rendered = renderBody(body, values);
  const line = originBoundLine(slug, settings, values.code);
  // The line must be the message's last: a body's trailing blank lines go.
  const text = line ? `${rendered.trimEnd()}\n${line}` : rendered;
  return { body: text, values, ...measureSms(text) };
}

const PROBLEM_CODES: Record<TemplateProblem['kind'], ErrorCode> = {
  empty: 'sms_template_body_empty',
  syntax: 'sms_template_syntax_invalid',
  unknown_variable: 'sms_template_variable_unknown',
  missing_required_variable: 'sms_template_variable_missing',
};

/** Every rule a template breaks under these settings, with the field it is about (`body`, `from_number_override`). */
export function validateTemplate(slug: TemplateSlug, fields: TemplateFields, settings: InstanceSettings): ErrorDetail[] {
  const { variables, required } = TEMPLATES[slug];
  const problems = checkBody(fields.body, variables, required);
  const errors = problems.map((problem) =>
    errorDetail(PROBLEM_CODES[problem.kind], {
      paramName: 'body',
      longMessage: `body: ${problem.detail}`,
      ...(problem.variable ? { meta: { variable: problem.variable } } : {}),
    }),
  );
  if (!problems.some((p) => p.kind === 'empty')) {
    const sample = composeMessage(slug, fields.body, sampleValues(slug, settings), settings);
    if (sample.segments > MAX_SEGMENTS) {
      errors.push(
        errorDetail('sms_template_too_long', {
          paramName: 'body',
          longMessage: `body: with sample values the message is ${sample.characters} ${sample.encoding} characters, ${sample.segments} segments; the most is ${MAX_SEGMENTS} segments`,
          meta: { encoding: sample.encoding, characters: sample.characters, segments: sample.segments, max_segments: MAX_SEGMENTS },
        }),
      );
    }
  }
  if (fields.from_number_override !== null) {
    const problem = senderProblem(fields.from_number_override, settings.sms.driver);
    if (problem)
      errors.push(
        errorDetail('form_param_format_invalid', { paramName: 'from_number_override', longMessage: `from_number_override ${problem}` }),
      );
  }
  return errors;
}
