/**
 * Migration 012 on a store that already holds messages: each one gets its destination country from its number
 * (null for a number of no single country), and attempts start without a price.
 */
import { Migrator, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { migrationProvider } from '../../src/store/migrations/index.js';
import { migrate, openStore } from '../../src/store/database.js';
import { STORES, createTestStore } from '../helpers/server.js';

describe.each(STORES)('migration 012_sms_costs on %s', (kind) => {
  it('fills in the country of the messages already stored', async () => {
    const testStore = await createTestStore(kind);
    const store = await openStore({ databaseUrl: testStore.database?.url ?? null, dataDir: testStore.dataDir });
    try {
      const migrator = new Migrator({ db: store.db, provider: migrationProvider(store.dialect) });
      const before = await migrator.migrateTo('011_challenge_history');
      expect(before.error).toBeUndefined();
      const numbers = { msg_a: '+14155550123', msg_b: '+4915112345678', msg_c: '+447400123456', msg_d: '+80012345678' };
      for (const [id, to] of Object.entries(numbers)) {
        await sql`insert into sms_messages (id, created_at, updated_at, template, to_number, body, encoding, segments, status, test_number, delivered_by_us, attempts)
          values (${id}, 1, 1, 'verification_code', ${to}, 'x', 'GSM-7', 1, 'delivered', 0, 1, 1)`.execute(store.db);
      }
      expect(await migrate(store)).toContain('012_sms_costs');
      const rows = await store.db.selectFrom('sms_messages').select(['id', 'country']).orderBy('id').execute();
      expect(rows).toEqual([
        { id: 'msg_a', country: 'US' },
        { id: 'msg_b', country: 'DE' },
        { id: 'msg_c', country: 'GB' },
        { id: 'msg_d', country: null },
      ]);
    } finally {
      await store.close();
      await testStore.cleanup();
    }
  });
});
