/**
 * The one query layer: Kysely over better-sqlite3 (embedded default) or pg (scale-out). Everything above
 * `src/store` speaks Kysely and does not care which database is underneath; where the two differ (row and key
 * locks, batches, write batching) a helper here asks (`locks.ts`, `batches.ts`, `writes.ts`).
 */
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { createHash } from 'node:crypto';
import pg from 'pg';
import {
  Kysely,
  Migrator,
  PostgresDialect,
  SqliteAdapter,
  SqliteDialect,
  SqliteDriver,
  CompiledQuery,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  type SqliteDatabase,
  type SqliteStatement,
  type Transaction,
} from 'kysely';
import type { Database } from './schema.js';
import type { Dialect } from './dialect.js';
import { migrationProvider } from './migrations/index.js';

export type { Dialect } from './dialect.js';
export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
/** Either the database or an open transaction: what a domain store function takes. */
export type Executor = Db | Tx;

export interface Store {
  db: Db;
  dialect: Dialect;
  /** Which database this is, for people (logs): `SQLite <file>` or `PostgreSQL`. */
  description: string;
  /** Where the SQLite file lives (null on PostgreSQL). */
  sqlitePath: string | null;
  /**
   * The better-sqlite3 connection under `db` (null on PostgreSQL), with its statement cache, for libraries
   * that speak to it directly (the rate limiter). Only use it inside a `db` transaction: the connection is
   * shared, and outside one a statement would land in whichever transaction another request has open.
   */
  sqlite: SqliteDatabase | null;
  close(): Promise<void>;
}

export interface StoreOptions {
  databaseUrl: string | null;
  dataDir: string;
  /** Pool size on PostgreSQL. */
  poolSize?: number;
}

/**
 * PostgreSQL parses and plans every unnamed statement anew. Naming each parameterised statement after its text
 * makes node-postgres prepare it once per connection and afterwards only bind and execute it. The texts form a
 * small, fixed set: statements over batches keep one text whatever the batch's size (`batches.ts`), where an
 * `IN` list or a `VALUES` list per size would leave hundreds of prepared statements on every connection.
 */
const statementNames = new Map<string, string>();
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (!name) {
    name = `authn_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    statementNames.set(text, name);
  }
  return name;
}

class PreparingClient extends pg.Client {
  // node-postgres's query() has many overloads; only the (text, values) form Kysely uses is rewritten.
  // biome-ignore lint/suspicious/noExplicitAny: the override must accept every overload of node-postgres's query()
  override query(config: any, values?: any, callback?: any): any {
    if (typeof config === 'string' && Array.isArray(values) && values.length > 0) {
      return super.query({ name: statementName(config), text: config, values }, callback);
    }
    return super.query(config, values, callback);
  }
}

// int8 (bigint) columns hold millisecond timestamps, well inside Number's exact range.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

/**
 * better-sqlite3 statements are reusable objects; preparing one costs more than running it. Kysely prepares
 * on every query, so the database handle it gets caches statements by SQL text. Safe because no query
 * streams (a statement being iterated could not be reused meanwhile).
 */
class CachingSqliteDatabase implements SqliteDatabase {
  private readonly statements = new Map<string, SqliteStatement>();
  constructor(readonly raw: BetterSqlite3.Database) {}

  prepare(sql: string): SqliteStatement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.raw.prepare(sql) as unknown as SqliteStatement;
      if (this.statements.size > 2_000) this.statements.clear();
      this.statements.set(sql, statement);
    }
    return statement;
  }

  close(): void {
    this.raw.close();
  }
}

/**
 * `BEGIN IMMEDIATE` takes the write lock at the start of a transaction, so a second process on the same file
 * (the `authn` CLI beside a running server) waits on `busy_timeout` instead of failing on lock upgrade.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/**
 * SQLite runs DDL inside transactions, which Kysely's adapter does not claim: its migrator would then apply
 * each migration bare and without a lock, and two processes starting on a new file would both apply them.
 * Claimed, the migrator applies them in one `BEGIN IMMEDIATE` transaction, which a second process waits on
 * and after which it finds nothing left to apply.
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly database: SqliteDatabase) {
    super({ database });
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver({ database: this.database });
  }
  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

/**
 * `pool.end()` resolves once the pool has let go of its clients, not once their connections are closed; a
 * database dropped right after (tests) or a process exiting could still cut them. Wait until the pool holds no
 * client, for a few seconds at most: a close must never hang.
 */
async function closePool(db: Db, pool: pg.Pool): Promise<void> {
  await db.destroy();
  const deadline = Date.now() + 5_000;
  while (pool.totalCount > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}

export function sqliteFile(dataDir: string): string {
  return path.join(dataDir, 'authn.sqlite');
}

export async function openStore(options: StoreOptions): Promise<Store> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({ Client: PreparingClient, connectionString: options.databaseUrl, max: options.poolSize ?? 10 });
    // An idle connection that drops (a database restart) is replaced on the next query; unheard, the pool's
    // error event would end the process.
    pool.on('error', () => undefined);
    // Surface connection problems at start, not on the first request.
    const client = await pool.connect();
    client.release();
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, dialect: 'postgres', description: 'PostgreSQL', sqlitePath: null, sqlite: null, close: () => closePool(db, pool) };
  }

  fs.mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const file = sqliteFile(options.dataDir);
  const raw = new BetterSqlite3(file);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.pragma('busy_timeout = 5000');
  raw.pragma('foreign_keys = ON');
  // Each request of a group commit runs in a savepoint, and SQLite keeps, per savepoint, the original of every
  // page it changes (the sub-journal). By default that spills to a temporary file past 64 KiB, a write system
  // call per page: 17 % of the server's CPU under load. In memory it is a copy, dropped at each release (so it
  // holds one request's pages). Sorts that need a temporary table are kept in memory too: the lists here are
  // paged or small, and most follow an index.
  raw.pragma('temp_store = MEMORY');
  fs.chmodSync(file, 0o600);
  const sqlite = new CachingSqliteDatabase(raw);
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect(sqlite) });
  return { db, dialect: 'sqlite', description: `SQLite ${file}`, sqlitePath: file, sqlite, close: () => db.destroy() };
}

/** Applies every pending migration; returns the names applied. */
export async function migrate(store: Store): Promise<string[]> {
  const migrator = new Migrator({ db: store.db, provider: migrationProvider(store.dialect) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error;
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Runs `fn` in a transaction, or in the caller's when `executor` already is one. */
export function inTransaction<T>(executor: Executor, fn: (tx: Tx) => Promise<T>): Promise<T> {
  if (executor.isTransaction) return fn(executor as Tx);
  return executor.transaction().execute(fn);
}

export function toJson(value: unknown): string {
  return JSON.stringify(value);
}

export function fromJson<T>(text: string): T {
  return JSON.parse(text) as T;
}
