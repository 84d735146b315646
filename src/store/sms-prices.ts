/**
 * Prices that carriers report after the send (a Vonage receipt's `price`, Twilio's message resource when fetched),
 * written onto the accepted attempt of that carrier. The first price known stays: the answer to the send, when it
 * had one, is what the carrier charged for the whole message.
 */
import type { Tx } from './database.js';

export interface ReportedPrice {
  messageId: string;
  driver: string;
  nanos: number;
  currency: string;
}

/** The prices that were written (an attempt already priced, or no accepted attempt of that driver, takes none). */
export async function priceAttempts(tx: Tx, prices: readonly ReportedPrice[]): Promise<ReportedPrice[]> {
  const written: ReportedPrice[] = [];
  for (const price of prices) {
    const result = await tx
      .updateTable('sms_message_attempts')
      .set({ price_nanos: price.nanos, price_currency: price.currency })
      .where('message_id', '=', price.messageId)
      .where('driver', '=', price.driver)
      .where('outcome', '=', 'accepted')
      .where('price_nanos', 'is', null)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) > 0) written.push(price);
  }
  return written;
}
