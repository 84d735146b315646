import type { Kysely } from 'kysely';
import type { Migration } from './migration.js';

/**
 * A number's challenges for one purpose, newest last: the latest one holds when the next code may be sent, and
 * those since the last right code decide how long the wait after wrong codes is.
 */
export const challengeHistory: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.createIndex('challenges_by_number').on('challenges').columns(['phone_number', 'purpose', 'created_at']).execute();
  },
};
