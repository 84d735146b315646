import type { Kysely } from 'kysely';
import { parseRecipient } from '../../phone/numbers.js';
import type { Migration } from './migration.js';

/** Messages whose country one backfill step reads and writes. */
const BACKFILL_BATCH = 500;

/**
 * What the delivery & cost page groups by: each message's destination country (ISO 3166 alpha-2, from
 * libphonenumber when it is queued; null when the number belongs to no single country), and each carrier
 * attempt's price. A price belongs to the attempt, not the message: after a failover two carriers may charge.
 * It is kept in billionths of its currency (`price_nanos`, an integer): sums are exact in SQL on both stores,
 * where a decimal string cannot be summed and a float drifts, and a billionth is finer than any carrier's
 * figure (Vonage answers with eight decimals, Twilio with five).
 *
 * No index is added: the page reads a time window of messages through the primary key (ids sort by creation
 * time, see src/ids.ts) and their attempts and history through the per-message indexes they already have.
 */
export const smsCosts: Migration = {
  async up(untyped: Kysely<unknown>) {
    await untyped.schema.alterTable('sms_messages').addColumn('country', 'text').execute();
    await untyped.schema.alterTable('sms_message_attempts').addColumn('price_nanos', 'bigint').execute();
    await untyped.schema.alterTable('sms_message_attempts').addColumn('price_currency', 'text').execute();

    const db = untyped as Kysely<{ sms_messages: { id: string; to_number: string; country: string | null } }>;
    let after = '';
    for (;;) {
      const rows = await db
        .selectFrom('sms_messages')
        .select(['id', 'to_number'])
        .where('id', '>', after)
        .orderBy('id')
        .limit(BACKFILL_BATCH)
        .execute();
      if (rows.length === 0) break;
      const byCountry = new Map<string, string[]>();
      for (const row of rows) {
        const recipient = parseRecipient(row.to_number);
        if (!recipient.ok || recipient.country === null) continue;
        byCountry.set(recipient.country, [...(byCountry.get(recipient.country) ?? []), row.id]);
      }
      for (const [country, ids] of byCountry) await db.updateTable('sms_messages').set({ country }).where('id', 'in', ids).execute();
      after = rows[rows.length - 1]!.id;
    }
  },
};
