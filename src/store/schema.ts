/**
 * The database schema as TypeScript types, one interface per table (the migrations in `./migrations` create
 * them). Conventions, for both SQLite and PostgreSQL:
 * - ids are prefixed ULIDs (`src/ids.ts`), so `ORDER BY id` is creation order;
 * - times are integer milliseconds since the epoch (`bigint` in PostgreSQL, read back as numbers);
 * - booleans are integers 0/1 (better-sqlite3 cannot bind booleans);
 * - structured values are JSON text.
 */

export interface StoreMetaTable {
  key: string;
  value: string;
}

export interface SecretKeysTable {
  id: string;
  /** `live` or `test`: the key's prefix. */
  kind: string;
  /** SHA-256 of the whole key, hex. The key itself is never stored. */
  key_hash: string;
  /** Last four characters, to tell keys apart in listings. */
  last4: string;
  name: string | null;
  created_at: number;
  revoked_at: number | null;
}

export interface InstanceSettingsTable {
  /** Always 1: one deployment serves one instance. */
  id: number;
  /** Non-secret settings as JSON. Write-only credentials live in `instance_secrets`. */
  document: string;
  /** Incremented on every change; writers compare-and-swap on it. */
  version: number;
  updated_at: number;
}

export interface InstanceSecretsTable {
  /** The setting's path, e.g. `sms.twilio.auth_token`; also the AES-GCM associated data. */
  path: string;
  /** Secret-box envelope (see `src/secret-box.ts`): key id, nonce, ciphertext and tag. */
  envelope: string;
  updated_at: number;
}

export interface AuditLogsTable {
  id: string;
  created_at: number;
  /** `secret_key`, `system`, `user`, `carrier`, `dispatcher`. */
  actor_type: string;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  /** JSON object; never holds a secret's value. */
  data: string;
}

export interface EventsTable {
  id: string;
  type: string;
  created_at: number;
  /** JSON: the event's `data`. */
  data: string;
}

export interface SmsTemplatesTable {
  slug: string;
  body: string;
  from_number_override: string | null;
  delivered_by_us: number;
  updated_at: number;
}

/** The SMS outbox and message log: one row per message, from queued to its terminal status. */
export interface SmsMessagesTable {
  id: string;
  created_at: number;
  updated_at: number;
  template: string;
  to_number: string;
  /** The sender the message goes out from (null when a messaging service picks it). */
  from_number: string | null;
  messaging_service_sid: string | null;
  body: string;
  encoding: string;
  segments: number;
  /** See `SmsStatus` in src/sms/engine.ts. */
  status: string;
  driver: string | null;
  test_number: number;
  delivered_by_us: number;
  /** A verification code's challenge, and when the code stops being useful (not sent after that). */
  challenge_id: string | null;
  expires_at: number | null;
  attempts: number;
  /** When the dispatcher may (next) try; null once no attempt is due. */
  next_attempt_at: number | null;
  lease_owner: string | null;
  lease_expires_at: number | null;
  carrier_message_id: string | null;
  error_code: string | null;
  error_message: string | null;
}

export interface Database {
  store_meta: StoreMetaTable;
  secret_keys: SecretKeysTable;
  instance_settings: InstanceSettingsTable;
  instance_secrets: InstanceSecretsTable;
  audit_logs: AuditLogsTable;
  events: EventsTable;
  sms_templates: SmsTemplatesTable;
  sms_messages: SmsMessagesTable;
}
