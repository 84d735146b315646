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
  /**
   * The body to send, sealed with the secret box (associated data `sms_messages.payload:<id>`), kept only
   * while the message waits to be sent; `body` holds what the log shows (codes masked for real drivers).
   */
  payload: string | null;
  /** The carrier's last reported status, as the carrier spells it. */
  carrier_status: string | null;
  /** How many parts the carrier split the message into (each gets its own receipt). */
  carrier_parts: number | null;
  sent_at: number | null;
  /** When the message reached a terminal status. */
  completed_at: number | null;
}

/** One carrier attempt of a message: written when its outcome is known (or found abandoned by a crash). */
export interface SmsMessageAttemptsTable {
  id: string;
  message_id: string;
  attempt: number;
  driver: string;
  /** The dispatcher process that made it. */
  worker: string;
  started_at: number;
  finished_at: number;
  /** `accepted`, `dropped`, `transient_error`, `permanent_error`, `expired`, `released`, `lease_expired`. */
  outcome: string;
  carrier_message_id: string | null;
  http_status: number | null;
  error_code: string | null;
  error_message: string | null;
}

/** Every status a message went through, and every carrier report about it (applied or not). */
export interface SmsMessageStatusesTable {
  id: string;
  message_id: string;
  created_at: number;
  /** The message's status after this entry (unchanged when `applied` is 0). */
  status: string;
  /** `engine`, `dispatcher`, `twilio`, `vonage`. */
  source: string;
  carrier_status: string | null;
  carrier_message_id: string | null;
  error_code: string | null;
  error_message: string | null;
  /** 0 when a carrier report arrived too late to change anything (out of order). */
  applied: number;
  /** Carrier reports only: the same report twice is stored once (unique per message). */
  dedupe_key: string | null;
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
  sms_message_attempts: SmsMessageAttemptsTable;
  sms_message_statuses: SmsMessageStatusesTable;
}
