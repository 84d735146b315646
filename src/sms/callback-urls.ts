/**
 * Where carriers report delivery, and how those reports are authenticated:
 * - Twilio: `{public url}/callbacks/twilio/status/{message id}`, signed by Twilio with X-Twilio-Signature.
 * - Vonage: `{public url}/callbacks/vonage/dlr/{message id}/{token}`, where the token is
 *   HMAC-SHA256(callback secret, message id). The callback secret is 32 random bytes made on the first start
 *   and kept sealed in `store_meta`; it never leaves the server, and a leaked URL authenticates receipts for
 *   its one message only. When a Vonage signature secret is configured the receipt must be signed as well.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SecretBox } from '../secret-box.js';
import type { Db, Tx } from '../store/database.js';

export const TWILIO_STATUS_ROUTE = '/callbacks/twilio/status/:message_id';
export const VONAGE_DLR_ROUTE = '/callbacks/vonage/dlr/:message_id/:token';

const SECRET_KEY = 'sms.callback_secret';
const SECRET_AD = `store_meta.${SECRET_KEY}`;

export class CallbackUrls {
  private secretBytes: Buffer | null = null;

  constructor(private readonly publicUrl: string) {}

  /** Loads (on the very first start: makes) the instance's callback secret. */
  async init(db: Db, box: SecretBox): Promise<void> {
    this.secretBytes = await loadCallbackSecret(db, box);
  }

  private get secret(): Buffer {
    if (!this.secretBytes) throw new Error('CallbackUrls.init() has not run');
    return this.secretBytes;
  }

  twilioStatus(messageId: string): string {
    return `${this.publicUrl}/callbacks/twilio/status/${messageId}`;
  }

  vonageDlr(messageId: string): string {
    return `${this.publicUrl}/callbacks/vonage/dlr/${messageId}/${this.vonageToken(messageId)}`;
  }

  /** Constant-time check of the token in a Vonage receipt's path. */
  checkVonageToken(messageId: string, token: string): boolean {
    const expected = Buffer.from(this.vonageToken(messageId), 'utf8');
    const given = Buffer.from(token, 'utf8');
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  private vonageToken(messageId: string): string {
    return createHmac('sha256', this.secret).update(`vonage-dlr:${messageId}`).digest('base64url');
  }
}

/** The instance's callback secret: made and sealed on the first start; every process of the instance reads the same one. */
async function loadCallbackSecret(db: Db, box: SecretBox): Promise<Buffer> {
  const read = async () => (await db.selectFrom('store_meta').select('value').where('key', '=', SECRET_KEY).executeTakeFirst())?.value;
  let sealed = await read();
  if (sealed === undefined) {
    const value = box.seal(randomBytes(32).toString('base64'), SECRET_AD);
    // Two processes starting at once: the first insert wins and both read it back.
    await db
      .insertInto('store_meta')
      .values({ key: SECRET_KEY, value })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    sealed = (await read())!;
  }
  return Buffer.from(box.open(sealed, SECRET_AD), 'base64');
}

/** Key rotation: re-seals the callback secret with the current key. */
export async function resealCallbackSecret(tx: Tx, box: SecretBox): Promise<number> {
  const row = await tx.selectFrom('store_meta').select('value').where('key', '=', SECRET_KEY).executeTakeFirst();
  if (!row || !box.isStale(row.value)) return 0;
  await tx
    .updateTable('store_meta')
    .set({ value: box.seal(box.open(row.value, SECRET_AD), SECRET_AD) })
    .where('key', '=', SECRET_KEY)
    .execute();
  return 1;
}
