/**
 * The database schema as TypeScript types, one interface per table (the migrations in `./migrations` create
 * them). Conventions, for both SQLite and PostgreSQL:
 * - ids are prefixed ULIDs (`src/ids.ts`), so `ORDER BY id` is creation order;
 * - times are integer milliseconds since the epoch (`bigint` in PostgreSQL, read back as numbers);
 * - booleans are integers 0/1 (better-sqlite3 cannot bind booleans);
 * - structured values are JSON text.
 */
import type { FailoverReason, SmsStatus } from '../sms/statuses.js';

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
  status: SmsStatus;
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
  /** When to ask the carrier for the status of a message still `sent` (see src/sms/status-checks.ts); null: never. */
  status_check_at: number | null;
  /** The destination's country (ISO 3166 alpha-2), null when the number belongs to no single country. */
  country: string | null;
  /** The driver the message moved from to `driver` (failover, at most once); null: it has not moved. */
  failover_from: string | null;
  /** Why it moved; null: it has not. */
  failover_reason: FailoverReason | null;
  failed_over_at: number | null;
  /** `attempts` when it moved: the second driver's attempts count from there. */
  failover_attempt: number | null;
  /** When an accepted message moves to the failover driver if no final delivery receipt has come; null: never. */
  receipt_wait_until: number | null;
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
  /** What the carrier charged for this attempt, in billionths of `price_currency` (see migration 012); null: not reported. */
  price_nanos: number | null;
  price_currency: string | null;
}

/** Every status a message went through, and every carrier report about it (applied or not). */
export interface SmsMessageStatusesTable {
  id: string;
  message_id: string;
  created_at: number;
  /** The message's status after this entry (unchanged when `applied` is 0). */
  status: SmsStatus;
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

/** An operator's webhook endpoint. */
export interface WebhookEndpointsTable {
  id: string;
  url: string;
  description: string | null;
  /** JSON array of event types; null: every event. */
  event_types: string | null;
  enabled: number;
  /** Since when every attempt has failed (null: the last one succeeded, or none failed yet). */
  failing_since: number | null;
  created_at: number;
  updated_at: number;
}

/** An endpoint's signing secrets: the current one (`expires_at` null) and, after a rotation, the old one for 24 h. */
export interface WebhookSecretsTable {
  id: string;
  endpoint_id: string;
  /** Secret-box envelope of the `whsec_…` secret; associated data `webhooks.endpoints.<endpoint id>.secret`. */
  envelope: string;
  created_at: number;
  expires_at: number | null;
}

/** One event for one endpoint: the webhook outbox (leased by the delivery worker) and the head of the log. */
export interface WebhookDeliveriesTable {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  /** `pending`, `succeeded` or `failed`. */
  status: string;
  attempt_count: number;
  /** 1 while failures follow the retry schedule; 0 after a manual retry of a finished delivery (one attempt). */
  auto_retry: number;
  /** 1 when the due attempt was asked for by `POST …/retry`. */
  manual: number;
  /** When the next attempt is due (while pending); a claimed delivery's lease end. Null once finished. */
  next_attempt_at: number | null;
  /** The claim token of the worker attempting it now; stale once `next_attempt_at` has passed. */
  lease_owner: string | null;
  created_at: number;
  updated_at: number;
}

/** One HTTP attempt of a delivery: the delivery log. */
export interface WebhookAttemptsTable {
  id: string;
  delivery_id: string;
  endpoint_id: string;
  attempted_at: number;
  /** `scheduled` or `manual`. */
  trigger: string;
  url: string;
  succeeded: number;
  /** Null when no HTTP answer came (refused address, connection error, timeout). */
  status_code: number | null;
  latency_ms: number;
  /** The start of the answer's body, up to AUTHN_WEBHOOKS_RESPONSE_BODY_LIMIT_BYTES. */
  response_body: string | null;
  response_truncated: number;
  error: string | null;
}

/** Signing keys (`code_hmac` for challenge codes, `session_jwt` for session tokens), sealed with the secret box. */
export interface AuthKeysTable {
  kind: string;
  /** Key id: the JWT `kid`. */
  kid: string;
  /** JSON Web Key of the public half, for asymmetric keys. */
  public_jwk: string | null;
  /** Secret-box envelope of the private key (associated data `auth_keys.<kind>`). */
  envelope: string;
  created_at: number;
}

/** A browser or app talking to FAPI; it proves itself with its client token (stored as SHA-256). */
export interface ClientsTable {
  id: string;
  token_hash: string;
  created_at: number;
}

export interface UsersTable {
  id: string;
  /** argon2id PHC string; null when the user has no password. */
  password_hash: string | null;
  created_at: number;
  updated_at: number;
  last_sign_in_at: number | null;
}

export interface PhoneNumbersTable {
  id: string;
  user_id: string;
  /** E.164. */
  phone_number: string;
  /** 1 for the number the user signed up with. */
  is_primary: number;
  /** null while an MFA enrolment of this number waits for its code. */
  verified_at: number | null;
  /** 1 when the number is enrolled as the phone second factor. */
  reserved_for_second_factor: number;
  /** The challenge of an MFA enrolment in progress. */
  challenge_id: string | null;
  created_at: number;
  updated_at: number;
}

/** A one-time code sent to a phone number. The code itself is never stored, only its keyed hash. */
export interface ChallengesTable {
  id: string;
  /** `sign_up`, `sign_in`, `mfa_enrollment`, `mfa_verification`. */
  purpose: string;
  phone_number: string;
  /** HMAC-SHA256 of the challenge id and the code, keyed with the `code_hmac` key. */
  code_hash: string;
  test_number: number;
  /** `pending`, `verified`, `failed` (attempts used up), `replaced` (a newer code was sent). */
  status: string;
  attempts: number;
  max_attempts: number;
  expires_at: number;
  /** No new code for this purpose and number before this time (the resend cooldown). */
  resend_at: number;
  created_at: number;
  updated_at: number;
}

export interface SignUpsTable {
  id: string;
  client_id: string;
  phone_number: string;
  password_hash: string | null;
  /** `missing_requirements` or `complete`. */
  status: string;
  challenge_id: string | null;
  created_user_id: string | null;
  created_session_id: string | null;
  created_at: number;
  updated_at: number;
}

export interface SignInsTable {
  id: string;
  client_id: string;
  user_id: string;
  /** The phone number the user identified with (E.164). */
  identifier: string;
  /** `needs_first_factor`, `needs_second_factor` or `complete`. */
  status: string;
  /** The first factor that succeeded: `phone_code` or `password`. */
  first_factor: string | null;
  first_factor_challenge_id: string | null;
  second_factor_challenge_id: string | null;
  created_session_id: string | null;
  created_at: number;
  updated_at: number;
}

export interface SessionsTable {
  id: string;
  client_id: string;
  user_id: string;
  /** `active`, `ended` (signed out) or `revoked` (BAPI); past `expire_at` an active session reads as `expired`. */
  status: string;
  expire_at: number;
  last_active_at: number;
  ended_at: number | null;
  created_at: number;
  updated_at: number;
}

/** rate-limiter-flexible's counters (its own column names). */
export interface RateLimitsTable {
  key: string;
  points: number;
  expire: number | null;
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
  webhook_endpoints: WebhookEndpointsTable;
  webhook_secrets: WebhookSecretsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  auth_keys: AuthKeysTable;
  clients: ClientsTable;
  users: UsersTable;
  phone_numbers: PhoneNumbersTable;
  challenges: ChallengesTable;
  sign_ups: SignUpsTable;
  sign_ins: SignInsTable;
  sessions: SessionsTable;
  rate_limits: RateLimitsTable;
}
