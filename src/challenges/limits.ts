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
import { Redis } from 'ioredis';
import { RateLimiterPostgres, RateLimiterRedis, RateLimiterRes, RateLimiterSQLite, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Clock } from '../clock.js';
import type { Store, Tx } from '../store/database.js';
import { recordAudit, type Actor } from '../audit/audit-log.js';
import { recordEvent } from '../webhooks/events.js';

export type LimitName = 'sends_per_ip' | 'sends_per_phone_number' | 'hourly_send_budget' | 'password_lockout';

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

export class Limits {
  private readonly limiters = new Map<LimitName, { signature: string; limiter: RateLimiterAbstract }>();
  private readonly make: (options: { keyPrefix: string; points: number; duration: number }) => RateLimiterAbstract;
  private readonly closeStore: () => Promise<void>;
  private readonly sweeper: NodeJS.Timeout | null;

  constructor(store: Store, options: { databaseUrl: string | null; redisUrl: string | null }) {
    if (options.redisUrl) {
      // Connects on the first command, so commands that never limit anything (the CLI) never connect.
      const redis = new Redis(options.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
      // Namespaced: the Redis may serve other applications too.
      this.make = (o) => new RateLimiterRedis({ ...o, keyPrefix: `authn:${o.keyPrefix}`, storeClient: redis });
      this.closeStore = async () => {
        if (redis.status !== 'wait' && redis.status !== 'end') await redis.quit();
      };
      this.sweeper = null; // Redis expires its keys itself.
      return;
    }
    if (store.sqlite) {
      const sqlite = store.sqlite;
      // The library's better-sqlite3 calls, served from the store's statement cache (it would prepare its
      // upsert anew on every call) and without its savepoint: it only ever runs inside the request's
      // transaction, and its upsert is a single statement.
      const client = { prepare: (text: string) => sqlite.prepare(text), transaction: <F>(fn: F) => fn };
      this.make = (o) => new RateLimiterSQLite({ ...o, storeClient: client, storeType: 'better-sqlite3', tableName: TABLE, tableCreated: true, clearExpiredByTimeout: false });
      this.closeStore = async () => undefined;
    } else {
      // A small pool of its own: the library runs its statements itself, each one atomic.
      const pool = new pg.Pool({ connectionString: options.databaseUrl!, max: 4 });
      // An idle connection that drops (a database restart) is replaced on the next query; unheard, the
      // pool's error event would end the process.
      pool.on('error', () => undefined);
      this.make = (o) => new RateLimiterPostgres({ ...o, storeClient: pool, storeType: 'pool', tableName: TABLE, tableCreated: true, clearExpiredByTimeout: false });
      this.closeStore = () => pool.end();
    }
    // The library's own sweeper would run outside any transaction, on the shared SQLite connection: ours goes
    // through Kysely. Counters carry the library's time (the system clock), so the sweep does too.
    this.sweeper = setInterval(() => {
      void store.db.deleteFrom(TABLE).where('expire', '<', Date.now() - 3_600_000).execute().catch(() => undefined);
    }, SWEEP_EVERY_MS).unref();
  }

  /** Counts one event against `key` in the window; refuses once the window holds more than `max`. */
  async consume(_tx: Tx, name: LimitName, key: string, window: Window): Promise<LimitVerdict> {
    try {
      const res = await this.limiter(name, window).consume(key);
      return { allowed: true, retryAfterMs: res.msBeforeNext, justReached: false };
    } catch (outcome) {
      if (!(outcome instanceof RateLimiterRes)) throw outcome;
      return { allowed: false, retryAfterMs: outcome.msBeforeNext, justReached: outcome.consumedPoints === window.max + 1 };
    }
  }

  /** Whether `key` has used up its window, without counting anything. */
  async check(_tx: Tx, name: LimitName, key: string, window: Window): Promise<LimitVerdict> {
    const res = await this.limiter(name, window).get(key);
    const allowed = !res || res.consumedPoints < window.max;
    return { allowed, retryAfterMs: res?.msBeforeNext ?? 0, justReached: false };
  }

  /** Counts one event without refusing (a wrong password), so a later `check` can. */
  async count(_tx: Tx, name: LimitName, key: string, window: Window): Promise<LimitVerdict> {
    const res = await this.limiter(name, window).penalty(key);
    return { allowed: res.consumedPoints < window.max, retryAfterMs: res.msBeforeNext, justReached: res.consumedPoints === window.max };
  }

  async reset(_tx: Tx, name: LimitName, key: string, window: Window): Promise<void> {
    await this.limiter(name, window).delete(key);
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    await this.closeStore();
  }

  private limiter(name: LimitName, window: Window): RateLimiterAbstract {
    const signature = `${window.max}/${window.windowSeconds}`;
    const cached = this.limiters.get(name);
    if (cached?.signature === signature) return cached.limiter;
    const limiter = this.make({ keyPrefix: name, points: window.max, duration: window.windowSeconds });
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
  const data = { limit: input.limit, key: input.key, max: input.window.max, window_seconds: input.window.windowSeconds, retry_after_seconds: Math.ceil(input.retryAfterMs / 1000) };
  await recordAudit(tx, clock, { actor: input.actor, action: 'abuse.limit_reached', target: null, data: { ...data, ...input.details } });
  await recordEvent(tx, clock, { type: 'abuse.limit_reached', data: { object: 'abuse_limit', ...data } });
}
