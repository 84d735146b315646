/**
 * Typed errors with stable codes. Every error a client can see is an `AppError` whose `code` comes from
 * `ERROR_CODES`; the HTTP layer turns it into the envelope
 * `{ "errors": [ { "code", "message", "long_message", "meta": { "param_name" } } ] }`.
 * A `cause` is kept for logs and never sent. Codes are part of the API: do not rename them.
 */

interface ErrorCodeSpec {
  status: number;
  /** Short, stable, human sentence shown as `message`. */
  message: string;
}

export const ERROR_CODES = {
  // Request shape (src/http)
  malformed_request_body: { status: 400, message: 'The request body is not valid JSON' },
  malformed_request_url: { status: 400, message: 'The request URL is not valid' },
  path_param_too_long: { status: 414, message: 'A path parameter is too long' },
  malformed_request: { status: 400, message: 'The request is not valid HTTP' },
  request_headers_too_large: { status: 431, message: 'The request headers are too large' },
  request_timeout: { status: 408, message: 'The request took too long to arrive' },
  unsupported_media_type: { status: 415, message: 'Unsupported content type' },
  request_body_too_large: { status: 413, message: 'The request body is too large' },
  route_not_found: { status: 404, message: 'No such route' },
  resource_not_found: { status: 404, message: 'Resource not found' },
  internal_error: { status: 500, message: 'Internal error' },
  errors_truncated: { status: 422, message: 'More errors than are reported' },

  // BAPI authentication (src/auth/secret-keys.ts)
  authorization_header_missing: { status: 401, message: 'Authorization header missing' },
  authorization_header_malformed: { status: 401, message: 'Authorization header malformed' },
  secret_key_invalid: { status: 401, message: 'Secret key invalid' },

  // Field validation (any BAPI / FAPI body or query)
  form_param_unknown: { status: 422, message: 'Unknown parameter' },
  form_param_type_invalid: { status: 422, message: 'Parameter has the wrong type' },
  form_param_format_invalid: { status: 422, message: 'Parameter has an invalid format' },
  form_param_missing: { status: 422, message: 'Parameter missing' },
  form_param_value_invalid: { status: 422, message: 'Parameter value invalid' },

  // SMS carrier callbacks and metrics (src/sms/callbacks.ts, src/http/metrics.ts)
  callback_signature_invalid: { status: 403, message: 'Callback not authenticated' },
  metrics_token_invalid: { status: 401, message: 'Metrics token invalid' },
  // FAPI credentials: client tokens and session tokens (src/auth)
  client_token_missing: { status: 401, message: 'Client token missing' },
  client_token_invalid: { status: 401, message: 'Client token invalid' },
  session_token_missing: { status: 401, message: 'Session token missing' },
  session_token_invalid: { status: 401, message: 'Session token invalid' },
  session_inactive: { status: 401, message: 'Session is no longer active' },
  // FAPI from a browser: the page's origin (src/instance/origins.ts)
  origin_not_allowed: { status: 403, message: 'Origin not allowed' },

  // Sign-up, sign-in and MFA flows (src/auth)
  form_identifier_exists: { status: 422, message: 'That phone number is taken' },
  form_identifier_not_found: { status: 422, message: 'No account with that phone number' },
  form_password_incorrect: { status: 422, message: 'Password is incorrect' },
  password_attempts_exceeded: { status: 429, message: 'Too many wrong passwords' },
  strategy_not_allowed: { status: 422, message: 'Strategy not allowed' },
  flow_step_invalid: { status: 422, message: 'This step does not apply now' },
  flow_abandoned: { status: 422, message: 'This sign-up or sign-in was abandoned' },
  test_number_rejected: { status: 422, message: 'Test phone numbers are not accepted' },
  phone_mfa_disabled: { status: 422, message: 'Phone second factor is switched off' },
  mfa_already_enrolled: { status: 422, message: 'Already enrolled as a second factor' },

  // Challenges: one-time codes and abuse limits (src/challenges)
  verification_not_prepared: { status: 422, message: 'No code was sent yet' },
  form_code_incorrect: { status: 422, message: 'Incorrect code' },
  verification_expired: { status: 422, message: 'The code has expired' },
  verification_failed: { status: 422, message: 'Too many wrong codes' },
  phone_code_resend_cooldown: { status: 429, message: 'A code was sent moments ago' },
  phone_code_failure_backoff: { status: 429, message: 'Wrong codes were entered: wait before requesting a new one' },
  phone_country_not_allowed: { status: 422, message: 'SMS to this country is not allowed' },
  phone_number_send_limit_reached: { status: 429, message: 'Too many codes sent to this number' },
  ip_send_limit_reached: { status: 429, message: 'Too many codes requested from this address' },
  ip_attempt_limit_reached: { status: 429, message: 'Too many verification attempts from this address' },
  ip_create_limit_reached: { status: 429, message: 'Too many sign-ups and sign-ins started from this address' },
  sms_send_budget_exhausted: { status: 429, message: 'The hourly SMS budget is used up' },

  // Webhooks (src/webhooks)
  webhook_url_invalid: { status: 422, message: 'Webhook URL invalid' },
  webhook_url_scheme_unsupported: { status: 422, message: 'Webhook URL must use http or https' },
  webhook_url_private: { status: 422, message: 'Webhook URL targets a private address' },
  webhook_url_unresolvable: { status: 422, message: 'Webhook URL host does not resolve' },
  webhook_endpoint_disabled: { status: 409, message: 'Webhook endpoint disabled' },
  webhook_delivery_in_progress: { status: 409, message: 'Webhook delivery in progress' },

  // SMS templates (src/sms/templates): a refused template change or preview names the problem
  sms_template_not_found: { status: 404, message: 'SMS template not found' },
  sms_template_body_empty: { status: 422, message: 'The template body is empty' },
  sms_template_syntax_invalid: { status: 422, message: 'The template body has invalid syntax' },
  sms_template_variable_unknown: { status: 422, message: 'Unknown template variable' },
  sms_template_variable_missing: { status: 422, message: 'Required template variable missing' },
  sms_template_variable_invalid: { status: 422, message: 'Template variable value invalid' },
  sms_template_too_long: { status: 422, message: 'The message is too long' },
} as const satisfies Record<string, ErrorCodeSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * `meta` is always an object. `param_name` names the one input the error is about, when there is one: a field's
 * path (`sms.from_number`), the header `Authorization` for a credential, or a path parameter (`id`, `slug`).
 * Errors about the state of things or a limit (a flow step, a cooldown) have no `param_name`.
 */
