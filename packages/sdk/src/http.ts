import type { ServerErrorCode } from './fapi.generated.js';

/**
 * Results and errors shared by the browser/Node core and the server helper: every API refusal comes back as a
 * value, `{ data: null, error }`, never as a thrown exception; only programmer errors throw.
 */

/** One entry of the server's error envelope `{ "errors": [ … ] }`. */
export interface ErrorDetail {
  code: ServerErrorCode | SdkErrorCode;
  message: string;
  long_message: string;
  meta?: { param_name?: string; [key: string]: unknown };
}

/**
 * Codes the SDK itself produces, beside the server's stable codes (`form_code_incorrect`,
 * `phone_code_resend_cooldown`, … — see the server README's error table).
 */
export type SdkErrorCode =
  /** The request never got an answer (offline, DNS, CORS refused by the browser). */
  | 'network_error'
  /** The server answered with something that is not authn.sh's JSON. */
  | 'invalid_response'
  /** A call that needs a signed-in session was made with none. */
  | 'signed_out';

export class AuthnError extends Error {
  override readonly name = 'AuthnError';
  /** The server's stable code (or an `SdkErrorCode`): branch on this, never on the message. */
  readonly code: ServerErrorCode | SdkErrorCode;
  /** A sentence for developers; show `message` or your own text to users. */
  readonly longMessage: string;
  /** The request field the error concerns (`code`, `phone_number`, `password`…), or null. */
  readonly paramName: string | null;
  /** The HTTP status (0 when there was no answer). */
  readonly status: number;
  /** From `Retry-After` on a 429: seconds to wait before the same call can succeed. */
  readonly retryAfterSeconds: number | null;
  /** Every error of the envelope (a validation refusal may name several fields). */
  readonly errors: readonly ErrorDetail[];

  constructor(detail: ErrorDetail, init: { status: number; retryAfterSeconds?: number | null; errors?: readonly ErrorDetail[] }) {
    super(detail.message);
    this.code = detail.code;
    this.longMessage = detail.long_message;
    this.paramName = detail.meta?.param_name ?? null;
    this.status = init.status;
    this.retryAfterSeconds = init.retryAfterSeconds ?? null;
    this.errors = init.errors ?? [detail];
  }
}

export type Result<T, E = AuthnError> = { data: T; error: null } | { data: null; error: E };

export const ok = <T>(data: T): { data: T; error: null } => ({ data, error: null });
export const fail = <E>(error: E): { data: null; error: E } => ({ data: null, error });

export function sdkError(code: SdkErrorCode, longMessage: string, status = 0): AuthnError {
  return new AuthnError({ code, message: longMessage, long_message: longMessage }, { status });
}

/** `Retry-After` as seconds (it may also be an HTTP date). */
function retryAfter(header: string | null, now: number): number | null {
  if (header === null) return null;
  if (/^\d+$/.test(header.trim())) return Number(header);
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

/** Reads an answer: its JSON on success, the first error of the envelope otherwise. */
export async function readResponse<T>(response: Response, now: number): Promise<Result<T>> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    return fail(sdkError('invalid_response', `The server answered HTTP ${response.status} without JSON.`, response.status));
  }
  if (response.ok) return ok(body as T);
  const errors = (body as { errors?: ErrorDetail[] } | null)?.errors;
  const first = Array.isArray(errors) ? errors[0] : undefined;
  if (!first || typeof first.code !== 'string')
    return fail(sdkError('invalid_response', `The server answered HTTP ${response.status} without an error envelope.`, response.status));
  return fail(
    new AuthnError(first, {
      status: response.status,
      retryAfterSeconds: retryAfter(response.headers.get('retry-after'), now),
      errors: errors!,
    }),
  );
}

/** The bytes of a base64url text (throws on a character outside the alphabet). */
export function base64urlBytes(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** A base64url part of a JWT as a JSON object, or null. */
export function decodeJwtPart(part: string | undefined): Record<string, unknown> | null {
  if (part === undefined) return null;
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(base64urlBytes(part)));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
