import type { Kysely } from 'kysely';
import type { Migration } from './migration.js';

/**
 * When an endpoint's attempts started failing without a success since (null: its last attempt succeeded):
 * an endpoint that fails everything for long enough is disabled, as Svix does.
 */
export const webhookEndpointHealth: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('webhook_endpoints').addColumn('failing_since', 'bigint').execute();
  },
};
