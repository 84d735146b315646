/**
 * Cold start of a scaled-out instance: several processes started at the same moment on an empty store. Every
 * first-start step (migrations, the encryption key check, the env bootstrap, the first secret key, the signing
 * keys, the callback secret) runs in each of them at once; all must start and serve the same instance, with
 * one first secret key, shown only by the process that made it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { generateSecretKey } from '../../src/auth/secret-keys.js';
import { loadOrCreateKeyFile } from '../../src/secret-box.js';
import { migrate, openStore } from '../../src/store/database.js';
import { startTestServer, type TestServer, type TestStore } from '../helpers/server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { spawnServersTogether, type ServerProcess } from '../helpers/cli.js';

const PROCESSES = 3;
const BOOTSTRAP_ENV = { AUTHN_SMS_DRIVER: 'null', AUTHN_TEST_MODE: 'enabled' };
const KEY_IN_TEXT = /sk_(?:live|test)_[A-Za-z0-9]{43}/g;

/** What every process of one instance shares: the database, the data folder and the environment. */
function sharedStore(database: TestDatabase | null, dataDir: string, env: Record<string, string>): TestStore {
  return { kind: database ? 'postgres' : 'sqlite', dataDir, database, env, cleanup: async () => undefined };
}

function instanceEnv(dataDir: string, database: TestDatabase | null, secretKey: string | null): Record<string, string> {
  return {
    AUTHN_DATA_DIR: dataDir,
    AUTHN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    AUTHN_LOG_LEVEL: 'info',
    ...BOOTSTRAP_ENV,
    ...(secretKey ? { AUTHN_SECRET_KEY: secretKey } : {}),
    ...(database ? { AUTHN_DATABASE_URL: database.url } : {}),
  };
}

