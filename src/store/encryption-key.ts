/**
 * The store remembers the id of the key its secrets are sealed with (`store_meta.encryption_key_id`). At
 * start: the same key goes on; a key listed in AUTHN_PREVIOUS_ENCRYPTION_KEYS is rotated away from (every
 * sealed value is re-sealed with the current key, in one transaction); any other key stops the start with a
 * clear message instead of failing later with garbage.
 */
import { StartupError } from '../errors.js';
import type { SecretBox } from '../secret-box.js';
import type { Db, Tx } from './database.js';

/** Re-seals one domain's stored secrets with the current key; returns how many it changed. */
export type Resealer = (tx: Tx) => Promise<number>;

const META_KEY = 'encryption_key_id';

export async function checkEncryptionKey(db: Db, box: SecretBox, resealers: readonly Resealer[]): Promise<{ rotatedFrom: string | null; resealed: number }> {
  return db.transaction().execute(async (tx) => {
    const row = await tx.selectFrom('store_meta').select('value').where('key', '=', META_KEY).executeTakeFirst();
    if (!row) {
      await tx.insertInto('store_meta').values({ key: META_KEY, value: box.keyId }).execute();
      return { rotatedFrom: null, resealed: 0 };
    }
    if (row.value === box.keyId) return { rotatedFrom: null, resealed: 0 };
    if (!box.hasKey(row.value)) {
      throw new StartupError(
        `AUTHN_ENCRYPTION_KEY is not the key this store's credentials are encrypted with (the store expects key id ${row.value}, the configured key has id ${box.keyId}). ` +
          'Set the original key, or list it in AUTHN_PREVIOUS_ENCRYPTION_KEYS to rotate to the new one.',
      );
    }
    let resealed = 0;
    for (const reseal of resealers) resealed += await reseal(tx);
    await tx.updateTable('store_meta').set({ value: box.keyId }).where('key', '=', META_KEY).execute();
    return { rotatedFrom: row.value, resealed };
  });
}
