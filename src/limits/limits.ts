/**
 * Fixed-window counters for the abuse limits, kept where every server process sees them: rate-limiter-flexible
 * over the store (its SQLite store on the better-sqlite3 handle, its PostgreSQL store on a small pool of its
 * own) or over Redis when `AUTHN_REDIS_URL` is set.
 *
 * On SQLite the counters live on the request's connection, so they must be touched inside the request's
 * transaction (every method takes it): they then commit with it. Limiters are built once per limit and
 * rebuilt only when an operator changes that limit.
 */
import pg from 'pg';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import RateLimiterRes from 'rate-limiter-flexible/lib/RateLimiterRes.js';
import type { Clock } from '../clock.js';
import { Refusal } from '../refusal.js';
import type { InstanceSettings } from '../instance/settings.js';
import type { Store, Tx } from '../store/database.js';
import type { Actor } from '../audit/audit-log.js';
import { recordEventAndAudit } from '../webhooks/events.js';

export type LimitName =
  | 'sends_per_ip'
  | 'sends_per_phone_number'
  | 'hourly_send_budget'
  | 'password_lockout'
  | 'attempts_per_ip'
  | 'creates_per_ip';

export interface Window {
  max: number;
  windowSeconds: number;
}

export interface LimitVerdict {
  allowed: boolean;
  /** Until the window ends (ms). */
  retryAfterMs: number;
  /** This consumption is the one that went over: the moment to record that the limit was reached. */
  justReached: boolean;
}

const TABLE = 'rate_limits';
/** Expired counters are deleted this often, an hour after they expired (as the library's own sweeper does). */
const SWEEP_EVERY_MS = 5 * 60_000;

interface LimiterOptions {
  keyPrefix: string;
  points: number;
  duration: number;
}

interface Backend {
  make(options: LimiterOptions): RateLimiterAbstract;
  close(): Promise<void>;
}

/**
 * Loads only the store in use: the library's index pulls in every store it has, and ioredis is only
 * needed with Redis (together some 20 MB of memory).
 */
async function openBackend(store: Store, options: { databaseUrl: string | null; redisUrl: string | null }): Promise<Backend> {
  if (options.redisUrl) {
    const [{ Redis }, { default: RateLimiterRedis }] = await Promise.all([
      import('ioredis'),
      import('rate-limiter-flexible/lib/RateLimiterRedis.js'),
    ]);
    const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 2 });
    return {
      // Namespaced: the Redis may serve other applications too.
      make: (o) => new RateLimiterRedis({ ...o, keyPrefix: `authn:${o.keyPrefix}`, storeClient: redis }),
      close: async () => {
        if (redis.status !== 'end') await redis.quit();
      },
    };
  }
  if (store.sqlite) {
    const { default: RateLimiterSQLite } = await import('rate-limiter-flexible/lib/RateLimiterSQLite.js');
    const sqlite = store.sqlite;
    // The library's better-sqlite3 calls, served from the store's statement cache (it would prepare its
    // upsert anew on every call) and without its savepoint: it only ever runs inside the request's
    // transaction, and its upsert is a single statement.
    const client = { prepare: (text: string) => sqlite.prepare(text), transaction: <F>(fn: F) => fn };
    return {
      make: (o) =>
        new RateLimiterSQLite({
          ...o,
          storeClient: client,
          storeType: 'better-sqlite3',
          tableName: TABLE,
          tableCreated: true,
          clearExpiredByTimeout: false,
        }),
      close: async () => undefined,
    };
  }
  const { default: RateLimiterPostgres } = await import('rate-limiter-flexible/lib/RateLimiterPostgres.js');
  // A small pool of its own: the library runs its statements itself, each one atomic.
  const pool = new pg.Pool({ connectionString: options.databaseUrl!, max: 4 });
  // An idle connection that drops (a database restart) is replaced on the next query; unheard, the pool's
  // error event would end the process.
  pool.on('error', () => undefined);
  return {
    make: (o) =>
      new RateLimiterPostgres({
        ...o,
        storeClient: pool,
        storeType: 'pool',
        tableName: TABLE,
        tableCreated: true,
        clearExpiredByTimeout: false,
      }),
    close: () => pool.end(),
  };
}

export class Limits {
  private readonly limiters = new Map<LimitName, { signature: string; limiter: RateLimiterAbstract }>();
  private backend: Promise<Backend> | null = null;
  private readonly sweeper: NodeJS.Timeout | null = null;

  private readonly store: Store;
  private readonly options: { databaseUrl: string | null; redisUrl: string | null };

  constructor(deps: { store: Store; options: { databaseUrl: string | null; redisUrl: string | null } }) {
    this.store = deps.store;
    this.options = deps.options;
    if (this.options.redisUrl) return; // Redis expires its keys itself.
    // The library's own sweeper would run outside any transaction, on the shared SQLite connection: ours goes
    // through Kysely. Counters carry the library's time (the system clock), so the sweep does too.
    this.sweeper = setInterval(() => {
      void this.store.db
        .deleteFrom(TABLE)
        .where('expire', '<', Date.now() - 3_600_000)
        .execute()
        .catch(() => undefined);
    }, SWEEP_EVERY_MS).unref();
  }

