import { sql, type Kysely } from 'kysely';
import type { Migration } from './migration.js';

/**
 * When the server next asks the carrier how a sent message is doing (Twilio's status callbacks are not retried:
 * one sent while the server was down is lost). Partial: the index holds only messages awaiting a check.
 */
export const smsStatusChecks: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('sms_messages').addColumn('status_check_at', 'bigint').execute();
    await db.schema
      .createIndex('sms_messages_status_check')
      .on('sms_messages')
      .column('status_check_at')
      .where(sql.ref('status_check_at'), 'is not', null)
      .execute();
  },
};
