/**
 * The store of the floors (`floor-server.ts`, `dispatch-floor.ts`): authn.sh's schema, made by its own
 * migrations, then a bare better-sqlite3 connection with the pragmas authn.sh runs with.
 */
import BetterSqlite3 from 'better-sqlite3';
import { migrate, openStore, sqliteFile } from '../src/store/database.js';

export async function openFloorStore(dir: string): Promise<BetterSqlite3.Database> {
  const store = await openStore({ databaseUrl: null, dataDir: dir });
  await migrate(store);
  await store.close();
  const db = new BetterSqlite3(sqliteFile(dir));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('temp_store = MEMORY');
  return db;
}
