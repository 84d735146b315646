import { sql, type Kysely } from 'kysely';
import type { Migration } from './migration.js';

/**
 * Failover to a second driver (see src/sms/outcomes.ts): which driver a message moved from, when, and at which
 * attempt (the second driver's retries count from there); and until when an accepted message waits for its
 * delivery receipt before it moves. Partial: the index holds only messages waiting for a receipt.
 */
export const smsFailover: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('sms_messages').addColumn('failover_from', 'text').execute();
    await db.schema.alterTable('sms_messages').addColumn('failed_over_at', 'bigint').execute();
    await db.schema.alterTable('sms_messages').addColumn('failover_attempt', 'integer').execute();
    await db.schema.alterTable('sms_messages').addColumn('receipt_wait_until', 'bigint').execute();
    await db.schema
      .createIndex('sms_messages_receipt_wait')
      .on('sms_messages')
      .column('receipt_wait_until')
      .where(sql.ref('receipt_wait_until'), 'is not', null)
      .execute();
  },
};
