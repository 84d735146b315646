/**
 * Instance settings: the document, its defaults, JSON merge patch (RFC 7396) and the rules the *merged*
 * result must satisfy. Pure functions, no I/O: `service.ts` loads, applies, validates and saves atomically.
 *
 * Write-only credentials (`SECRET_PATHS`) never sit in the document. In a settings view they appear as
 * `REDACTED` when set and `null` when not; a PATCH that sends `REDACTED` back leaves the secret as it is, so a
 * read-modify-write round trip can never overwrite a credential with the marker.
 */
import { getCountries } from 'libphonenumber-js/max';
import { errorDetail, type ErrorDetail } from '../errors.js';
import { checkSender } from '../phone/numbers.js';
import { TEMPLATE_SLUGS, type TemplateSlug } from '../sms/templates/catalogue.js';
import { allowedOriginsProblems } from './origins.js';

export const REDACTED = '[REDACTED]';

export const SMS_DRIVERS = ['twilio', 'vonage'] as const;
export type SmsDriverName = (typeof SMS_DRIVERS)[number];
export const TEST_MODES = ['enabled', 'disabled', 'rejected'] as const;
export type TestMode = (typeof TEST_MODES)[number];
export const VONAGE_SIGNATURE_METHODS = ['md5hash', 'md5', 'sha1', 'sha256', 'sha512'] as const;
export type VonageSignatureMethod = (typeof VONAGE_SIGNATURE_METHODS)[number];
export const COUNTRY_LIST_MODES = ['allow', 'deny'] as const;
export type CountryListMode = (typeof COUNTRY_LIST_MODES)[number];

/** Bounds of the abuse settings, shared by validation and the API schema. */
export const ABUSE_BOUNDS = {
  max: { minimum: 1, maximum: 1_000_000 },
  window_seconds: { minimum: 1, maximum: 86_400 },
  hourly_send_budget: { minimum: 1, maximum: 10_000_000 },
  attempts_per_challenge: { minimum: 1, maximum: 10 },
  // One minute lets an app's CI see a code expire; an hour keeps an intercepted code from living long (the range of
  // Vonage Verify's pin_expiry).
  code_lifetime_minutes: { minimum: 1, maximum: 60 },
  // 0 switches the wait off; a day at most, like the limit windows.
  backoff_seconds: { minimum: 0, maximum: 86_400 },
  countries: { maxItems: 250 },
} as const;

/** Bounds of the routing and failover settings, shared by validation and the API schema. */
export const ROUTING_BOUNDS = {
  routes: { maxItems: 50 },
  countries: { minItems: 1, maxItems: 250 },
  after_transient_failures: { minimum: 1, maximum: 10 },
  receipt_wait_seconds: { minimum: 10, maximum: 3_600 },
} as const;

/** A fixed-window limit: at most `max` per `window_seconds`. */
export interface WindowLimit {
  max: number;
  window_seconds: number;
}

export const SECRET_PATHS = ['sms.twilio.auth_token', 'sms.vonage.api_secret', 'sms.vonage.signature_secret'] as const;
export type SecretPath = (typeof SECRET_PATHS)[number];

/**
 * Fields whose null is a value of its own rather than "back to the default": a merge patch or a stored document
 * that sets them to null keeps null.
 */
const NULL_VALUE_PATHS: ReadonlySet<string> = new Set(['sms.failover.receipt_wait_seconds']);

/** A secret field as the settings logic sees it: its plaintext (new or loaded), `REDACTED` (set, not loaded), or null. */
type SecretSlot = string | null;

