/**
 * Configuration: read from the environment once, at start, into a typed and frozen object. A bad value stops
 * the start with one line that names the variable (and never echoes a secret's value).
 * Every variable is documented in docs/configuration.md; a test keeps the two in step.
 */
import path from 'node:path';
import ipaddr from 'ipaddr.js';
import { StartupError } from './errors.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const SECRET_KEY_PATTERN = /^sk_(live|test)_[A-Za-z0-9]{32,64}$/;

/** Raw values of the env-bootstrap variables; validated by `src/instance/bootstrap.ts` with the PATCH rules. */
export interface BootstrapEnv {
  AUTHN_SMS_DRIVER?: string;
  AUTHN_SMS_FROM_NUMBER?: string;
  AUTHN_SMS_TWILIO_ACCOUNT_SID?: string;
  AUTHN_SMS_TWILIO_AUTH_TOKEN?: string;
  AUTHN_SMS_TWILIO_MESSAGING_SERVICE_SID?: string;
  AUTHN_SMS_VONAGE_API_KEY?: string;
  AUTHN_SMS_VONAGE_API_SECRET?: string;
  AUTHN_SMS_ROUTES?: string;
  AUTHN_SMS_FAILOVER_DRIVER?: string;
  AUTHN_TEST_MODE?: string;
  AUTHN_ALLOWED_ORIGINS?: string;
}
export const BOOTSTRAP_VARIABLES = [
  'AUTHN_SMS_DRIVER',
  'AUTHN_SMS_FROM_NUMBER',
  'AUTHN_SMS_TWILIO_ACCOUNT_SID',
  'AUTHN_SMS_TWILIO_AUTH_TOKEN',
  'AUTHN_SMS_TWILIO_MESSAGING_SERVICE_SID',
  'AUTHN_SMS_VONAGE_API_KEY',
  'AUTHN_SMS_VONAGE_API_SECRET',
  'AUTHN_SMS_ROUTES',
  'AUTHN_SMS_FAILOVER_DRIVER',
  'AUTHN_TEST_MODE',
  'AUTHN_ALLOWED_ORIGINS',
] as const satisfies readonly (keyof BootstrapEnv)[];

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** `postgres://…` switches the store to PostgreSQL; null means SQLite in `dataDir`. */
  databaseUrl: string | null;
  /** 32-byte key; null means development mode (a key file in `dataDir`). */
  encryptionKey: Buffer | null;
  /** Older keys, accepted for decryption only; stored credentials are re-encrypted with the current key at start. */
  previousEncryptionKeys: Buffer[];
  secretKey: string | null;
  publicUrl: string;
  logLevel: LogLevel;
  bodyLimitBytes: number;
  /**
   * Which peers may say who the client is in `X-Forwarded-For`: false (none, the default: the TCP peer is the
   * client), the number of proxy hops in front, or the proxies' addresses and CIDR ranges.
   */
  trustProxy: false | number | string[];
  redisUrl: string | null;
  carriers: { twilioApiUrl: string; vonageApiUrl: string; timeoutMs: number };
  sms: SmsDispatchConfig;
  /** When set, `GET /metrics` wants `Authorization: Bearer <token>`; null leaves it open. */
  metricsToken: string | null;
  webhooks: WebhooksConfig;
  bootstrap: BootstrapEnv;
}

/** The outbox dispatcher and carrier callbacks (see docs/sms.md, "Dispatcher settings"). */
export interface SmsDispatchConfig {
  /** false: this process queues messages but never sends them (a web-only process in a scale-out setup). */
  dispatcher: boolean;
  /** Carrier requests in flight at once, per process. */
  concurrency: number;
  /** Most messages claimed in one transaction. */
  batchSize: number;
  /** How often an idle dispatcher looks for due messages (ms). */
  pollMs: number;
  /** How long a claim holds a message (ms); after that a crashed worker's messages are claimable again. */
  leaseMs: number;
  /** Carrier attempts before a message that keeps failing transiently is failed. */
  maxAttempts: number;
  /** First retry delay (ms); doubles per attempt, with jitter, up to `retryMaxMs`. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** On SIGTERM, how long in-flight sends may finish before they are released (ms). */
  shutdownGraceMs: number;
  /** Oldest signed Vonage delivery receipt accepted (seconds either side of now). */
  vonageDlrMaxAgeSeconds: number;
}

