/**
 * Schemas of the phone-auth resources, shared by FAPI and BAPI routes. Responses are serialised through
 * them, so a field that is not named here never leaves the server.
 */
import { Type, type TSchema } from 'typebox';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../auth/passwords.js';
import { CODE_LENGTH } from '../challenges/codes.js';
import { DELIVERY_NEXT_STEPS, DELIVERY_STATUSES } from '../sms/delivery.js';
import { DELIVERY_REASONS } from '../sms/failures.js';
import { Nullable, StringEnum } from './schemas.js';

const Time = (description = 'ms since the epoch') => Type.Integer({ description });

export const PhoneNumberParam = Type.String({
  minLength: 1,
  maxLength: 32,
  description: 'An international number, E.164 (+14155550123); spaces, dashes, dots and brackets are ignored.',
});
export const CodeParam = Type.String({
  pattern: `^[0-9]{${CODE_LENGTH}}$`,
  description: `The ${CODE_LENGTH}-digit code from the SMS. Anything else is refused (form_param_format_invalid) before the code is looked at: it counts neither as an attempt on the challenge nor against abuse.attempts_per_ip.`,
});
export const PasswordParam = Type.String({
  minLength: PASSWORD_MIN_LENGTH,
  maxLength: PASSWORD_MAX_LENGTH,
  description: `${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters.`,
});
export const PhoneCodeStrategy = StringEnum(['phone_code'] as const, { description: 'Only phone_code (a code by SMS).' });
export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });

export const Delivery = Type.Object(
  {
    status: StringEnum(DELIVERY_STATUSES, {
      description:
        'queued (not yet with a carrier), sent (with the carrier), delivered (the handset has it), undelivered (the carrier could not deliver it), failed (it could not be sent, or the code expired first).',
    }),
    reason: Nullable(
      StringEnum(DELIVERY_REASONS, {
        description: 'Why it was undelivered or failed: the carrier refused it, the number cannot be reached, or a passing failure.',
      }),
    ),
    next_step: Nullable(
      StringEnum(DELIVERY_NEXT_STEPS, {
        description:
          'wait (it is on its way), resend (request a new code once resend_after has passed), use_another_number (this number is unlikely to get a code); null once delivered.',
      }),
    ),
    resend_after: Nullable(Time('On a failure: when a new code may be requested (ms since the epoch).')),
  },
  {
    additionalProperties: false,
    description:
      "Where the code's SMS stands, carrier-neutral, to show the person waiting for it; follow it by polling the sign-in, sign-up or enrolment. Null without a message to follow: a password, a number verified earlier, a test number, the null driver, a template the operator delivers.",
  },
);

export const Verification = Type.Object(
  {
    status: StringEnum(['unverified', 'verified', 'failed', 'expired'] as const),
    strategy: StringEnum(['phone_code', 'password'] as const),
    attempts: Nullable(Type.Integer({ description: 'Codes tried so far.' })),
    attempts_remaining: Nullable(Type.Integer({ description: 'Wrong codes left before the challenge fails.' })),
    expire_at: Nullable(Time('When the code stops working (ms since the epoch).')),
    next_resend_at: Nullable(
      Time(
        'When a new code may be requested (ms since the epoch): 30 s after this one was sent, later after a wrong code (abuse.wrong_code_backoff).',
      ),
    ),
    delivery: Nullable(Delivery),
  },
  { additionalProperties: false, description: 'Where a factor stands. The numbers are null for a password or a number verified earlier.' },
);

export const PhoneNumber = Type.Object(
  {
    object: Type.Literal('phone_number'),
    id: Type.String(),
    phone_number: Type.String({ description: 'E.164' }),
    verification: Nullable(Verification),
    reserved_for_second_factor: Type.Boolean({ description: 'Enrolled as the phone second factor.' }),
    created_at: Time(),
    updated_at: Time(),
  },
  { additionalProperties: false },
);

export const User = Type.Object(
  {
    object: Type.Literal('user'),
    id: Type.String(),
    primary_phone_number_id: Nullable(Type.String()),
    phone_numbers: Type.Array(PhoneNumber),
    password_enabled: Type.Boolean(),
    two_factor_enabled: Type.Boolean({ description: 'A phone number is enrolled as second factor.' }),
    created_at: Time(),
    updated_at: Time(),
    last_sign_in_at: Nullable(Time()),
  },
  { additionalProperties: false },
);

export const Session = Type.Object(
  {
    object: Type.Literal('session'),
    id: Type.String(),
    user_id: Type.String(),
    client_id: Type.String(),
    status: StringEnum(['active', 'ended', 'revoked', 'expired'] as const),
    expire_at: Time('When the session ends by itself (7 days after sign-in).'),
    last_active_at: Time(),
    created_at: Time(),
    updated_at: Time(),
  },
  { additionalProperties: false },
);

export const Token = Type.Object(
  {
    object: Type.Literal('token'),
    jwt: Type.String({ description: 'ES256 JWT (sub = user id, sid = session id), valid 60 s; verify it with /.well-known/jwks.json.' }),
  },
  { additionalProperties: false },
);

/** The session a completed flow created, with its first token. */
export const NewSession = Type.Object({ ...Session.properties, last_active_token: Token }, { additionalProperties: false });

export const Factor = Type.Object(
  {
    strategy: StringEnum(['phone_code', 'password'] as const),
    safe_identifier: Type.Optional(Type.String({ description: 'The number, masked.' })),
    phone_number_id: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

/** What a sign-up and a sign-in both end with: the session made, when the flow is abandoned, its times. */
const flowOutcome = {
  created_session_id: Nullable(Type.String()),
  abandon_at: Time('Steps after this time are refused with flow_abandoned (24 h after created_at); the row is deleted a week later.'),
  created_at: Time(),
  updated_at: Time(),
  session: Type.Optional(NewSession),
};

export const SignUp = Type.Object(
  {
    object: Type.Literal('sign_up'),
    id: Type.String(),
    status: StringEnum(['missing_requirements', 'complete'] as const),
    phone_number: Type.String(),
    password_enabled: Type.Boolean(),
    unverified_fields: Type.Array(Type.String()),
    verifications: Type.Object({ phone_number: Nullable(Verification) }, { additionalProperties: false }),
    created_user_id: Nullable(Type.String()),
    ...flowOutcome,
  },
  { additionalProperties: false },
);

export const SignIn = Type.Object(
  {
    object: Type.Literal('sign_in'),
    id: Type.String(),
    status: StringEnum(['needs_first_factor', 'needs_second_factor', 'complete'] as const),
    identifier: Type.String(),
    supported_first_factors: Type.Array(Factor),
    supported_second_factors: Nullable(Type.Array(Factor)),
    first_factor_verification: Nullable(Verification),
    second_factor_verification: Nullable(Verification),
    ...flowOutcome,
  },
  { additionalProperties: false },
);

export const List = <T extends TSchema>(item: T) => Type.Object({ data: Type.Array(item) }, { additionalProperties: false });