  /** Counts one event against `key` in the window; refuses once the window holds more than `max`. */
  async consume(_tx: Tx, name: LimitName, key: string, window: Window): Promise<LimitVerdict> {
    try {
      const res = await (await this.limiter(name, window)).consume(key);
      return { allowed: true, retryAfterMs: res.msBeforeNext, justReached: false };
    } catch (outcome) {
      if (!(outcome instanceof RateLimiterRes)) throw outcome;
      return { allowed: false, retryAfterMs: outcome.msBeforeNext, justReached: outcome.consumedPoints === window.max + 1 };
    }
  }

  /** Whether `key` has used up its window, without counting anything. */
  async check(_tx: Tx, name: LimitName, key: string, window: Window): Promise<LimitVerdict> {
    const res = await (await this.limiter(name, window)).get(key);
    const allowed = !res || res.consumedPoints < window.max;
    return { allowed, retryAfterMs: res?.msBeforeNext ?? 0, justReached: false };
  }

  /** Counts one event without refusing (a wrong password), so a later `check` can. */
  async count(_tx: Tx, name: LimitName, key: string, window: Window): Promise<LimitVerdict> {
    const res = await (await this.limiter(name, window)).penalty(key);
    return { allowed: res.consumedPoints < window.max, retryAfterMs: res.msBeforeNext, justReached: res.consumedPoints === window.max };
  }

  async reset(_tx: Tx, name: LimitName, key: string, window: Window): Promise<void> {
    await (await this.limiter(name, window)).delete(key);
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    if (this.backend) await (await this.backend).close();
  }

  private async limiter(name: LimitName, window: Window): Promise<RateLimiterAbstract> {
    const signature = `${window.max}/${window.windowSeconds}`;
    const cached = this.limiters.get(name);
    if (cached?.signature === signature) return cached.limiter;
    this.backend ??= openBackend(this.store, this.options);
    const limiter = (await this.backend).make({ keyPrefix: name, points: window.max, duration: window.windowSeconds });
    this.limiters.set(name, { signature, limiter });
    return limiter;
  }
}

/**
 * Audit entry and event `abuse.limit_reached`: once per window and key (when the limit is first exceeded),
 * not once per refusal, so a flood of refusals does not flood the log.
 */
export async function recordLimitReached(
  tx: Tx,
  clock: Clock,
  input: { limit: LimitName; key: string; window: Window; retryAfterMs: number; actor: Actor; details: Record<string, unknown> },
): Promise<void> {
  const data = {
    limit: input.limit,
    key: input.key,
    max: input.window.max,
    window_seconds: input.window.windowSeconds,
    retry_after_seconds: Math.ceil(input.retryAfterMs / 1000),
  };
  await recordEventAndAudit(tx, clock, {
    type: 'abuse.limit_reached',
    actor: input.actor,
    target: null,
    data: { object: 'abuse_limit', ...data },
    details: input.details,
  });
}

/** A refusal's `Retry-After` header: whole seconds until the window ends, at least 1. */
export const retryAfter = (ms: number) => ({ 'retry-after': String(Math.max(1, Math.ceil(ms / 1000))) });

/** The per-address limits on FAPI calls that are not sends, and how their refusals read. */
const CALL_LIMITS = {
  attempts_per_ip: { code: 'ip_attempt_limit_reached', message: 'Too many verification attempts from this address.' },
  creates_per_ip: { code: 'ip_create_limit_reached', message: 'Too many clients, sign-ups and sign-ins were started from this address.' },
} as const;

/**
 * Counts one call against the caller's address. The refusal, if any, is returned: the transaction commits the
 * count (and, the first time in a window, the audit entry and event) and then throws it (`src/refusal.ts`).
 */
export async function consumeCallLimit(
  limits: Limits,
  clock: Clock,
  tx: Tx,
  input: { limit: keyof typeof CALL_LIMITS; settings: InstanceSettings; ip: string; actor: Actor },
): Promise<Refusal | null> {
  const setting = input.settings.abuse[input.limit];
  const window = { max: setting.max, windowSeconds: setting.window_seconds };
  const verdict = await limits.consume(tx, input.limit, input.ip, window);
  if (verdict.allowed) return null;
  if (verdict.justReached) {
    await recordLimitReached(tx, clock, {
      limit: input.limit,
      key: input.ip,
      window,
      retryAfterMs: verdict.retryAfterMs,
      actor: input.actor,
      details: { ip: input.ip },
    });
  }
  const { code, message } = CALL_LIMITS[input.limit];
  return Refusal.of(code, {
    longMessage: `${message} Try again in ${Math.ceil(verdict.retryAfterMs / 1000)} s.`,
    headers: retryAfter(verdict.retryAfterMs),
  });
}
