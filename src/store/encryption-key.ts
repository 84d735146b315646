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

export async function checkEncryptionKey(
  db: Db,
  box: SecretBox,
  resealers: readonly Resealer[],
): Promise<{ rotatedFrom: string | null; resealed: number }> {
  return db.transaction().execute(async (tx) => {
    // A new store takes the configured key. Processes starting together all insert; the first row stays and
    // every one reads it back.
    await tx
      .insertInto('store_meta')
      .values({ key: META_KEY, value: box.keyId })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    const read = async () =>
      (await tx.selectFrom('store_meta').select('value').where('key', '=', META_KEY).executeTakeFirstOrThrow()).value;
    const stored = await read();
    if (stored === box.keyId) return { rotatedFrom: null, resealed: 0 };
    if (!box.hasKey(stored)) throw wrongKey(stored, box);
    // Claimed before re-sealing: of processes rotating at once, the others wait on this row until the first
    // commits, then find the rotation done.
    const claimed = await tx
      .updateTable('store_meta')
      .set({ value: box.keyId })
      .where('key', '=', META_KEY)
      .where('value', '=', stored)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) === 0) {
      const now = await read();
      if (now !== box.keyId) throw wrongKey(now, box);
      return { rotatedFrom: null, resealed: 0 };
    }
    let resealed = 0;
    for (const reseal of resealers) resealed += await reseal(tx);
    return { rotatedFrom: stored, resealed };
  });
}

function wrongKey(stored: string, box: SecretBox): StartupError {
  return new StartupError(
    `AUTHN_ENCRYPTION_KEY is not the key this store's credentials are encrypted with (the store expects key id ${stored}, the configured key has id ${box.keyId}). ` +
      'Set the original key, or list it in AUTHN_PREVIOUS_ENCRYPTION_KEYS to rotate to the new one.',
  );
}
