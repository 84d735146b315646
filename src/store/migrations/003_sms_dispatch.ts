import { sql, type Kysely } from 'kysely';
import type { Migration } from './migration.js';

/**
 * The dispatcher's tables and columns: per-message attempts and status history, the sealed body an outbox
 * row carries until it is sent, and the indexes the dispatcher and the message log read by.
 */
export const smsDispatch: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('sms_messages').addColumn('payload', 'text').execute();
    await db.schema.alterTable('sms_messages').addColumn('carrier_status', 'text').execute();
    await db.schema.alterTable('sms_messages').addColumn('carrier_parts', 'integer').execute();
    await db.schema.alterTable('sms_messages').addColumn('sent_at', 'bigint').execute();
    await db.schema.alterTable('sms_messages').addColumn('completed_at', 'bigint').execute();

    // Due work only: next_attempt_at is set exactly while a message waits for (or is in) an attempt, so this
    // partial index stays as small as the queue however long the log grows.
    await db.schema.dropIndex('sms_messages_due').execute();
    // Callbacks find their message by our id (it is in the callback URL), never by the carrier's.
    await db.schema.dropIndex('sms_messages_carrier_id').execute();
    await db.schema
      .createIndex('sms_messages_due_at')
      .on('sms_messages')
      .column('next_attempt_at')
      .where(sql.ref('next_attempt_at'), 'is not', null)
      .execute();
    await db.schema.createIndex('sms_messages_status').on('sms_messages').columns(['status', 'id']).execute();
    await db.schema.createIndex('sms_messages_template').on('sms_messages').columns(['template', 'id']).execute();

    await db.schema
      .createTable('sms_message_attempts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('driver', 'text', (c) => c.notNull())
      .addColumn('worker', 'text', (c) => c.notNull())
      .addColumn('started_at', 'bigint', (c) => c.notNull())
      .addColumn('finished_at', 'bigint', (c) => c.notNull())
      .addColumn('outcome', 'text', (c) => c.notNull())
      .addColumn('carrier_message_id', 'text')
      .addColumn('http_status', 'integer')
      .addColumn('error_code', 'text')
      .addColumn('error_message', 'text')
      .execute();
    await db.schema.createIndex('sms_message_attempts_message').on('sms_message_attempts').columns(['message_id', 'attempt']).execute();

    await db.schema
      .createTable('sms_message_statuses')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('carrier_status', 'text')
      .addColumn('carrier_message_id', 'text')
      .addColumn('error_code', 'text')
      .addColumn('error_message', 'text')
      .addColumn('applied', 'integer', (c) => c.notNull())
      .addColumn('dedupe_key', 'text')
      .execute();
    await db.schema.createIndex('sms_message_statuses_message').on('sms_message_statuses').columns(['message_id', 'id']).execute();
    // A carrier report seen once is not recorded (or applied) again: duplicates change nothing.
    await db.schema
      .createIndex('sms_message_statuses_dedupe')
      .on('sms_message_statuses')
      .columns(['message_id', 'dedupe_key'])
      .unique()
      .execute();
  },
};