export interface ErrorDetail {
  code: ErrorCode;
  message: string;
  long_message: string;
  meta: { param_name?: string } & Record<string, unknown>;
}

export interface AppErrorInit {
  longMessage?: string;
  paramName?: string;
  meta?: Record<string, unknown>;
  /** Extra response headers, e.g. `Retry-After`. */
  headers?: Record<string, string>;
  cause?: unknown;
}

/**
 * The most details one answer reports: past them a last detail (`errors_truncated`) counts the rest, so that a
 * body of thousands of bad fields cannot be answered with megabytes.
 */
export const MAX_ERROR_DETAILS = 10;

function capDetails(details: ErrorDetail[]): ErrorDetail[] {
  if (details.length <= MAX_ERROR_DETAILS) return details;
  const omitted = details.length - MAX_ERROR_DETAILS;
  const note = errorDetail('errors_truncated', {
    longMessage: `${omitted} more errors are not reported: correct these and send the request again.`,
    meta: { omitted },
  });
  return [...details.slice(0, MAX_ERROR_DETAILS), note];
}

export class AppError extends Error {
  readonly status: number;
  readonly details: ErrorDetail[];
  readonly headers: Record<string, string>;

  constructor(details: ErrorDetail[], init: { headers?: Record<string, string>; cause?: unknown } = {}) {
    const first = details[0];
    if (!first) throw new TypeError('AppError needs at least one detail');
    super(first.long_message, { cause: init.cause });
    this.name = 'AppError';
    this.details = capDetails(details);
    // Several details share one status: the first one's (all validation details are 422).
    this.status = ERROR_CODES[first.code].status;
    this.headers = init.headers ?? {};
  }

  get code(): ErrorCode {
    return this.details[0]!.code;
  }
}

export function errorDetail(code: ErrorCode, init: Omit<AppErrorInit, 'headers' | 'cause'> = {}): ErrorDetail {
  const spec = ERROR_CODES[code];
  const meta = { ...init.meta, ...(init.paramName !== undefined ? { param_name: init.paramName } : {}) };
  return { code, message: spec.message, long_message: init.longMessage ?? spec.message, meta };
}

/** The one way to make a client-facing error: `throw appError('form_param_missing', { paramName: 'to' })`. */
export function appError(code: ErrorCode, init: AppErrorInit = {}): AppError {
  return new AppError([errorDetail(code, init)], { headers: init.headers, cause: init.cause });
}

/** Start-up problems (configuration, key mismatch): one clear line, then exit. Never carries a secret value. */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}
