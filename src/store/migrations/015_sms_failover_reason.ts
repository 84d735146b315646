import { sql, type Kysely } from 'kysely';
import type { Migration } from './migration.js';

/**
 * Why a message moved to its failover driver, kept when it moves (as its `sms.failover` event says it). Messages
 * that moved before get the reason their record shows: the first driver's last attempt failed transiently
 * (`transient_failures`), or it was accepted and the move's history entry says `no_receipt`, or else the carrier
 * refused it, at send or in a later report (`carrier_refused`).
 */
export const smsFailoverReason: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('sms_messages').addColumn('failover_reason', 'text').execute();
    await sql`
      update sms_messages set failover_reason = case
        when (select max(a.outcome) from sms_message_attempts a
              where a.message_id = sms_messages.id and a.attempt = sms_messages.failover_attempt) = 'transient_error'
          then 'transient_failures'
        when (select max(a.outcome) from sms_message_attempts a
              where a.message_id = sms_messages.id and a.attempt = sms_messages.failover_attempt) = 'accepted'
          and exists (select 1 from sms_message_statuses s where s.message_id = sms_messages.id and s.error_code = 'no_receipt')
          then 'no_receipt'
        else 'carrier_refused'
      end
      where failover_from is not null`.execute(db);
  },
};
