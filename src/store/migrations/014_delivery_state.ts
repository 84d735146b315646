import { sql, type Kysely } from 'kysely';
import type { Migration } from './migration.js';

/**
 * A verification code's message by its challenge: what a client polling its sign-in, sign-up or enrolment reads for
 * the delivery state. Partial: only messages that carry a code are in it.
 */
export const deliveryState: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createIndex('sms_messages_challenge')
      .on('sms_messages')
      .columns(['challenge_id', 'id'])
      .where(sql.ref('challenge_id'), 'is not', null)
      .execute();
  },
};
