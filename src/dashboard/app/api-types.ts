/** The BAPI's JSON as the dashboard reads it (see the README's API section). */

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
}

/** One entry of the error envelope `{ "errors": [...] }`. */
export interface ApiErrorDetail {
  code: string;
  message: string;
  long_message: string;
  meta?: { param_name?: string };
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
