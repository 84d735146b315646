import { sql, type Kysely } from 'kysely';
import type { Migration } from './migration.js';

/**
 * Sign-ups and sign-ins not completed, by start time: housekeeping deletes the abandoned ones. Partial, so the
 * index holds only flows still open, however many have completed.
 */
export const openFlows: Migration = {
  async up(db: Kysely<unknown>) {
    for (const table of ['sign_ups', 'sign_ins']) {
      await db.schema.createIndex(`${table}_open`).on(table).column('created_at').where(sql.ref('status'), '!=', 'complete').execute();
    }
  },
};
