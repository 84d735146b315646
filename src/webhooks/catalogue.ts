/**
 * The event catalogue: the event types authn.sh records, what each means, and an example of its `data` with every
 * field it can carry. Served at `GET /v1/webhooks/event_types` (the dashboard's subscription picker) and shown in
 * docs/webhooks.md. Every event recorded is of a type listed here (`EventType`). Endpoints may subscribe to any
 * well-formed type, so a type added by a later version can be subscribed to before this list learns about it.
 */

/** An event type as `GET /v1/webhooks/event_types` serves it. */
export interface EventTypeInfo {
  type: string;
  description: string;
  example: Record<string, unknown>;
}

interface CatalogueEntry extends EventTypeInfo {
  /**
   * The audit entry of the same action carries the event's `data` too, except these fields (see `eventAuditData`);
   * null: no audit entry of that name goes with the event.
   */
  auditOmits: readonly string[] | null;
}

const session = {
  id: 'sess_01J9Z6Q4W8V2K3M5N7P9R1S3T5',
  object: 'session',
  user_id: 'user_01J9Z6Q4W8V2K3M5N7P9R1S3T5',
  client_id: 'client_01J9Z6Q4W8V2K3M5N7P9R1S3T5',
  status: 'active',
  expire_at: 1730604800000,
  last_active_at: 1730000000000,
  created_at: 1730000000000,
  updated_at: 1730000000000,
};

const smsMessage = {
  id: 'msg_01J9Z6Q4W8V2K3M5N7P9R1S3T5',
  object: 'sms_message',
  template: 'verification_code',
  to_phone_number: '+14155550123',
  from_phone_number: '+15555550100',
  delivered_by_us: true,
};
/** A message the carrier has taken: its driver, the carrier's id, and the carrier's error once it has one. */
const carrierMessage = {
  ...smsMessage,
  driver: 'twilio',
  carrier_message_id: 'SM0123456789abcdef0123456789abcdef',
  error_code: null,
  error_message: null,
};

