/**
 * Migration 015 on a store that already holds messages that moved to their failover driver: each gets the reason
 * its record shows (the first driver's last attempt failed transiently; or it was accepted and the move's history
 * entry says `no_receipt`; or else the carrier refused it, at send or in a later report), and a message that did
 * not move gets none.
 */
import { Migrator, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { migrationProvider } from '../../src/store/migrations/index.js';
import { migrate, openStore, type Store } from '../../src/store/database.js';
import { STORES, createTestStore } from '../helpers/server.js';

/** A message that moved from Twilio to Vonage after its `attempt`-th attempt, or did not move (`moved: false`). */
async function message(store: Store, id: string, moved: { attempt: number; outcome: string } | false, historyCode?: string) {
  await sql`insert into sms_messages (id, created_at, updated_at, template, to_number, body, encoding, segments, status, driver,
      test_number, delivered_by_us, attempts, failover_from, failed_over_at, failover_attempt)
    values (${id}, 1, 1, 'verification_code', '+14155550123', 'x', 'GSM-7', 1, 'sent', ${moved ? 'vonage' : 'twilio'}, 0, 1, 3,
      ${moved ? 'twilio' : null}, ${moved ? 2 : null}, ${moved ? moved.attempt : null})`.execute(store.db);
  if (!moved) return;
  await sql`insert into sms_message_attempts (id, message_id, attempt, driver, worker, started_at, finished_at, outcome)
    values (${`att_${id}`}, ${id}, ${moved.attempt}, 'twilio', 'w', 1, 1, ${moved.outcome})`.execute(store.db);
  if (historyCode)
    await sql`insert into sms_message_statuses (id, message_id, created_at, status, source, error_code, applied)
      values (${`st_${id}`}, ${id}, 2, 'queued', 'dispatcher', ${historyCode}, 1)`.execute(store.db);
}

describe.each(STORES)('migration 015_sms_failover_reason on %s', (kind) => {
  it('gives the messages that moved before it the reason their record shows', async () => {
    const testStore = await createTestStore(kind);
    const store = await openStore({ databaseUrl: testStore.database?.url ?? null, dataDir: testStore.dataDir });
    try {
      const migrator = new Migrator({ db: store.db, provider: migrationProvider(store.dialect) });
      expect((await migrator.migrateTo('014_delivery_state')).error).toBeUndefined();
      await message(store, 'msg_refused_at_send', { attempt: 1, outcome: 'permanent_error' }, '21408');
      await message(store, 'msg_timed_out', { attempt: 2, outcome: 'transient_error' }, 'timeout');
      await message(store, 'msg_no_receipt', { attempt: 1, outcome: 'accepted' }, 'no_receipt');
      await message(store, 'msg_filtered_later', { attempt: 1, outcome: 'accepted' }, '30007');
      await message(store, 'msg_not_moved', false);

      expect(await migrate(store)).toContain('015_sms_failover_reason');
      const rows = await store.db.selectFrom('sms_messages').select(['id', 'failover_reason']).orderBy('id').execute();
      expect(rows).toEqual([
        { id: 'msg_filtered_later', failover_reason: 'carrier_refused' },
        { id: 'msg_no_receipt', failover_reason: 'no_receipt' },
        { id: 'msg_not_moved', failover_reason: null },
        { id: 'msg_refused_at_send', failover_reason: 'carrier_refused' },
        { id: 'msg_timed_out', failover_reason: 'transient_failures' },
      ]);
    } finally {
      await store.close();
      await testStore.cleanup();
    }
  });
});
