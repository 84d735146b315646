/**
 * The keys phone auth signs with, made on first use and kept sealed with the secret box:
 * - `code_hmac`: 32 random bytes; challenge codes are stored only as HMAC-SHA256 under this key, so a copy of
 *   the database alone does not let anyone test codes offline;
 * - `session_jwt`: an ES256 (P-256) key pair; session tokens are signed with the private half and backends
 *   verify them with the public half, published at `/.well-known/jwks.json`.
 * ES256 rather than EdDSA because every JWT library a backend might use verifies it.
 */
import { createPrivateKey, randomBytes, type JsonWebKey } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey } from 'jose';
import type { Clock } from '../clock.js';
import type { SecretBox } from '../secret-box.js';
import { fromJson, toJson, type Db, type Tx } from '../store/database.js';

export const SESSION_JWT_ALG = 'ES256';

type KeyKind = 'code_hmac' | 'session_jwt';

interface KeyMaterial {
  kid: string;
  /** The private key as text (base64 bytes, or a JWK as JSON). */
  secret: string;
  publicJwk: PublicJwk | null;
}

export interface SessionSigningKey {
  kid: string;
  /** PKCS#8 PEM: what the token signer takes (see `Sessions.sign`). */
  privateKeyPem: string;
  publicKey: CryptoKey;
}

/** The public half of the session key, as JWKS publishes it. */
export interface PublicJwk {
  kty: string;
  crv: string;
  x: string;
  y: string;
  kid: string;
  alg: string;
  use: string;
}

export interface Jwks {
  keys: PublicJwk[];
}

const associatedData = (kind: KeyKind) => `auth_keys.${kind}`;

async function generate(kind: KeyKind): Promise<KeyMaterial> {
  if (kind === 'code_hmac') return { kid: randomBytes(8).toString('hex'), secret: randomBytes(32).toString('base64'), publicJwk: null };
  const { privateKey, publicKey } = await generateKeyPair(SESSION_JWT_ALG, { extractable: true });
  const { kty, crv, x, y } = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint({ kty, crv, x, y });
  return {
    kid,
    secret: toJson(await exportJWK(privateKey)),
    publicJwk: { kty: kty!, crv: crv!, x: x!, y: y!, kid, alg: SESSION_JWT_ALG, use: 'sig' },
  };
}

interface LoadedKeys {
  codeKey: Buffer;
  session: SessionSigningKey;
  jwks: Jwks;
}

/**
 * Loaded once at start (`init`), so the request path reads keys from memory and never queries the store from
 * inside a transaction.
 */
export class AuthKeys {
  private loaded: LoadedKeys | null = null;

  private readonly db: Db;
  private readonly box: SecretBox;
  private readonly clock: Clock;

  constructor(deps: { db: Db; box: SecretBox; clock: Clock }) {
    this.db = deps.db;
    this.box = deps.box;
    this.clock = deps.clock;
  }

  /** Reads the keys, making any that the store does not have yet. */
  async init(): Promise<void> {
    const code = await this.ensure('code_hmac');
    const session = await this.ensure('session_jwt');
    const publicJwk = session.publicJwk!;
    this.loaded = {
      codeKey: Buffer.from(code.secret, 'base64'),
      session: {
        kid: session.kid,
        privateKeyPem: createPrivateKey({ key: fromJson<JsonWebKey>(session.secret), format: 'jwk' }).export({
          type: 'pkcs8',
          format: 'pem',
        }) as string,
        publicKey: (await importJWK(publicJwk, SESSION_JWT_ALG)) as CryptoKey,
      },
      jwks: { keys: [publicJwk] },
    };
  }

  /** The HMAC key of challenge codes. */
  codeKey(): Buffer {
    return this.keys().codeKey;
  }

  sessionSigningKey(): SessionSigningKey {
    return this.keys().session;
  }

  jwks(): Jwks {
    return this.keys().jwks;
  }

  private keys(): LoadedKeys {
    if (!this.loaded) throw new Error('AuthKeys.init() has not run');
    return this.loaded;
  }

  /** Re-seals keys sealed with an older encryption key (key rotation); returns how many were re-sealed. */
  async reseal(tx: Tx): Promise<number> {
    const rows = await tx.selectFrom('auth_keys').select(['kind', 'envelope']).execute();
    let count = 0;
    for (const row of rows) {
      if (!this.box.isStale(row.envelope)) continue;
      const ad = associatedData(row.kind as KeyKind);
      await tx
        .updateTable('auth_keys')
        .set({ envelope: this.box.seal(this.box.open(row.envelope, ad), ad) })
        .where('kind', '=', row.kind)
        .execute();
      count++;
    }
    return count;
  }

  /**
   * Reads a key, making it first if the store has none. Several processes may start at once: the insert
   * ignores a conflict and everyone reads back the one row that won.
   */
  private async ensure(kind: KeyKind): Promise<KeyMaterial> {
    const read = () => this.db.selectFrom('auth_keys').selectAll().where('kind', '=', kind).executeTakeFirst();
    let row = await read();
    if (!row) {
      const fresh = await generate(kind);
      await this.db
        .insertInto('auth_keys')
        .values({
          kind,
          kid: fresh.kid,
          public_jwk: fresh.publicJwk ? toJson(fresh.publicJwk) : null,
          envelope: this.box.seal(fresh.secret, associatedData(kind)),
          created_at: this.clock.now(),
        })
        .onConflict((oc) => oc.column('kind').doNothing())
        .execute();
      row = (await read())!;
    }
    return {
      kid: row.kid,
      secret: this.box.open(row.envelope, associatedData(kind)),
      publicJwk: row.public_jwk ? fromJson<PublicJwk>(row.public_jwk) : null,
    };
  }
}
