/**
 * Which web pages may use the FAPI from a browser: the instance's `allowed_origins`, each an exact origin
 * (`scheme://host[:port]`, as a browser sends it in the `Origin` header). Pure rules, no I/O: the FAPI's HTTP hook
 * (`src/http/fapi/browser.ts`) asks `originAllowed` of every request that has an `Origin` and turns the answer
 * into CORS headers or a refusal.
 */
import { errorDetail, type ErrorDetail } from '../errors.js';

export const ALLOWED_ORIGINS_MAX = 100;
/** Longest origin accepted: a host name is at most 253 characters, plus a scheme and a port. */
export const ORIGIN_MAX_LENGTH = 300;

/**
 * Whether a request's `Origin` header names a page the instance trusts: exactly one of the list (compared as
 * text, as browsers send it); any other value, `null` included, is not. A request without the header is not a
 * page's cross-origin call (a native app, a server, curl) and is not asked about.
 */
export function originAllowed(allowedOrigins: readonly string[], origin: string): boolean {
  return allowedOrigins.includes(origin);
}

/** Loopback hosts, where browsers treat plain http as a secure context (and accept `Secure` cookies). */
function isLoopback(hostname: string): boolean {
  return (
    hostname === 'localhost' || hostname.endsWith('.localhost') || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)
  );
}

/**
 * Why `value` cannot be an allowed origin (null when it can). It must be written exactly as a browser sends it,
 * since origins are compared as text: lower case, no default port, no path or trailing slash.
 */
export function originProblem(value: string): string | null {
  const form = 'an origin such as https://app.example.com (scheme, host and optional port; no path, query or trailing slash)';
  if (value.includes('*')) return 'has a wildcard: list each origin on its own';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `is not ${form}`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must use https (or http on localhost)';
  // The session cookie is Secure: on plain http it would not be kept, and the client token would travel in clear.
  if (url.protocol === 'http:' && !isLoopback(url.hostname))
    return 'must use https: plain http is accepted only for localhost and 127.0.0.1 (local development)';
  if (url.origin !== value) {
    return url.username || url.password || url.pathname !== '/' || url.search || url.hash || value.endsWith('/')
      ? `is not ${form}`
      : `must be written as the browser sends it, ${url.origin} (lower case, without the default port)`;
  }
  return null;
}

/** Every problem of the list, by entry; the messages name the entry by position (1-based). */
export function allowedOriginsProblems(origins: readonly string[]): ErrorDetail[] {
  const paramName = 'allowed_origins';
  const problem = (longMessage: string) => errorDetail('form_param_value_invalid', { paramName, longMessage });
  if (origins.length > ALLOWED_ORIGINS_MAX) return [problem(`allowed_origins holds at most ${ALLOWED_ORIGINS_MAX} origins`)];
  const errors: ErrorDetail[] = [];
  origins.forEach((origin, i) => {
    const why = origin.length > ORIGIN_MAX_LENGTH ? `is longer than ${ORIGIN_MAX_LENGTH} characters` : originProblem(origin);
    if (why) errors.push(problem(`allowed_origins entry ${i + 1} ${why}`));
    else if (origins.indexOf(origin) !== i)
      errors.push(problem(`allowed_origins entry ${i + 1} repeats entry ${origins.indexOf(origin) + 1}`));
  });
  return errors;
}
