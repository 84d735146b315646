/**
 * The dashboard's only way to the server: the BAPI over fetch, with the operator's secret key. Errors arrive as
 * the API's envelope; a network failure is turned into the same shape so pages show one kind of error.
 */
import type { ApiErrorDetail } from './api-types.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errors: ApiErrorDetail[],
  ) {
    super(errors.map((e) => e.long_message).join(' '));
    this.name = 'ApiError';
  }

  get code(): string {
    return this.errors[0]?.code ?? 'unknown_error';
  }
}

/** Whatever a call threw, as an ApiError (a bug or a garbled answer still gets a readable message). */
export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError(0, [
    { code: 'unexpected_error', message: 'Unexpected error', long_message: error instanceof Error ? error.message : String(error) },
  ]);
}

export type Query = Record<string, string | number | undefined>;

export interface Api {
  get<T>(path: string, query?: Query): Promise<T>;
  patch<T>(path: string, body: unknown): Promise<T>;
  /** An action. Without a body nothing is sent, not even a content type (JSON with an empty body is refused). */
  post<T>(path: string, body?: unknown): Promise<T>;
  delete<T>(path: string): Promise<T>;
}

function withQuery(path: string, query: Query | undefined): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) if (value !== undefined && value !== '') params.set(name, String(value));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

async function errorOf(response: Response): Promise<ApiError> {
  const body: unknown = await response.json().catch(() => null);
  const errors = (body as { errors?: ApiErrorDetail[] } | null)?.errors;
  if (Array.isArray(errors) && errors.length > 0) return new ApiError(response.status, errors);
  return new ApiError(response.status, [
    {
      code: 'unexpected_response',
      message: 'Unexpected response',
      long_message: `The server answered ${response.status} without an error description.`,
    },
  ]);
}

/**
 * `onUnauthorized` runs when the key stops working mid-session (revoked): the app signs out. The key lives in the
 * closure, never in a request log or a URL.
 */
export function createApi(secretKey: string, onUnauthorized: (error: ApiError) => void = () => {}): Api {
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(path, {
        method,
        cache: 'no-store',
        headers: { authorization: `Bearer ${secretKey}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch {
      throw new ApiError(0, [
        {
          code: 'network_error',
          message: 'Could not reach the server',
          long_message: 'Could not reach the authn.sh server. Check that it is running, then try again.',
        },
      ]);
    }
    if (response.ok) return (await response.json()) as T;
    const error = await errorOf(response);
    if (response.status === 401) onUnauthorized(error);
    throw error;
  }
  return {
    get: (path, query) => call('GET', withQuery(path, query)),
    patch: (path, body) => call('PATCH', path, body),
    post: (path, body) => call('POST', path, body),
    delete: (path) => call('DELETE', path),
  };
}
