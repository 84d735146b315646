/** The BAPI's JSON as the dashboard reads it (see docs/api.md). */
// The server's own view types, where the dashboard reads them as they are (type-only: nothing is bundled).
import type { InstanceSettings as ServerSettings } from '../../instance/settings.js';
import type { AttemptView, DeliveryStatus as ServerDeliveryStatus, DeliveryView } from '../../webhooks/deliveries.js';
import type { EndpointView, EndpointWithSecret } from '../../webhooks/endpoints.js';
import type { SmsMessageDetail as ServerSmsMessageDetail, SmsMessageView } from '../../sms/messages.js';
import type { SmsStatus as ServerSmsStatus } from '../../sms/transitions.js';
import type {
  DeliveryFigures as ServerDeliveryFigures,
  DeliveryStats as ServerDeliveryStats,
  DeliveryWindow as ServerDeliveryWindow,
} from '../../sms/delivery-stats.js';
import type { PreviewView, TemplateView } from '../../sms/templates/service.js';
import type { EventTypeInfo } from '../../webhooks/catalogue.js';
import type { AuditEntry as ServerAuditEntry } from '../../audit/audit-log.js';
import type { SecretKey } from '../../auth/secret-keys.js';
import type { OperatorUserView } from '../../auth/operator-users.js';

export type SmsDriver = NonNullable<ServerSettings['sms']['driver']>;
export type TestMode = ServerSettings['test_mode'];
export type SignatureMethod = ServerSettings['sms']['vonage']['signature_method'];

/** A write-only credential as GET shows it: "[REDACTED]" when set, null when not. */
export type SecretState = string | null;

/** `GET /v1/instance`. */
export interface InstanceSettings {
  sms: {
    driver: SmsDriver | null;
    from_number: string | null;
    twilio: { account_sid: string | null; auth_token: SecretState; messaging_service_sid: string | null };
    vonage: { api_key: string | null; api_secret: SecretState; signature_secret: SecretState; signature_method: SignatureMethod };
    routes: SmsRoute[];
    failover: FailoverSettings;
  };
  app_name: string;
  test_mode: TestMode;
  multi_factor: { phone_code: { enabled: boolean } };
  allowed_origins: string[];
  abuse: AbuseSettings;
}

/** `sms.routes` and `sms.failover` of `GET /v1/instance` (see docs/sms.md, "Routing and failover"). */
export type SmsRoute = ServerSettings['sms']['routes'][number];
export type FailoverSettings = ServerSettings['sms']['failover'];

/** `abuse` of `GET /v1/instance` (see docs/phone-auth.md, "Abuse defences"): as the server defines it. */
export type AbuseSettings = ServerSettings['abuse'];

/** `GET /v1/users` and `/v1/users/{id}`. */
export type User = OperatorUserView;

/** `GET /v1/secret_keys/current`. */
export type SecretKeyInfo = SecretKey;

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
export type AuditEntry = ServerAuditEntry;

/** `GET /v1/templates/sms` entries. */
export type SmsTemplate = TemplateView;
/** `POST /v1/templates/sms/{slug}/preview`. */
export type SmsTemplatePreview = PreviewView;
export type SmsEncoding = SmsTemplate['encoding'];

/** `GET /v1/webhooks/endpoints` entries; `secret` only in the answers to creation and rotation. */
export type WebhookEndpoint = EndpointView;

export type WebhookEndpointWithSecret = EndpointWithSecret;

export type DeliveryStatus = ServerDeliveryStatus;
export type WebhookAttempt = AttemptView;
export type WebhookDelivery = DeliveryView;

/** `GET /v1/webhooks/event_types` entries. */
export type EventType = EventTypeInfo;

/** Where an SMS stands (docs/sms.md, "The send engine and statuses"). */
export type SmsStatus = ServerSmsStatus;
/** `GET /v1/sms_messages` entries. */
export type SmsMessage = SmsMessageView;
/** `GET /v1/sms_messages/{id}` and the answer to `POST /v1/sms_messages/test`. */
export type SmsMessageDetail = ServerSmsMessageDetail;

/** `GET /v1/sms/delivery_stats` (the delivery & cost page). */
export type DeliveryStats = ServerDeliveryStats;
export type DeliveryFigures = ServerDeliveryFigures;
export type DeliveryWindow = ServerDeliveryWindow;