/** The settings with secrets in place; what merge patch and validation work on. */
export interface InstanceSettings {
  sms: {
    /** null is the null driver. */
    driver: SmsDriverName | null;
    from_number: string | null;
    twilio: { account_sid: string | null; auth_token: SecretSlot; messaging_service_sid: string | null };
    vonage: {
      api_key: string | null;
      api_secret: SecretSlot;
      /** Verifies signed delivery receipts when set (the account's signature secret, not the API secret). */
      signature_secret: SecretSlot;
      signature_method: VonageSignatureMethod;
    };
    /**
     * Origin-bound one-time codes (WebOTP): when enabled, verification_code messages end with the line
     * `@<domain> #<code>`, which lets browsers and phones offer the code for autofill on that site only.
     */
    origin_bound_codes: { enabled: boolean; domain: string | null };
    /** Destination countries sent through another driver than `driver` first; a country is in one route at most. */
    routes: SmsRoute[];
    failover: {
      /** The second driver for numbers no route names, and for routes without a `failover_driver` of their own. */
      driver: SmsDriverName | null;
      /** Transient failures of the first driver in a row before the message moves to the failover driver. */
      after_transient_failures: number;
      /** How long the first driver may go without a delivery receipt before the message moves; null: never. */
      receipt_wait_seconds: number | null;
      /** The templates whose messages move for a missing receipt. */
      receipt_wait_templates: TemplateSlug[];
    };
  };
  /** The product name messages speak of (`{{app_name}}` in SMS templates). */
  app_name: string;
  test_mode: TestMode;
  multi_factor: { phone_code: { enabled: boolean } };
  /** Web origins (`scheme://host[:port]`) whose pages may call the FAPI from a browser (see `origins.ts`). */
  allowed_origins: string[];
  /** SMS pumping and brute-force defences (see the README, "Abuse defences"). */
  abuse: {
    sends_per_phone_number: WindowLimit;
    sends_per_ip: WindowLimit;
    /** Answers (codes, passwords) from one address per window, whichever challenge or account they are for. */
    attempts_per_ip: WindowLimit;
    /** New clients, sign-ups and sign-ins from one address per window. */
    creates_per_ip: WindowLimit;
    /** Codes sent per hour across the instance (test-range numbers excluded). */
    hourly_send_budget: number;
    /** Wrong codes a challenge takes before it fails. */
    attempts_per_challenge: number;
    /** How long a code works after it was sent (`{{expires_in_minutes}}`, the carrier's validity period). */
    code_lifetime_minutes: number;
    /**
     * The wait before a new code after wrong ones: `initial_seconds` after the first challenge that ended on a
     * wrong code, doubling with each further one up to `max_seconds`; a right code starts again from the first.
     */
    wrong_code_backoff: { initial_seconds: number; max_seconds: number };
    /** Wrong passwords per user before password sign-in is refused for the rest of the window. */
    password_lockout: { max_failures: number; window_seconds: number };
    /** Which destination countries (ISO 3166-1 alpha-2) codes may be sent to. */
    sms_countries: { mode: CountryListMode; countries: string[] };
  };
}

export interface SmsRoute {
  /** ISO 3166-1 alpha-2 codes, upper case. */
  countries: string[];
  driver: SmsDriverName;
  /** null: the instance-wide `sms.failover.driver`. */
  failover_driver: SmsDriverName | null;
}

export function defaultSettings(): InstanceSettings {
  return {
    sms: {
      driver: null,
      from_number: null,
      twilio: { account_sid: null, auth_token: null, messaging_service_sid: null },
      vonage: { api_key: null, api_secret: null, signature_secret: null, signature_method: 'md5hash' },
      origin_bound_codes: { enabled: false, domain: null },
      routes: [],
      failover: { driver: null, after_transient_failures: 2, receipt_wait_seconds: 60, receipt_wait_templates: ['verification_code'] },
    },
    app_name: 'authn.sh',
    test_mode: 'disabled',
    multi_factor: { phone_code: { enabled: true } },
    // No page on another origin may call the FAPI until the operator names it.
    allowed_origins: [],
    // Anchors: 5 sends per number per 10 min (Twilio Verify), US + CA only (Clerk, Stytch), lockout after 10
    // wrong passwords for an hour (Clerk), 5 wrong codes per challenge (Twilio Verify), 30 answers per address
    // per 5 min (Supabase Auth's verify limit), 30 new sign-ups or sign-ins per address per minute (Clerk's 5 per 10 s),
    // codes valid 10 minutes (Twilio Verify), a wait of 1 doubling to 32 minutes after wrong codes (Auth0's).
    abuse: {
      sends_per_phone_number: { max: 5, window_seconds: 600 },
      sends_per_ip: { max: 20, window_seconds: 600 },
      attempts_per_ip: { max: 30, window_seconds: 300 },
      creates_per_ip: { max: 30, window_seconds: 60 },
      hourly_send_budget: 1_000,
      attempts_per_challenge: 5,
      code_lifetime_minutes: 10,
      wrong_code_backoff: { initial_seconds: 60, max_seconds: 1_920 },
      password_lockout: { max_failures: 10, window_seconds: 3_600 },
      sms_countries: { mode: 'allow', countries: ['US', 'CA'] },
    },
  };
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function getPath(target: unknown, path: string): unknown {
  let node: unknown = target;
  for (const part of path.split('.')) {
    if (!isObject(node)) return undefined;
    node = node[part];
  }
  return node;
}

export function setPath(target: JsonObject, path: string, value: Json): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (!isObject(node[part])) node[part] = {};
    node = node[part] as JsonObject;
  }
  node[parts[parts.length - 1]!] = value;
}

