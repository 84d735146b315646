/** The BAPI's JSON as the dashboard reads it (see the README's API section). */
import type { InstanceSettings as ServerSettings } from '../../instance/settings.js';

export type SmsDriver = 'twilio' | 'vonage';
export type TestMode = 'enabled' | 'disabled' | 'rejected';
export type SignatureMethod = 'md5hash' | 'md5' | 'sha1' | 'sha256' | 'sha512';

/** A write-only credential as GET shows it: "[REDACTED]" when set, null when not. */
export type SecretState = string | null;

/** `GET /v1/instance`. */
export interface InstanceSettings {
  sms: {
    driver: SmsDriver | null;
    from_number: string | null;
    twilio: { account_sid: string | null; auth_token: SecretState; messaging_service_sid: string | null };
    vonage: { api_key: string | null; api_secret: SecretState; signature_secret: SecretState; signature_method: SignatureMethod };
  };
  app_name: string;
  test_mode: TestMode;
  multi_factor: { phone_code: { enabled: boolean } };
  abuse: AbuseSettings;
}

/** `abuse` of `GET /v1/instance` (see the README, "Phone auth: abuse defences"): as the server defines it. */
export type AbuseSettings = ServerSettings['abuse'];

/** `GET /v1/users` and `/v1/users/{id}`. */
export interface User {
  object: 'user';
  id: string;
  primary_phone_number_id: string | null;
  phone_numbers: { id: string; phone_number: string; verification: { status: string } | null; reserved_for_second_factor: boolean }[];
  password_enabled: boolean;
  two_factor_enabled: boolean;
  created_at: number;
  updated_at: number;
  last_sign_in_at: number | null;
}

/** One entry of the error envelope `{ "errors": [...] }`. */
export interface ApiErrorDetail {
  code: string;
  message: string;
  long_message: string;
  /** `param_name` for a field error; some errors add facts (`sms_template_too_long`: the measure). */
  meta?: { param_name?: string } & Record<string, unknown>;
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/** `GET /v1/audit_logs` entries. */
export interface AuditEntry {
  id: string;
  object: 'audit_log';
  created_at: number;
  actor: { type: string; id: string | null };
  action: string;
  target: { type: string; id: string } | null;
  data: Record<string, unknown>;
}

export type SmsEncoding = 'GSM-7' | 'UCS-2';

/** What a template and its preview both say: the measure of a message, and who sends it from where. */
interface TemplateFacts {
  slug: string;
  available_variables: string[];
  required_variables: string[];
  customised: boolean;
  from_number_override: string | null;
  /** true while a Twilio messaging service SID is configured: the service picks the sender. */
  from_number_override_ignored: boolean;
  encoding: SmsEncoding;
  characters: number;
  segments: number;
}

/** `GET /v1/templates/sms` entries. */
export interface SmsTemplate extends TemplateFacts {
  object: 'sms_template';
  name: string;
  body: string;
  delivered_by_us: boolean;
  sample_message: string;
  updated_at: number | null;
}

/** `POST /v1/templates/sms/{slug}/preview`. */
export interface SmsTemplatePreview extends TemplateFacts {
  object: 'sms_template_preview';
  body: string;
  message: string;
  variables: Record<string, string>;
}

/** `GET /v1/webhooks/endpoints` entries; `secret` only in the answers to creation and rotation. */
export interface WebhookEndpoint {
  id: string;
  object: 'webhook_endpoint';
  url: string;
  description: string | null;
  event_types: string[] | null;
  enabled: boolean;
  /** Since when every attempt has failed; null while healthy. */
  failing_since: number | null;
  created_at: number;
  updated_at: number;
}

export interface WebhookEndpointWithSecret extends WebhookEndpoint {
  secret: string;
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

export interface WebhookAttempt {
  id: string;
  attempted_at: number;
  trigger: 'scheduled' | 'manual';
  url: string;
  succeeded: boolean;
  status_code: number | null;
  latency_ms: number;
  response_body: string | null;
  response_body_truncated: boolean;
  error: string | null;
}

export interface WebhookDelivery {
  id: string;
  object: 'webhook_delivery';
  endpoint_id: string;
  event_id: string;
  event_type: string;
  status: DeliveryStatus;
  attempt_count: number;
  next_attempt_at: number | null;
  created_at: number;
  updated_at: number;
  /** Oldest first. */
  attempts: WebhookAttempt[];
}

/** `GET /v1/webhooks/event_types` entries. */
export interface EventType {
  type: string;
  description: string;
  example: Record<string, unknown>;
}

/** Where an SMS stands (README "The send engine and statuses"). */
export type SmsStatus = 'queued' | 'sending' | 'sent' | 'delivered' | 'failed' | 'undelivered' | 'dropped' | 'test_noop' | 'operator' | 'expired';

/** `GET /v1/sms_messages` entries. */
export interface SmsMessage {
  id: string;
  object: 'sms_message';
  created_at: number;
  updated_at: number;
  /** A template slug, or `test_message` for the wizard's test. */
  template: string;
  to_phone_number: string;
  from_phone_number: string | null;
  messaging_service_sid: string | null;
  /** As sent; with a real driver, a code is masked. */
  body: string;
  encoding: string;
  segments: number;
  status: SmsStatus;
  driver: string | null;
  test_number: boolean;
  delivered_by_us: boolean;
  challenge_id: string | null;
  expires_at: number | null;
  attempt_count: number;
  next_attempt_at: number | null;
  carrier_message_id: string | null;
  carrier_status: string | null;
  carrier_parts: number | null;
  error_code: string | null;
  error_message: string | null;
  sent_at: number | null;
  completed_at: number | null;
}

export interface SmsAttempt {
  attempt: number;
  driver: string;
  worker: string;
  started_at: number;
  finished_at: number;
  outcome: string;
  carrier_message_id: string | null;
  http_status: number | null;
  error_code: string | null;
  error_message: string | null;
}

export interface SmsStatusChange {
  created_at: number;
  status: string;
  /** `engine`, `dispatcher`, `twilio` or `vonage`. */
  source: string;
  carrier_status: string | null;
  carrier_message_id: string | null;
  error_code: string | null;
  error_message: string | null;
  /** false: a carrier report that came after a later status and changed nothing. */
  applied: boolean;
}

/** `GET /v1/sms_messages/{id}` and the answer to `POST /v1/sms_messages/test`. */
export interface SmsMessageDetail extends SmsMessage {
  attempts: SmsAttempt[];
  status_history: SmsStatusChange[];
}