/** Outbound webhook delivery (src/webhooks). */
export interface WebhooksConfig {
  /** Let endpoints target private, loopback and link-local addresses (local development and tests). */
  allowPrivate: boolean;
  /** Delays before each retry, in ms, after the first attempt (made at once). Its length is the number of retries. */
  retrySchedule: number[];
  /** A delivery attempt that has no answer in this time fails (and is retried). */
  timeoutMs: number;
  /** How much of a receiver's answer is read and kept in the delivery log. */
  responseBodyLimitBytes: number;
  /** Deliveries in flight at once in one server process, and to any one endpoint. */
  concurrency: number;
  endpointConcurrency: number;
  /** An endpoint whose every attempt has failed for this long is disabled (ms; null: never). */
  disableFailingAfterMs: number | null;
  /** How often each process looks for due deliveries. */
  pollIntervalMs: number;
}

/** Svix's schedule: the first attempt at once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
export const DEFAULT_RETRY_SCHEDULE = '5s,5m,30m,2h,5h,10h,10h';
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

type Env = Record<string, string | undefined>;

/**
 * Reads the environment, noting every bad value rather than stopping at the first (a value that fails reads as its
 * default meanwhile), so that one start names everything an operator has to fix.
 */
class EnvReader {
  private readonly problems: { name: string; message: string }[] = [];

  constructor(private readonly env: Env) {}

  /** Notes a bad value and gives `fallback` in its place. */
  fail<T>(name: string, message: string, fallback: T): T {
    this.problems.push({ name, message });
    return fallback;
  }

  /** Whether a variable of `names` was bad: a check across variables is left out then (it would compare a default). */
  failed(...names: string[]): boolean {
    return this.problems.some((p) => names.includes(p.name));
  }

  /** Stops the start with every problem noted, in one line. */
  done(): void {
    const messages = this.problems.map((p) => p.message);
    if (messages.length === 1) throw new StartupError(messages[0]!);
    if (messages.length > 1) throw new StartupError(`${messages.length} problems in the environment: ${messages.join('; ')}`);
  }

  raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max)
      return this.fail(name, `${name} must be an integer from ${min} to ${max} (got "${value}")`, fallback);
    return n;
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    return this.fail(name, `${name} must be true or false (got "${value}")`, fallback);
  }

  /** Comma-separated durations such as `5s,5m,2h` (units ms, s, m, h), in ms. */
  durations(name: string, fallback: string, maxCount: number): number[] {
    const value = this.raw(name);
    const defaults = parseDurations(fallback)!;
    if (value === undefined) return defaults;
    const out = parseDurations(value);
    if (out === null)
      return this.fail(
        name,
        `${name} must be a comma-separated list of durations such as 5s,5m,2h (units ms, s, m, h; got "${value}")`,
        defaults,
      );
    if (out.length > maxCount) return this.fail(name, `${name} may list at most ${maxCount} retries (got ${out.length})`, defaults);
    if (out.some((ms) => ms > 7 * 86_400_000)) return this.fail(name, `${name} delays must be at most 7 days`, defaults);
    return out;
  }

  /** One duration such as `5d` or `12h` (units ms, s, m, h, d), in ms; `off` gives null. */
  durationOrOff(name: string, fallback: string): number | null {
    const value = this.raw(name) ?? fallback;
    if (value === 'off') return null;
    const match = /^(\d+)(ms|s|m|h|d)$/.exec(value.trim());
    if (!match || Number(match[1]) === 0)
      return this.fail(name, `${name} must be a duration such as 5d, 12h or 30m (units ms, s, m, h, d), or off (got "${value}")`, null);
    return Number(match[1]) * DURATION_UNITS[match[2]!]!;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(value))
      return this.fail(name, `${name} must be one of ${allowed.join(', ')} (got "${value}")`, fallback);
    return value as T;
  }

  trustProxy(name: string): false | number | string[] {
    const value = this.raw(name)?.trim();
    if (value === undefined || value === '' || value === 'false' || value === '0') return false;
    // `true` would take the client's word for its own address: the per-address limits would mean nothing.
    if (value === 'true')
      return this.fail(
        name,
        `${name}=true would believe any client's X-Forwarded-For: give the number of proxies in front (such as 1) or their addresses`,
        false,
      );
    if (/^\d+$/.test(value)) return this.int(name, 0, 1, 10);
    const entries = value.split(',').map((entry) => entry.trim());
    const invalid = entries.find((entry) => !(PROXY_RANGE_NAMES.includes(entry) || ipaddr.isValid(entry) || isCidr(entry)));
    if (invalid !== undefined)
      return this.fail(
        name,
        `${name} must be a number of proxy hops, or addresses and CIDR ranges (or loopback, linklocal, uniquelocal) separated by commas (got "${invalid}")`,
        false,
      );
    return entries;
  }

  httpUrl(name: string, fallback: string): string {
    const value = this.raw(name) ?? fallback;
    const url = URL.canParse(value) ? new URL(value) : null;
    if (url === null) return this.fail(name, `${name} must be an absolute http(s) URL (got "${value}")`, fallback);
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      return this.fail(name, `${name} must be an http or https URL (got "${value}")`, fallback);
    if (url.search || url.hash || url.username || url.password)
      return this.fail(name, `${name} must not carry credentials, a query or a fragment`, fallback);
    return url.toString().replace(/\/+$/, '');
  }

  /** A 32-byte key in base64. The value is secret: errors name the variable, never the value. */
  key(name: string, value: string | undefined): Buffer | null {
    if (value === undefined) return null;
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(value))
      return this.fail(name, `${name} must be 32 bytes encoded in base64 (it is not valid base64)`, null);
    const bytes = Buffer.from(value, 'base64');
    if (bytes.length !== 32)
      return this.fail(name, `${name} must be 32 bytes encoded in base64 (it decodes to ${bytes.length} bytes)`, null);
    return bytes;
  }
}