describe('several processes starting at once on an empty store', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function tempDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'authn-cold-'));
    cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  it('PostgreSQL: three servers started together, round after round on a fresh database, all start and serve one instance', async () => {
    for (let round = 0; round < 10; round++) {
      const database = await createTestDatabase();
      const dataDir = tempDir();
      // Half the rounds with AUTHN_SECRET_KEY (every process inserts the same key), half with a key made at start.
      const configuredKey = round % 2 === 0 ? generateSecretKey('test') : null;
      const env = instanceEnv(dataDir, database, configuredKey);
      // Servers in this process, each with its own pool of connections: to the database, three processes
      // (this crashed on `instance_settings_pkey` and `store_meta_pkey` before every step inserted if absent).
      const started = await Promise.allSettled(
        Array.from({ length: PROCESSES }, () => startTestServer(sharedStore(database, dataDir, env))),
      );
      const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
      try {
        const failures = started.flatMap((s) => (s.status === 'rejected' ? [String(s.reason)] : []));
        expect(failures, `round ${round}`).toEqual([]);
        await expectOneInstance(servers, configuredKey, `round ${round}`);
      } finally {
        for (const server of servers) await server.close();
        await database.drop();
      }
    }
  }, 300_000);

  it('PostgreSQL: three processes migrating an empty database at once apply each migration once', async () => {
    for (let round = 0; round < 5; round++) {
      const database = await createTestDatabase();
      const stores = await Promise.all(
        Array.from({ length: PROCESSES }, () => openStore({ databaseUrl: database.url, dataDir: os.tmpdir(), poolSize: 2 })),
      );
      try {
        const applied = await Promise.all(stores.map((store) => migrate(store)));
        const recorded = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(stores[0]!.db);
        expect(recorded.rows.length).toBeGreaterThan(0);
        // Kysely's advisory lock: one process applies them all, the others wait and find nothing left to do.
        expect(applied.flat().sort(), `round ${round}`).toEqual(recorded.rows.map((r) => r.name));
      } finally {
        for (const store of stores) await store.close();
        await database.drop();
      }
    }
  }, 120_000);

  it('PostgreSQL: three processes rotating the encryption key at once re-seal once and all read the credentials', async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const dataDir = tempDir();
    const authToken = 'RotationTokenRotationToken000001';
    const twilio = {
      AUTHN_SMS_DRIVER: 'twilio',
      AUTHN_SMS_FROM_NUMBER: '+14155550123',
      AUTHN_SMS_TWILIO_ACCOUNT_SID: `AC${'1'.repeat(32)}`,
      AUTHN_SMS_TWILIO_AUTH_TOKEN: authToken,
    };
    const env: Record<string, string> = { ...instanceEnv(dataDir, database, generateSecretKey('test')), ...twilio };
    await (await startTestServer(sharedStore(database, dataDir, env))).close();

    const rotatedEnv = {
      ...env,
      AUTHN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      AUTHN_PREVIOUS_ENCRYPTION_KEYS: env.AUTHN_ENCRYPTION_KEY!,
    };
    const started = await Promise.allSettled(
      Array.from({ length: PROCESSES }, () => startTestServer(sharedStore(database, dataDir, rotatedEnv))),
    );
    const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    cleanups.push(async () => {
      for (const server of servers) await server.close();
    });
    expect(started.flatMap((s) => (s.status === 'rejected' ? [String(s.reason)] : []))).toEqual([]);
    const rotated = servers.map((server) => server.logs.some((line) => line.includes('encryption key rotated')));
    expect(rotated.filter(Boolean).length).toBe(1);
    for (const server of servers) expect((await server.running.services.instance.current()).sms.twilio.auth_token).toBe(authToken);
  }, 120_000);

  async function expectOneInstance(servers: TestServer[], configuredKey: string | null, round: string): Promise<void> {
    const printedKeys = servers.map((s) => s.printed.join('\n').match(KEY_IN_TEXT) ?? []);
    let key: string;
    if (configuredKey) {
      expect(printedKeys.flat(), round).toEqual([]);
      key = configuredKey;
    } else {
      // Exactly one process made the first key and only it shows it; the others show nothing.
      expect(printedKeys.filter((keys) => keys.length > 0).length, round).toBe(1);
      key = printedKeys.flat()[0]!;
    }
    for (const server of servers) {
      const get = (url: string) => server.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } });
      const instance = await get('/v1/instance');
      expect(instance.statusCode, round).toBe(200);
      expect(instance.json(), round).toMatchObject({ sms: { driver: null }, test_mode: 'enabled' });
      expect((await get('/v1/audit_logs?action=secret_key.created')).json().data, round).toHaveLength(1);
      expect((await get('/v1/audit_logs?action=instance.bootstrapped')).json().data, round).toHaveLength(1);
      expect((await get('/.well-known/jwks.json')).json(), round).toEqual(
        (await servers[0]!.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json(),
      );
    }
    const { secretKeys } = servers[0]!.running.services;
    expect(await secretKeys.count(), round).toBe(1);
  }

  async function spawnTogether(env: Record<string, string>): Promise<ServerProcess[]> {
    const started = await spawnServersTogether(PROCESSES, env, 60_000);
    const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    cleanups.push(async () => {
      for (const server of servers) {
        server.child.kill('SIGTERM');
        await server.exited;
      }
    });
    expect(started.flatMap((s) => (s.status === 'rejected' ? [String(s.reason)] : []))).toEqual([]);
    return servers;
  }

  /** The processes' own output: exactly one shows a key, and that key works on every process; one bootstrap. */
  async function expectOneWorkingKey(servers: ServerProcess[]): Promise<void> {
    const printedKeys = servers.map((s) => s.output().match(KEY_IN_TEXT) ?? []);
    expect(printedKeys.filter((keys) => keys.length > 0).length).toBe(1);
    const key = printedKeys.flat()[0]!;
    for (const server of servers) {
      for (const action of ['secret_key.created', 'instance.bootstrapped']) {
        const response = await fetch(`${server.url}/v1/audit_logs?action=${action}`, { headers: { authorization: `Bearer ${key}` } });
        expect(response.status).toBe(200);
        expect(((await response.json()) as { data: unknown[] }).data).toHaveLength(1);
      }
    }
  }

  it('SQLite: three `authn serve` processes on one data folder, no encryption key set (development mode), all start and serve', async () => {
    const dataDir = tempDir();
    const env = instanceEnv(dataDir, null, null);
    delete env.AUTHN_ENCRYPTION_KEY;
    const servers = await spawnTogether(env);
    await expectOneWorkingKey(servers);
  }, 240_000);
});

describe('the development encryption key file', () => {
  afterEach(() => vi.restoreAllMocks());

  it('made by another process between the check and the write: read, not overwritten or refused', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'authn-keyfile-'));
    try {
      const file = path.join(dir, 'encryption.key');
      const first = loadOrCreateKeyFile(file);
      expect(first.created).toBe(true);
      // The second process looked before the first one's file was there.
      vi.spyOn(fs, 'existsSync').mockReturnValueOnce(false);
      const second = loadOrCreateKeyFile(file);
      expect(second).toEqual({ key: first.key, created: false });
      expect(fs.readdirSync(dir)).toEqual(['encryption.key']);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