/**
 * RFC 7396 merge patch of `patch` onto `target` (which it does not modify). `null` clears a field back to its
 * default (null for most; `test_mode` goes back to `disabled`), and since the document keeps its shape, an
 * object set to null has each of its fields cleared (`{"sms": {"twilio": null}}` clears every Twilio field).
 * An array is a value like any other: a patch replaces it whole. Fields in `nullValues` (dotted paths) keep a null.
 */
export function mergePatch<T>(target: T, patch: unknown, defaults: unknown, nullValues: ReadonlySet<string> = new Set()): T {
  return mergeAt(target, patch, defaults, nullValues, '') as T;
}

function mergeAt(target: unknown, patch: unknown, defaults: unknown, nullValues: ReadonlySet<string>, prefix: string): unknown {
  if (!isObject(patch)) return patch;
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const fallback = isObject(defaults) ? defaults[key] : undefined;
    if (value === null && !nullValues.has(path)) {
      out[key] = isObject(fallback) ? clearObject(fallback) : ((fallback as Json | undefined) ?? null);
    } else if (isObject(value)) {
      out[key] = mergeAt(out[key], value, fallback, nullValues, path) as Json;
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** `patch` merged onto `base` (the defaults when absent): a PATCH, the env bootstrap, a stored document. */
export function patchSettings(patch: unknown, base: InstanceSettings = defaultSettings()): InstanceSettings {
  return mergePatch(base, patch, defaultSettings(), NULL_VALUE_PATHS);
}

function clearObject(defaults: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(defaults)) out[key] = isObject(value) ? clearObject(value) : value;
  return out;
}

/** The patch with every `REDACTED` secret value removed: sending the marker back means "unchanged". */
export function dropRedactionMarkers(patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const copy = structuredClone(patch);
  for (const path of SECRET_PATHS) {
    const parts = path.split('.');
    const parent = getPath(copy, parts.slice(0, -1).join('.'));
    if (isObject(parent) && parent[parts[parts.length - 1]!] === REDACTED) delete parent[parts[parts.length - 1]!];
  }
  return copy;
}

export function redact(settings: InstanceSettings): InstanceSettings {
  const view = structuredClone(settings);
  for (const path of SECRET_PATHS) {
    if (getPath(view, path) !== null) setPath(view as unknown as JsonObject, path, REDACTED);
  }
  return view;
}

/**
 * Why `value` cannot be a sender under `driver` (null when it can): the rule for `sms.from_number` and for a
 * template's `from_number_override`.
 */
export function senderProblem(value: string, driver: SmsDriverName | null): string | null {
  const sender = checkSender(value);
  if (!sender.ok) return sender.reason;
  if (sender.kind === 'alphanumeric' && driver === 'twilio') {
    return 'is an alphanumeric sender id, which only the vonage driver supports; use an E.164 number or a short code';
  }
  return null;
}

/** A host name (RFC 1123 labels, at least two, the last not numeric): no scheme, port, path or IP address. */
const HOST_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;

const ACCOUNT_SID = /^AC[A-Za-z0-9]{32}$/;
const MESSAGING_SERVICE_SID = /^MG[A-Za-z0-9]{32}$/;
const TWILIO_AUTH_TOKEN = /^[A-Za-z0-9]{32}$/;
const VONAGE_API_KEY = /^[A-Za-z0-9]{8}$/;
const VONAGE_API_SECRET = /^[\x21-\x7e]{6,32}$/;
const VONAGE_SIGNATURE_SECRET = /^[\x21-\x7e]{8,128}$/;

/**
 * Every rule of the merged result, reported all at once with the field path. Messages describe the expected
 * form and never quote a value: some of these fields are secrets.
 */
export function validateSettings(s: InstanceSettings): ErrorDetail[] {
  const errors: ErrorDetail[] = [];
  const invalid = (paramName: string, longMessage: string) =>
    errors.push(errorDetail('form_param_format_invalid', { paramName, longMessage }));
  const value = (paramName: string, longMessage: string) =>
    errors.push(errorDetail('form_param_value_invalid', { paramName, longMessage }));
  const missing = (paramName: string, why: string) =>
    errors.push(errorDetail('form_param_missing', { paramName, longMessage: `${paramName} is required ${why}` }));

  const { sms } = s;
  if (sms.driver !== null && !SMS_DRIVERS.includes(sms.driver))
    value('sms.driver', 'sms.driver must be "twilio", "vonage" or null (the null driver)');
  // Printed into SMS bodies as plain text: one line, no template braces.
  if (!/^[^\r\n{}]{1,40}$/.test(s.app_name) || s.app_name.trim() === '') {
    invalid('app_name', 'app_name must be 1 to 40 characters on one line, without { or }');
  }
  if (!TEST_MODES.includes(s.test_mode)) value('test_mode', 'test_mode must be "enabled", "disabled" or "rejected"');
  if (!VONAGE_SIGNATURE_METHODS.includes(sms.vonage.signature_method)) {
    value('sms.vonage.signature_method', `sms.vonage.signature_method must be one of ${VONAGE_SIGNATURE_METHODS.join(', ')}`);
  }

  if (sms.from_number !== null) {
    const problem = senderProblem(sms.from_number, sms.driver);
    if (problem) invalid('sms.from_number', `sms.from_number ${problem}`);
  }
  const origin = sms.origin_bound_codes;
  if (origin.domain !== null && !HOST_NAME.test(origin.domain)) {
    invalid(
      'sms.origin_bound_codes.domain',
      'sms.origin_bound_codes.domain must be a lower-case host name such as app.example.com (no scheme, port or path)',
    );
  }
  if (origin.enabled && origin.domain === null) missing('sms.origin_bound_codes.domain', 'when sms.origin_bound_codes.enabled is true');
  const t = sms.twilio;
  if (t.account_sid !== null && !ACCOUNT_SID.test(t.account_sid))
    invalid('sms.twilio.account_sid', 'sms.twilio.account_sid must be "AC" followed by 32 letters or digits');
  if (t.auth_token !== null && t.auth_token !== REDACTED && !TWILIO_AUTH_TOKEN.test(t.auth_token)) {
    invalid('sms.twilio.auth_token', 'sms.twilio.auth_token must be 32 letters or digits');
  }
  if (t.messaging_service_sid !== null && !MESSAGING_SERVICE_SID.test(t.messaging_service_sid)) {
    invalid('sms.twilio.messaging_service_sid', 'sms.twilio.messaging_service_sid must be "MG" followed by 32 letters or digits');
  }
  const v = sms.vonage;
  if (v.api_key !== null && !VONAGE_API_KEY.test(v.api_key))
    invalid('sms.vonage.api_key', 'sms.vonage.api_key must be 8 letters or digits');
  if (v.api_secret !== null && v.api_secret !== REDACTED && !VONAGE_API_SECRET.test(v.api_secret)) {
    invalid('sms.vonage.api_secret', 'sms.vonage.api_secret must be 6 to 32 printable ASCII characters without spaces');
  }
  if (v.signature_secret !== null && v.signature_secret !== REDACTED && !VONAGE_SIGNATURE_SECRET.test(v.signature_secret)) {
    invalid('sms.vonage.signature_secret', 'sms.vonage.signature_secret must be 8 to 128 printable ASCII characters without spaces');
  }

  validateAbuse(s.abuse, errors);
  errors.push(...allowedOriginsProblems(s.allowed_origins));

  if (sms.driver !== null && SMS_DRIVERS.includes(sms.driver)) {
    for (const gap of credentialGaps(sms, sms.driver)) missing(gap.path, `when sms.driver is ${sms.driver}${gap.unless}`);
  }
  validateRouting(sms, errors);
  return errors;
}

const KNOWN_COUNTRIES: ReadonlySet<string> = new Set(getCountries());

/** A setting `driver` needs before it can send and does not have; `unless` says what would stand in for it. */
interface CredentialGap {
  path: string;
  unless: string;
}

function credentialGaps(sms: InstanceSettings['sms'], driver: SmsDriverName): CredentialGap[] {
  const gaps: CredentialGap[] = [];
  const need = (path: string, value: unknown, unless = '') => {
    if (value === null) gaps.push({ path, unless });
  };
  if (driver === 'twilio') {
    need('sms.twilio.account_sid', sms.twilio.account_sid);
    need('sms.twilio.auth_token', sms.twilio.auth_token);
    if (sms.twilio.messaging_service_sid === null)
      need('sms.from_number', sms.from_number, ' and no sms.twilio.messaging_service_sid is set');
  } else {
    need('sms.vonage.api_key', sms.vonage.api_key);
    need('sms.vonage.api_secret', sms.vonage.api_secret);
    need('sms.from_number', sms.from_number);
  }
  return gaps;
}

/**
 * Why `driver`, named at `path` by a route or as the failover driver, could not send (null when it can): its
 * credentials are incomplete, or (twilio without a messaging service) the sender is an alphanumeric id.
 */
function routedDriverProblem(sms: InstanceSettings['sms'], driver: SmsDriverName, path: string): string | null {
  const gaps = credentialGaps(sms, driver).map((gap) => gap.path);
  if (gaps.length)
    return `${path} is ${driver}, whose settings are incomplete: ${gaps.join(', ')} ${gaps.length === 1 ? 'is' : 'are'} not set`;
  if (
    driver === 'twilio' &&
    sms.twilio.messaging_service_sid === null &&
    sms.from_number !== null &&
    senderProblem(sms.from_number, 'twilio') !== null
  ) {
    return `${path} is twilio, which cannot send from sms.from_number: set sms.twilio.messaging_service_sid or a number sms.from_number twilio accepts`;
  }
  return null;
}

/** The rules of `sms.routes` and `sms.failover`; paths name the entry (`sms.routes.0.countries.1`). */
function validateRouting(sms: InstanceSettings['sms'], errors: ErrorDetail[]): void {
  const value = (paramName: string, longMessage: string) =>
    errors.push(errorDetail('form_param_value_invalid', { paramName, longMessage }));
  const driverRules = (path: string, driver: SmsDriverName | null, nullable: boolean) => {
    if (driver === null) return;
    if (!SMS_DRIVERS.includes(driver)) {
      value(path, `${path} must be "twilio" or "vonage"${nullable ? ' or null' : ''}`);
      return;
    }
    const problem = routedDriverProblem(sms, driver, path);
    if (problem) value(path, problem);
  };

  const { routes, failover } = sms;
  if (routes.length > ROUTING_BOUNDS.routes.maxItems) {
    value('sms.routes', `sms.routes holds at most ${ROUTING_BOUNDS.routes.maxItems} routes`);
  } else {
    const routeOf = new Map<string, number>();
    routes.forEach((route, i) => {
      const path = `sms.routes.${i}`;
      const { minItems, maxItems } = ROUTING_BOUNDS.countries;
      if (route.countries.length < minItems || route.countries.length > maxItems) {
        value(`${path}.countries`, `${path}.countries must hold ${minItems} to ${maxItems} countries`);
      }
      route.countries.forEach((country, j) => {
        const at = `${path}.countries.${j}`;
        const earlier = routeOf.get(country);
        if (!KNOWN_COUNTRIES.has(country)) value(at, `${at} must be an upper-case ISO 3166-1 alpha-2 country code`);
        else if (earlier === i) value(at, `${at} repeats a country earlier in ${path}.countries`);
        else if (earlier !== undefined) value(at, `${at} is already routed by sms.routes.${earlier}: a country is in one route at most`);
        else routeOf.set(country, i);
      });
      driverRules(`${path}.driver`, route.driver, false);
      if (route.failover_driver !== null && route.failover_driver === route.driver) {
        value(`${path}.failover_driver`, `${path}.failover_driver must differ from ${path}.driver (or be null for sms.failover.driver)`);
      } else {
        driverRules(`${path}.failover_driver`, route.failover_driver, true);
      }
    });
  }

  driverRules('sms.failover.driver', failover.driver, true);
  const within = (path: string, n: number, bounds: { minimum: number; maximum: number }, orNull = '') => {
    if (!Number.isInteger(n) || n < bounds.minimum || n > bounds.maximum)
      value(path, `${path} must be an integer from ${bounds.minimum} to ${bounds.maximum}${orNull}`);
  };
  within('sms.failover.after_transient_failures', failover.after_transient_failures, ROUTING_BOUNDS.after_transient_failures);
  if (failover.receipt_wait_seconds !== null) {
    within('sms.failover.receipt_wait_seconds', failover.receipt_wait_seconds, ROUTING_BOUNDS.receipt_wait_seconds, ', or null (never)');
  }
  failover.receipt_wait_templates.forEach((slug, j) => {
    const at = `sms.failover.receipt_wait_templates.${j}`;
    if (!TEMPLATE_SLUGS.includes(slug)) value(at, `${at} must be one of ${TEMPLATE_SLUGS.join(', ')}`);
    else if (failover.receipt_wait_templates.indexOf(slug) !== j) value(at, `${at} repeats a template`);
  });
}

/**
 * The countries `abuse.sms_countries` lets codes go to, as a list a phone input can offer: the operator's own
 * list (in their order) under `allow`, every other known country (alphabetical) under `deny`.
 */
export function smsCountryChoices({ mode, countries }: InstanceSettings['abuse']['sms_countries']): string[] {
  if (mode === 'allow') return [...countries];
  return [...KNOWN_COUNTRIES].filter((country) => !countries.includes(country)).sort();
}

/**
 * The countries whose national numbers a search reads ("(555) 555-0112" without +1): those codes may go to. A deny
 * list names no country of its own, so under it a number needs its country code.
 */
export function homeCountries(settings: InstanceSettings): string[] {
  const { mode, countries } = settings.abuse.sms_countries;
  return mode === 'allow' ? countries : [];
}

function validateAbuse(abuse: InstanceSettings['abuse'], errors: ErrorDetail[]): void {
  const within = (path: string, value: number, bounds: { minimum: number; maximum: number }) => {
    if (!Number.isInteger(value) || value < bounds.minimum || value > bounds.maximum) {
      errors.push(
        errorDetail('form_param_value_invalid', {
          paramName: path,
          longMessage: `${path} must be an integer from ${bounds.minimum} to ${bounds.maximum}`,
        }),
      );
    }
  };
  for (const name of ['sends_per_phone_number', 'sends_per_ip', 'attempts_per_ip', 'creates_per_ip'] as const) {
    within(`abuse.${name}.max`, abuse[name].max, ABUSE_BOUNDS.max);
    within(`abuse.${name}.window_seconds`, abuse[name].window_seconds, ABUSE_BOUNDS.window_seconds);
  }
  within('abuse.hourly_send_budget', abuse.hourly_send_budget, ABUSE_BOUNDS.hourly_send_budget);
  within('abuse.attempts_per_challenge', abuse.attempts_per_challenge, ABUSE_BOUNDS.attempts_per_challenge);
  within('abuse.code_lifetime_minutes', abuse.code_lifetime_minutes, ABUSE_BOUNDS.code_lifetime_minutes);
  const backoff = abuse.wrong_code_backoff;
  within('abuse.wrong_code_backoff.initial_seconds', backoff.initial_seconds, ABUSE_BOUNDS.backoff_seconds);
  within('abuse.wrong_code_backoff.max_seconds', backoff.max_seconds, ABUSE_BOUNDS.backoff_seconds);
  if (backoff.max_seconds < backoff.initial_seconds) {
    errors.push(
      errorDetail('form_param_value_invalid', {
        paramName: 'abuse.wrong_code_backoff.max_seconds',
        longMessage: 'abuse.wrong_code_backoff.max_seconds must not be less than abuse.wrong_code_backoff.initial_seconds',
      }),
    );
  }
  within('abuse.password_lockout.max_failures', abuse.password_lockout.max_failures, ABUSE_BOUNDS.max);
  within('abuse.password_lockout.window_seconds', abuse.password_lockout.window_seconds, ABUSE_BOUNDS.window_seconds);

  const { mode, countries } = abuse.sms_countries;
  if (!COUNTRY_LIST_MODES.includes(mode)) {
    errors.push(
      errorDetail('form_param_value_invalid', {
        paramName: 'abuse.sms_countries.mode',
        longMessage: 'abuse.sms_countries.mode must be "allow" or "deny"',
      }),
    );
  }
  const path = 'abuse.sms_countries.countries';
  const unknown = countries.findIndex((c) => !KNOWN_COUNTRIES.has(c));
  if (unknown >= 0) {
    errors.push(
      errorDetail('form_param_value_invalid', {
        paramName: path,
        longMessage: `${path} must hold upper-case ISO 3166-1 alpha-2 country codes (entry ${unknown + 1} is not one)`,
      }),
    );
  } else if (new Set(countries).size !== countries.length) {
    errors.push(errorDetail('form_param_value_invalid', { paramName: path, longMessage: `${path} must not repeat a country` }));
  } else if (countries.length > ABUSE_BOUNDS.countries.maxItems) {
    errors.push(
      errorDetail('form_param_value_invalid', {
        paramName: path,
        longMessage: `${path} holds at most ${ABUSE_BOUNDS.countries.maxItems} countries`,
      }),
    );
  }
}

export interface SettingsChange {
  path: string;
  /** Non-secret fields: the values. Secrets: only `set` / `cleared`. */
  old?: unknown;
  new?: unknown;
  change?: 'set' | 'cleared';
}

const SECRET_PATH_SET: ReadonlySet<string> = new Set(SECRET_PATHS);

/** Leaf-by-leaf difference. A secret counts as changed when a new plaintext was given (even the same one). */
export function diffSettings(before: InstanceSettings, after: InstanceSettings): SettingsChange[] {
  const changes: SettingsChange[] = [];
  const walk = (a: unknown, b: unknown, prefix: string) => {
    if (isObject(a) && isObject(b)) {
      for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) walk(a[key], b[key], prefix ? `${prefix}.${key}` : key);
      return;
    }
    if (SECRET_PATH_SET.has(prefix)) {
      if (b === null && a !== null) changes.push({ path: prefix, change: 'cleared' });
      else if (b !== null && b !== REDACTED) changes.push({ path: prefix, change: 'set' });
      return;
    }
    if (JSON.stringify(a) !== JSON.stringify(b)) changes.push({ path: prefix, old: a ?? null, new: b ?? null });
  };
  walk(before, after, '');
  return changes;
}

/** Splits settings into the stored document (no secrets) and the secret slots. */
export function splitSecrets(settings: InstanceSettings): { document: InstanceSettings; secrets: Record<SecretPath, SecretSlot> } {
  const document = structuredClone(settings);
  const secrets = {} as Record<SecretPath, SecretSlot>;
  for (const path of SECRET_PATHS) {
    secrets[path] = getPath(settings, path) as SecretSlot;
    setPath(document as unknown as JsonObject, path, null);
  }
  return { document, secrets };
}
