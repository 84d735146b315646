/**
 * Secret keys authenticate the Backend API: `Authorization: Bearer sk_live_…` (or `sk_test_…`). A key is shown
 * once, when it is made; the store keeps only its SHA-256 (keys carry 256 bits of randomness, so a fast hash
 * is enough) and its last four characters.
 */
import { createHash, randomBytes } from 'node:crypto';
import { SECRET_KEY_PATTERN } from '../config.js';
import type { Clock } from '../clock.js';
import { appError } from '../errors.js';
import { newId } from '../ids.js';
import type { Db, Executor } from '../store/database.js';
import type { SecretKeysTable } from '../store/schema.js';
import { recordAudit, type Actor } from '../audit/audit-log.js';

export type SecretKeyKind = 'live' | 'test';

export interface SecretKey {
  id: string;
  object: 'secret_key';
  kind: SecretKeyKind;
  name: string | null;
  /** `sk_live_…abcd`: enough to recognise a key, useless to use one. */
  hint: string;
  created_at: number;
  revoked_at: number | null;
}

/** The `store_meta` row naming the first key: its presence means the first key has been made. */
const FIRST_KEY_META = 'first_secret_key_id';

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function generateSecretKey(kind: SecretKeyKind): string {
  // 43 base62 characters ≈ 256 bits. Rejection sampling keeps every character uniform.
  let body = '';
  while (body.length < 43) {
    for (const byte of randomBytes(64)) {
      if (byte < 248 && body.length < 43) body += BASE62[byte % 62];
    }
  }
  return `sk_${kind}_${body}`;
}

export function hashSecretKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

function toSecretKey(row: SecretKeysTable): SecretKey {
  return {
    id: row.id,
    object: 'secret_key',
    kind: row.kind as SecretKeyKind,
    name: row.name,
    hint: `sk_${row.kind}_…${row.last4}`,
    created_at: row.created_at,
    revoked_at: row.revoked_at,
  };
}

export class SecretKeys {
  private readonly db: Db;
  private readonly clock: Clock;

  constructor(deps: { db: Db; clock: Clock }) {
    this.db = deps.db;
    this.clock = deps.clock;
  }

  /** Stores a key (a given one, e.g. `AUTHN_SECRET_KEY`, or a new one) and returns it with its plaintext. */
  async create(
    input: { kind?: SecretKeyKind; name?: string | null; key?: string; actor: Actor },
    executor: Executor = this.db,
  ): Promise<{ secretKey: SecretKey; key: string }> {
    const key = input.key ?? generateSecretKey(input.kind ?? 'live');
    const row = this.newRow(key, input.name ?? null);
    await this.insert(executor, row, input.actor);
    return { secretKey: toSecretKey(row), key };
  }

  /**
   * The store's very first key, made only when it has never had one. Processes starting together each try:
   * the first to record the key's id in `store_meta` makes it, the others get null (and have no key to show).
   */
  async createFirst(input: { name: string; key?: string; actor: Actor }): Promise<{ secretKey: SecretKey; key: string } | null> {
    if ((await this.count()) > 0) return null;
    const key = input.key ?? generateSecretKey('live');
    const row = this.newRow(key, input.name);
    return this.db.transaction().execute(async (tx) => {
      const claimed = await tx
        .insertInto('store_meta')
        .values({ key: FIRST_KEY_META, value: row.id })
        .onConflict((oc) => oc.column('key').doNothing())
        .executeTakeFirst();
      if (Number(claimed.numInsertedOrUpdatedRows) === 0) return null;
      await this.insert(tx, row, input.actor);
      return { secretKey: toSecretKey(row), key };
    });
  }

  private newRow(key: string, name: string | null): SecretKeysTable {
    const match = SECRET_KEY_PATTERN.exec(key);
    if (!match) throw new TypeError('malformed secret key');
    const now = this.clock.now();
    return {
      id: newId('sk', now),
      kind: match[1]!,
      key_hash: hashSecretKey(key),
      last4: key.slice(-4),
      name,
      created_at: now,
      revoked_at: null,
    };
  }

  private async insert(executor: Executor, row: SecretKeysTable, actor: Actor): Promise<void> {
    await executor.insertInto('secret_keys').values(row).execute();
    await recordAudit(executor, this.clock, {
      actor,
      action: 'secret_key.created',
      target: { type: 'secret_key', id: row.id },
      data: { kind: row.kind, name: row.name },
    });
  }

  async count(executor: Executor = this.db): Promise<number> {
    const row = await executor
      .selectFrom('secret_keys')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async list(): Promise<SecretKey[]> {
    const rows = await this.db.selectFrom('secret_keys').selectAll().orderBy('id', 'asc').execute();
    return rows.map(toSecretKey);
  }

  /** The key a request was authenticated with (its actor id): which key an audit entry's `sk_…` id is. */
  async current(actor: Actor): Promise<SecretKey> {
    const row =
      actor.type === 'secret_key' && actor.id !== null
        ? await this.db.selectFrom('secret_keys').selectAll().where('id', '=', actor.id).executeTakeFirst()
        : undefined;
    if (!row) throw new Error(`no secret key behind the actor ${actor.type} ${actor.id}`);
    return toSecretKey(row);
  }

  /** Revokes by id; revoking twice is harmless. Returns null for an unknown id. */
  async revoke(id: string, actor: Actor): Promise<SecretKey | null> {
    return this.db.transaction().execute(async (tx) => {
      const row = await tx.selectFrom('secret_keys').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) return null;
      if (row.revoked_at === null) {
        row.revoked_at = this.clock.now();
        await tx.updateTable('secret_keys').set({ revoked_at: row.revoked_at }).where('id', '=', id).execute();
        await recordAudit(tx, this.clock, { actor, action: 'secret_key.revoked', target: { type: 'secret_key', id } });
      }
      return toSecretKey(row);
    });
  }

  /**
   * Checks an `Authorization` header value. Missing, malformed, unknown and revoked keys are all 401, each with
   * its own code; the key itself never appears in an error.
   */
  async authenticate(header: string | undefined): Promise<Actor> {
    if (header === undefined || header.trim() === '') {
      throw appError('authorization_header_missing', {
        paramName: 'Authorization',
        longMessage: 'Send your secret key as "Authorization: Bearer sk_live_…".',
      });
    }
    const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
    if (!match || !SECRET_KEY_PATTERN.test(match[1]!)) {
      throw appError('authorization_header_malformed', {
        paramName: 'Authorization',
        longMessage: 'The Authorization header must be "Bearer " followed by a secret key (sk_live_… or sk_test_…).',
      });
    }
    const row = await this.db
      .selectFrom('secret_keys')
      .select(['id', 'revoked_at'])
      .where('key_hash', '=', hashSecretKey(match[1]!))
      .executeTakeFirst();
    if (!row || row.revoked_at !== null) {
      throw appError('secret_key_invalid', { paramName: 'Authorization', longMessage: 'The secret key is unknown or has been revoked.' });
    }
    return { type: 'secret_key', id: row.id };
  }
}
