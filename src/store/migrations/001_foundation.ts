import { sql, type Kysely } from 'kysely';
import type { Migration } from './migration.js';

export const foundation: Migration = {
  async up(db: Kysely<unknown>, dialect) {
    await db.schema
      .createTable('store_meta')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('secret_keys')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('key_hash', 'text', (c) => c.notNull().unique())
      .addColumn('last4', 'text', (c) => c.notNull())
      .addColumn('name', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('revoked_at', 'bigint')
      .execute();

    await db.schema
      .createTable('instance_settings')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('document', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('instance_secrets')
      .addColumn('path', 'text', (c) => c.primaryKey())
      .addColumn('envelope', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('audit_logs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('actor_type', 'text', (c) => c.notNull())
      .addColumn('actor_id', 'text')
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('target_type', 'text')
      .addColumn('target_id', 'text')
      .addColumn('data', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('audit_logs_action').on('audit_logs').columns(['action', 'id']).execute();
    await db.schema.createIndex('audit_logs_target').on('audit_logs').columns(['target_type', 'target_id', 'id']).execute();
    await db.schema.createIndex('audit_logs_created_at').on('audit_logs').column('created_at').execute();

    // The audit log is append-only: the database itself refuses to change or remove an entry.
    if (dialect === 'sqlite') {
      await sql`CREATE TRIGGER audit_logs_no_update BEFORE UPDATE ON audit_logs BEGIN SELECT RAISE(ABORT, 'audit_logs is append-only'); END`.execute(
        db,
      );
      await sql`CREATE TRIGGER audit_logs_no_delete BEFORE DELETE ON audit_logs BEGIN SELECT RAISE(ABORT, 'audit_logs is append-only'); END`.execute(
        db,
      );
    } else {
      await sql`CREATE FUNCTION audit_logs_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit_logs is append-only'; END $$`.execute(
        db,
      );
      await sql`CREATE TRIGGER audit_logs_no_change BEFORE UPDATE OR DELETE ON audit_logs FOR EACH ROW EXECUTE FUNCTION audit_logs_append_only()`.execute(
        db,
      );
    }
  },
};
