/**
 * A migrated store for a suite that works on the store itself (no server): SQLite in a temporary folder or a fresh
 * PostgreSQL database, removed after the suite.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { migrate, openStore, type Store } from '../../src/store/database.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import type { StoreKind } from './server.js';

/** Call at the top of a `describe`: the store is open from its `beforeAll` hooks on. */
export function useStore(kind: StoreKind): () => Store {
  let dataDir: string;
  let database: TestDatabase | null = null;
  let store: Store;
  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'authn-store-'));
    if (kind === 'postgres') database = await createTestDatabase();
    store = await openStore({ databaseUrl: database?.url ?? null, dataDir });
    await migrate(store);
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  return () => store;
}
