import type { Kysely } from 'kysely';
import type { Migration } from './migration.js';

/** The event log, SMS templates (overrides of the shipped defaults) and the SMS message outbox. */
export const messaging: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('events')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('events_type').on('events').columns(['type', 'id']).execute();

    await db.schema
      .createTable('sms_templates')
      .addColumn('slug', 'text', (c) => c.primaryKey())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('from_number_override', 'text')
      .addColumn('delivered_by_us', 'integer', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('sms_messages')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('template', 'text', (c) => c.notNull())
      .addColumn('to_number', 'text', (c) => c.notNull())
      .addColumn('from_number', 'text')
      .addColumn('messaging_service_sid', 'text')
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('encoding', 'text', (c) => c.notNull())
      .addColumn('segments', 'integer', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('driver', 'text')
      .addColumn('test_number', 'integer', (c) => c.notNull())
      .addColumn('delivered_by_us', 'integer', (c) => c.notNull())
      .addColumn('challenge_id', 'text')
      .addColumn('expires_at', 'bigint')
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('next_attempt_at', 'bigint')
      .addColumn('lease_owner', 'text')
      .addColumn('lease_expires_at', 'bigint')
      .addColumn('carrier_message_id', 'text')
      .addColumn('error_code', 'text')
      .addColumn('error_message', 'text')
      .execute();
    await db.schema.createIndex('sms_messages_due').on('sms_messages').columns(['status', 'next_attempt_at']).execute();
    await db.schema.createIndex('sms_messages_carrier_id').on('sms_messages').column('carrier_message_id').execute();
    await db.schema.createIndex('sms_messages_to').on('sms_messages').columns(['to_number', 'id']).execute();
  },
};
