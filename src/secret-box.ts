/**
 * Encryption at rest for every stored secret that must be read back (carrier credentials, webhook signing
 * secrets, session signing keys): AES-256-GCM with a random 96-bit nonce, the value's own path as associated
 * data (a ciphertext moved to another field does not decrypt), and the key id inside the envelope so keys can
 * rotate. Envelope: `v1.<key id>.<nonce>.<ciphertext>.<tag>` (base64url parts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { StartupError } from './errors.js';

export class SecretBox {
  readonly keyId: string;
  private readonly keys: Map<string, Buffer>;

  /** `current` encrypts and decrypts; `previous` keys only decrypt (rotation). */
  constructor(current: Buffer, previous: readonly Buffer[] = []) {
    this.keyId = keyIdOf(current);
    this.keys = new Map([[this.keyId, current]]);
    for (const key of previous) this.keys.set(keyIdOf(key), key);
  }

  hasKey(keyId: string): boolean {
    return this.keys.has(keyId);
  }

  seal(plaintext: string, associatedData: string): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.keyId)!, nonce);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [
      'v1',
      this.keyId,
      nonce.toString('base64url'),
      ciphertext.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
    ].join('.');
  }

  open(envelope: string, associatedData: string): string {
    const [version, keyId, nonce, ciphertext, tag] = envelope.split('.');
    if (version !== 'v1' || !keyId || nonce === undefined || ciphertext === undefined || tag === undefined) {
      throw new SecretBoxError(`stored secret for ${associatedData} has an unknown format`);
    }
    const key = this.keys.get(keyId);
    if (!key) throw new SecretBoxError(`stored secret for ${associatedData} was encrypted with key ${keyId}, which is not configured`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64url'));
      decipher.setAAD(Buffer.from(associatedData, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError(`stored secret for ${associatedData} does not decrypt with key ${keyId}`);
    }
  }

  /** Whether an envelope was sealed with an older key and should be re-sealed. */
  isStale(envelope: string): boolean {
    return envelope.split('.')[1] !== this.keyId;
  }
}

export class SecretBoxError extends StartupError {}

/** A key's public fingerprint: safe to store and print, useless for decryption. */
export function keyIdOf(key: Buffer): string {
  return createHmac('sha256', key).update('authn.sh encryption key id').digest('hex').slice(0, 16);
}

/**
 * Development mode (no `AUTHN_ENCRYPTION_KEY`): a random key kept in `<data dir>/encryption.key`, mode 0600.
 * Whoever can read the data folder can then read the credentials, which is why the start warns loudly.
 */
export function loadOrCreateKeyFile(file: string): { key: Buffer; created: boolean } {
  if (!fs.existsSync(file)) {
    const key = randomBytes(32);
    if (placeKeyFile(file, key)) return { key, created: true };
  }
  const key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new StartupError(`${file} does not hold a 32-byte base64 key; restore it or set AUTHN_ENCRYPTION_KEY`);
  return { key, created: false };
}

/**
 * Writes the key whole under a temporary name, then links it into place: processes starting together on one
 * data folder never read a half-written key, and the first link wins. False when another process's key is
 * already there.
 */
function placeKeyFile(file: string, key: Buffer): boolean {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.${randomBytes(6).toString('hex')}`;
  fs.writeFileSync(temporary, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    fs.linkSync(temporary, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    fs.rmSync(temporary, { force: true });
  }
}