const ENTRIES = [
  {
    type: 'sms.queued',
    description:
      'A message was accepted for sending. When the template has delivered_by_us: false (status "operator"), data.message holds the rendered body for you to deliver; this fires under the null driver and for the reserved test range too.',
    example: {
      ...smsMessage,
      template: 'invitation',
      status: 'operator',
      delivered_by_us: false,
      message: 'You are invited to Acme: https://acme.example/invite/abc',
    },
    // The body may hold a live code (a verification template the operator delivers); the audit log keeps entries for ever.
    auditOmits: ['message'],
  },
  {
    type: 'sms.sent',
    description: 'The carrier accepted the message (not yet a delivery receipt).',
    example: { ...carrierMessage, status: 'sent' },
    auditOmits: [],
  },
  {
    type: 'sms.delivered',
    description: "The carrier's delivery receipt says the handset got the message.",
    example: { ...carrierMessage, status: 'delivered' },
    auditOmits: [],
  },
  {
    type: 'sms.failed',
    description:
      'The message will not arrive: the carrier refused it, reported it undelivered, or retries ran out. Carries the carrier error code and message.',
    example: { ...carrierMessage, status: 'failed', error_code: '30003', error_message: 'Unreachable destination handset' },
    auditOmits: [],
  },
  {
    type: 'sms.failover',
    description:
      "The message moved to its failover driver, with the same code: its first driver refused it for a reason another carrier may not share (carrier_refused), kept failing transiently (transient_failures), or sent no final receipt within the wait (no_receipt). Carries the first driver's error; status is queued again, driver the second driver. A message moves at most once.",
    example: {
      ...carrierMessage,
      driver: 'vonage',
      carrier_message_id: null,
      status: 'queued',
      error_code: '21408',
      error_message: 'Permission to send an SMS has not been enabled for the region indicated by the To number',
      failover: { from: 'twilio', to: 'vonage', reason: 'carrier_refused' },
    },
    auditOmits: [],
  },
  {
    type: 'user.created',
    description: 'A user finished signing up: the user, with the verified phone number.',
    example: {
      id: 'user_01J9Z6Q4W8V2K3M5N7P9R1S3T5',
      object: 'user',
      primary_phone_number_id: 'idn_01J9Z6Q4W8V2K3M5N7P9R1S3T5',
      phone_numbers: [
        {
          id: 'idn_01J9Z6Q4W8V2K3M5N7P9R1S3T5',
          object: 'phone_number',
          phone_number: '+14155550123',
          verification: { status: 'verified', strategy: 'phone_code' },
          reserved_for_second_factor: false,
        },
      ],
      password_enabled: false,
      two_factor_enabled: false,
      created_at: 1730000000000,
      updated_at: 1730000000000,
      last_sign_in_at: null,
    },
    auditOmits: [],
  },
  {
    type: 'user.deleted',
    description: 'A user was deleted (BAPI), with their phone numbers and sessions.',
    example: { id: 'user_01J9Z6Q4W8V2K3M5N7P9R1S3T5', object: 'user', deleted: true },
    auditOmits: [],
  },
  {
    type: 'session.created',
    description: 'A sign-up or sign-in completed and made a session.',
    example: session,
    auditOmits: [],
  },
  {
    type: 'session.ended',
    description: 'The user signed out: the session issues no more tokens.',
    example: { ...session, status: 'ended', updated_at: 1730000900000 },
    auditOmits: [],
  },
  {
    type: 'session.revoked',
    description: 'A session was revoked over BAPI: it issues no more tokens.',
    example: { ...session, status: 'revoked', updated_at: 1730000900000 },
    auditOmits: [],
  },
  {
    type: 'challenge.created',
    description: 'A verification code was issued (sign-up, sign-in, MFA enrolment or MFA verification). Never carries the code.',
    example: {
      id: 'chl_01J9Z6Q4W8V2K3M5N7P9R1S3T5',
      object: 'challenge',
      purpose: 'sign_up',
      phone_number: '+14155550123',
      test_number: false,
      status: 'pending',
      attempts: 0,
      expire_at: 1730000600000,
    },
    auditOmits: [],
  },
  {
    type: 'challenge.verified',
    description: 'A verification code was answered correctly.',
    example: {
      id: 'chl_01J9Z6Q4W8V2K3M5N7P9R1S3T5',
      object: 'challenge',
      purpose: 'sign_up',
      phone_number: '+14155550123',
      test_number: false,
      status: 'verified',
      attempts: 1,
      expire_at: 1730000600000,
    },
    auditOmits: [],
  },
  {
    type: 'challenge.failed',
    description: 'A challenge used up its attempts with wrong codes; a new code is needed.',
    example: {
      id: 'chl_01J9Z6Q4W8V2K3M5N7P9R1S3T5',
      object: 'challenge',
      purpose: 'sign_in',
      phone_number: '+14155550123',
      test_number: false,
      status: 'failed',
      attempts: 5,
      expire_at: 1730000600000,
      reason: 'attempts_exhausted',
    },
    auditOmits: [],
  },
  {
    type: 'mfa.enrolled',
    description: 'A user enrolled a phone number as second factor.',
    example: {
      object: 'phone_second_factor',
      user_id: 'user_01J9Z6Q4W8V2K3M5N7P9R1S3T5',
      strategy: 'phone_code',
      phone_number_id: 'idn_01J9Z6Q4W8V2K3M5N7P9R1S3T5',
      phone_number: '+14155550123',
    },
    auditOmits: [],
  },
  {
    type: 'mfa.removed',
    description: 'A user removed their phone second factor.',
    example: {
      object: 'phone_second_factor',
      user_id: 'user_01J9Z6Q4W8V2K3M5N7P9R1S3T5',
      strategy: 'phone_code',
      phone_number_id: 'idn_01J9Z6Q4W8V2K3M5N7P9R1S3T5',
      phone_number: '+14155550123',
    },
    auditOmits: [],
  },
  {
    type: 'abuse.limit_reached',
    description:
      'An abuse limit (sends per number or per IP, the hourly send budget, the password lockout) refused for the first time in its window.',
    example: {
      object: 'abuse_limit',
      limit: 'hourly_send_budget',
      key: 'instance',
      max: 1000,
      window_seconds: 3600,
      retry_after_seconds: 1800,
    },
    auditOmits: [],
  },
  {
    type: 'webhook.test',
    description: 'Sent by POST /v1/webhooks/endpoints/{id}/send_test_event, to that endpoint only (never by subscription).',
    example: { object: 'webhook_test', endpoint_id: 'whe_01J9Z6Q4W8V2K3M5N7P9R1S3T5', message: 'This is a test event from authn.sh.' },
    // Sent to one endpoint on request; its audit entry is webhook_endpoint.test_sent, with the event's id.
    auditOmits: null,
  },
] as const satisfies readonly CatalogueEntry[];

/** The event types authn.sh records: a type not in the catalogue does not compile. */
export type EventType = (typeof ENTRIES)[number]['type'];

/** The event types whose action also has an audit entry of the same name. */
export type AuditedEventType = Extract<(typeof ENTRIES)[number], { auditOmits: readonly string[] }>['type'];

export const EVENT_CATALOGUE: readonly (CatalogueEntry & { type: EventType })[] = ENTRIES;

/** Dotted lowercase names, as Standard Webhooks recommends: `sms.delivered`, `user.created`. */
export const EVENT_TYPE_PATTERN = '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$';