/** `5s,5m,2h` in ms; null when a part is not such a duration. */
function parseDurations(value: string): number[] | null {
  const out: number[] = [];
  for (const part of value.split(',')) {
    const match = /^(\d+)(ms|s|m|h)$/.exec(part.trim());
    if (!match) return null;
    out.push(Number(match[1]) * DURATION_UNITS[match[2]!]!);
  }
  return out;
}

/** Names proxy-addr (Fastify's trustProxy) understands for whole ranges. */
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

function isCidr(value: string): boolean {
  try {
    ipaddr.parseCIDR(value);
    return true;
  } catch {
    return false;
  }
}

export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): Config {
  const read = new EnvReader(env);
  const port = read.int('AUTHN_PORT', 3000, 0, 65535);
  const host = read.string('AUTHN_HOST', '127.0.0.1');

  let databaseUrl = read.raw('AUTHN_DATABASE_URL') ?? null;
  if (databaseUrl !== null && !/^postgres(ql)?:\/\//.test(databaseUrl))
    databaseUrl = read.fail(
      'AUTHN_DATABASE_URL',
      'AUTHN_DATABASE_URL must be a postgres:// or postgresql:// URL (unset it to use the embedded SQLite store)',
      null,
    );

  let secretKey = read.raw('AUTHN_SECRET_KEY') ?? null;
  if (secretKey !== null && !SECRET_KEY_PATTERN.test(secretKey))
    secretKey = read.fail(
      'AUTHN_SECRET_KEY',
      'AUTHN_SECRET_KEY must look like sk_live_… or sk_test_… followed by 32 to 64 letters and digits',
      null,
    );

  const previous = (read.raw('AUTHN_PREVIOUS_ENCRYPTION_KEYS') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s, i) => read.key(`AUTHN_PREVIOUS_ENCRYPTION_KEYS (entry ${i + 1})`, s))
    .filter((key) => key !== null);

  const publicHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const bootstrap: BootstrapEnv = {};
  for (const name of BOOTSTRAP_VARIABLES) {
    const value = env[name];
    if (value !== undefined) bootstrap[name] = value;
  }

  const config: Config = {
    port,
    host,
    dataDir: path.resolve(cwd, read.string('AUTHN_DATA_DIR', './data')),
    databaseUrl,
    encryptionKey: read.key('AUTHN_ENCRYPTION_KEY', read.raw('AUTHN_ENCRYPTION_KEY')),
    previousEncryptionKeys: previous,
    secretKey,
    publicUrl: read.httpUrl('AUTHN_PUBLIC_URL', `http://${publicHost.includes(':') ? `[${publicHost}]` : publicHost}:${port}`),
    logLevel: read.oneOf('AUTHN_LOG_LEVEL', LOG_LEVELS, 'info'),
    bodyLimitBytes: read.int('AUTHN_BODY_LIMIT_BYTES', 102_400, 1_024, 10_485_760),
    trustProxy: read.trustProxy('AUTHN_TRUST_PROXY'),
    redisUrl: read.raw('AUTHN_REDIS_URL') ?? null,
    carriers: {
      twilioApiUrl: read.httpUrl('AUTHN_TWILIO_API_URL', 'https://api.twilio.com'),
      vonageApiUrl: read.httpUrl('AUTHN_VONAGE_API_URL', 'https://rest.nexmo.com'),
      timeoutMs: read.int('AUTHN_CARRIER_TIMEOUT_MS', 10_000, 100, 120_000),
    },
    sms: {
      dispatcher: read.oneOf('AUTHN_SMS_DISPATCHER', ['on', 'off'], 'on') === 'on',
      concurrency: read.int('AUTHN_SMS_DISPATCH_CONCURRENCY', 64, 1, 1_000),
      batchSize: read.int('AUTHN_SMS_DISPATCH_BATCH', 100, 1, 1_000),
      pollMs: read.int('AUTHN_SMS_DISPATCH_POLL_MS', 200, 10, 60_000),
      leaseMs: read.int('AUTHN_SMS_LEASE_MS', 60_000, 1_000, 3_600_000),
      maxAttempts: read.int('AUTHN_SMS_MAX_ATTEMPTS', 8, 1, 100),
      retryBaseMs: read.int('AUTHN_SMS_RETRY_BASE_MS', 2_000, 10, 3_600_000),
      retryMaxMs: read.int('AUTHN_SMS_RETRY_MAX_MS', 300_000, 10, 86_400_000),
      shutdownGraceMs: read.int('AUTHN_SMS_SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
      vonageDlrMaxAgeSeconds: read.int('AUTHN_VONAGE_DLR_MAX_AGE_SECONDS', 300, 10, 86_400),
    },
    metricsToken: read.raw('AUTHN_METRICS_TOKEN') ?? null,
    webhooks: {
      allowPrivate: read.bool('AUTHN_WEBHOOKS_ALLOW_PRIVATE', false),
      retrySchedule: read.durations('AUTHN_WEBHOOKS_RETRY_SCHEDULE', DEFAULT_RETRY_SCHEDULE, 20),
      // Svix disables an endpoint after 5 days of failures.
      disableFailingAfterMs: read.durationOrOff('AUTHN_WEBHOOKS_DISABLE_FAILING_AFTER', '5d'),
      timeoutMs: read.int('AUTHN_WEBHOOKS_TIMEOUT_MS', 15_000, 100, 120_000),
      responseBodyLimitBytes: read.int('AUTHN_WEBHOOKS_RESPONSE_BODY_LIMIT_BYTES', 4_096, 0, 65_536),
      concurrency: read.int('AUTHN_WEBHOOKS_CONCURRENCY', 32, 1, 1_000),
      endpointConcurrency: read.int('AUTHN_WEBHOOKS_ENDPOINT_CONCURRENCY', 4, 1, 100),
      pollIntervalMs: read.int('AUTHN_WEBHOOKS_POLL_INTERVAL_MS', 500, 10, 60_000),
    },
    bootstrap,
  };
  // A lease shorter than a carrier call would let a second worker send a message still in flight.
  if (config.sms.leaseMs <= config.carriers.timeoutMs && !read.failed('AUTHN_SMS_LEASE_MS', 'AUTHN_CARRIER_TIMEOUT_MS'))
    read.fail(
      'AUTHN_SMS_LEASE_MS',
      `AUTHN_SMS_LEASE_MS (${config.sms.leaseMs}) must be longer than AUTHN_CARRIER_TIMEOUT_MS (${config.carriers.timeoutMs})`,
      null,
    );
  if (config.sms.retryMaxMs < config.sms.retryBaseMs && !read.failed('AUTHN_SMS_RETRY_MAX_MS', 'AUTHN_SMS_RETRY_BASE_MS'))
    read.fail('AUTHN_SMS_RETRY_MAX_MS', 'AUTHN_SMS_RETRY_MAX_MS must be at least AUTHN_SMS_RETRY_BASE_MS', null);
  if (config.redisUrl !== null && !/^rediss?:\/\//.test(config.redisUrl))
    read.fail('AUTHN_REDIS_URL', 'AUTHN_REDIS_URL must be a redis:// or rediss:// URL', null);
  read.done();
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
