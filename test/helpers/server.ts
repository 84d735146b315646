/**
 * Test servers: the real server (same start-up path as `authn serve`) on a throw-away store, SQLite in a
 * temporary folder or a fresh PostgreSQL database. Logs are captured so tests can assert on them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { generateSecretKey } from '../../src/auth/secret-keys.js';
import type { Clock } from '../../src/clock.js';
import type { Database } from '../../src/store/schema.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

export type StoreKind = 'sqlite' | 'postgres';
export const STORES: StoreKind[] = ['sqlite', 'postgres'];

/** A place for one server's data that outlives restarts: a folder, and for PostgreSQL a database. */
export interface TestStore {
  kind: StoreKind;
  dataDir: string;
  database: TestDatabase | null;
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

export async function createTestStore(kind: StoreKind): Promise<TestStore> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'authn-test-'));
  const database = kind === 'postgres' ? await createTestDatabase() : null;
  return {
    kind,
    dataDir,
    database,
    env: {
      AUTHN_DATA_DIR: dataDir,
      AUTHN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      AUTHN_SECRET_KEY: generateSecretKey('test'),
      AUTHN_LOG_LEVEL: 'info',
      ...(database ? { AUTHN_DATABASE_URL: database.url } : {}),
    },
    async cleanup() {
      await database?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface TestServer {
  running: RunningServer;
  store: TestStore;
  key: string;
  logs: string[];
  printed: string[];
  inject(options: InjectOptions): Promise<LightMyRequestResponse>;
  /** A BAPI call with the test's secret key. */
  bapi(method: InjectOptions['method'], url: string, body?: unknown): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function startTestServer(
  store: TestStore,
  options: { env?: Record<string, string>; clock?: Clock; listen?: boolean } = {},
): Promise<TestServer> {
  const env: Record<string, string> = { ...store.env, AUTHN_PORT: '0', ...options.env };
  const logs: string[] = [];
  const printed: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const running = await startServer(loadConfig(env), {
    clock: options.clock,
    listen: options.listen ?? false,
    logDestination: destination,
    print: (line) => printed.push(line),
  });
  const key = env.AUTHN_SECRET_KEY!;
  return {
    running,
    store,
    key,
    logs,
    printed,
    inject: (o) => running.app.inject(o),
    bapi: (method, url, body) =>
      running.app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
      }),
    close: () => running.close(),
  };
}

/** Every byte the store holds, for "this secret is nowhere on disk" checks. */
/** How many rows a table holds (what a refused request must leave as it was). */
export async function rowCount(server: TestServer, table: keyof Database): Promise<number> {
  const row = await server.running.services.store.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function storeBytes(server: TestServer): Promise<Buffer> {
  const { store } = server.running.services;
  if (store.dialect === 'sqlite') {
    // The main file, its WAL and shared-memory file: a value may sit in any of them.
    const parts: Buffer[] = [];
    for (const file of fs.readdirSync(server.store.dataDir)) parts.push(fs.readFileSync(path.join(server.store.dataDir, file)));
    return Buffer.concat(parts);
  }
  // Every row of every table, as PostgreSQL renders it.
  return Buffer.from([...(await tableRows(server)).values()].flat().join('\n'));
}

/** Every table's rows as text, in no particular order: PostgreSQL renders each row as JSON, SQLite's are serialised here. */
async function tableRows(server: TestServer): Promise<Map<string, string[]>> {
  const { store } = server.running.services;
  const { rows: tables } =
    store.dialect === 'sqlite'
      ? await sql<{
          table_name: string;
        }>`SELECT name AS table_name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`.execute(store.db)
      : await sql<{
          table_name: string;
        }>`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`.execute(store.db);
  const out = new Map<string, string[]>();
  for (const { table_name } of tables) {
    if (store.dialect === 'sqlite') {
      const { rows } = await sql<Record<string, unknown>>`SELECT * FROM ${sql.table(table_name)}`.execute(store.db);
      out.set(
        table_name,
        rows.map((row) => JSON.stringify(row)),
      );
    } else {
      const { rows } = await sql<{ row: string }>`SELECT row_to_json(t)::text AS row FROM ${sql.table(table_name)} t`.execute(store.db);
      out.set(
        table_name,
        rows.map((r) => r.row),
      );
    }
  }
  return out;
}

/** Per table, its row count and a hash of its rows: equal fingerprints mean nothing in the store changed. */
export async function storeFingerprint(server: TestServer): Promise<Record<string, string>> {
  const { store } = server.running.services;
  const out: Record<string, string> = {};
  if (store.dialect === 'sqlite') {
    for (const [table, rows] of await tableRows(server))
      out[table] = `${rows.length} rows, ${createHash('md5').update(rows.sort().join('\n')).digest('hex')}`;
    return out;
  }
  // One round trip: the tests that take a fingerprint around every request would spend most of their time waiting.
  const { rows: tables } = await sql<{
    table_name: string;
  }>`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`.execute(store.db);
  const perTable = tables.map(
    ({ table_name }) =>
      sql`SELECT ${table_name} AS t, count(*) || ' rows, ' || md5(coalesce(string_agg(x::text, E'\n' ORDER BY x::text), '')) AS f FROM ${sql.table(table_name)} x`,
  );
  const { rows } = await sql<{ t: string; f: string }>`${sql.join(perTable, sql` UNION ALL `)}`.execute(store.db);
  for (const { t, f } of rows) out[t] = f;
  return out;
}

/**
 * The usual suite setup: a fresh store and a server started before the suite's tests and removed after.
 * `current()` is the live server (tests may restart it: assign a new one with `replace`).
 */
export function useTestServer(kind: StoreKind, options: Parameters<typeof startTestServer>[1] = {}) {
  let store: TestStore | undefined;
  let server: TestServer | undefined;
  beforeAll(async () => {
    store = await createTestStore(kind);
    server = await startTestServer(store, options);
  });
  afterAll(async () => {
    await server?.close();
    await store?.cleanup();
  });
  return {
    get server(): TestServer {
      if (!server) throw new Error('the test server is not running');
      return server;
    },
    get store(): TestStore {
      if (!store) throw new Error('the test store does not exist');
      return store;
    },
    replace(next: TestServer) {
      server = next;
    },
  };
}
