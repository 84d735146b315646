/**
 * The SMS templates authn.sh sends: their slugs, shipped default bodies and the variables each may use.
 * A stored template overrides a default; reverting deletes the override.
 */

export const TEMPLATE_SLUGS = ['verification_code', 'reset_password_code', 'password_changed', 'invitation'] as const;
export type TemplateSlug = (typeof TEMPLATE_SLUGS)[number];

/**
 * What a variable's value may be (see `variables.ts`). Only `code` may carry a code and only `url` a link, so
 * no other value can put a second code or a link into someone's message.
 * - `code`: 1 to `maxLength` ASCII digits.
 * - `number`: 1 to `maxLength` ASCII digits.
 * - `url`: an absolute http(s) URL without spaces.
 * - `operator_text`: text the operator chose (the `app_name` setting): one line, no braces.
 * - `person_name`: text an end user chose: letters, combining marks, spaces, apostrophes and hyphens only.
 */
export type VariableKind = 'code' | 'number' | 'url' | 'operator_text' | 'person_name';

export interface VariableDefinition {
  kind: VariableKind;
  maxLength: number;
  description: string;
  /** Value used by previews; `app_name` previews with the instance setting instead. */
  sample: string;
}

export const VARIABLES = {
  code: { kind: 'code', maxLength: 10, description: 'The one-time code.', sample: '123456' },
  expires_in_minutes: { kind: 'number', maxLength: 4, description: 'Minutes until the code expires.', sample: '10' },
  // The settings allow 40 characters (src/instance/settings.ts).
  app_name: { kind: 'operator_text', maxLength: 40, description: 'The instance setting app_name.', sample: 'authn.sh' },
  inviter_name: { kind: 'person_name', maxLength: 50, description: 'Who sent the invitation.', sample: 'Ada' },
  action_url: {
    kind: 'url',
    maxLength: 256,
    description: 'The link that accepts the invitation.',
    sample: 'https://app.example.com/invite/abc123',
  },
} as const satisfies Record<string, VariableDefinition>;
export type VariableName = keyof typeof VARIABLES;

export interface TemplateDefinition {
  slug: TemplateSlug;
  name: string;
  /** The shipped default body. */
  body: string;
  /** Variables a body may use. */
  variables: readonly VariableName[];
  /** Variables a body must use (a verification message without its code is useless). */
  required: readonly VariableName[];
}

export const TEMPLATES: Readonly<Record<TemplateSlug, TemplateDefinition>> = {
  verification_code: {
    slug: 'verification_code',
    name: 'Verification code',
    body: '{{code}} is your {{app_name}} verification code. It expires in {{expires_in_minutes}} minutes.',
    variables: ['code', 'app_name', 'expires_in_minutes'],
    required: ['code'],
  },
  reset_password_code: {
    slug: 'reset_password_code',
    name: 'Reset password code',
    body: '{{code}} is your {{app_name}} password reset code. It expires in {{expires_in_minutes}} minutes.',
    variables: ['code', 'app_name', 'expires_in_minutes'],
    required: ['code'],
  },
  password_changed: {
    slug: 'password_changed',
    name: 'Password changed',
    body: 'Your {{app_name}} password was changed. If this was not you, contact support.',
    variables: ['app_name'],
    required: [],
  },
  invitation: {
    slug: 'invitation',
    name: 'Invitation',
    body: '{{inviter_name}} invited you to {{app_name}}: {{action_url}}',
    variables: ['app_name', 'inviter_name', 'action_url'],
    required: ['action_url'],
  },
};

/** The longest message a template may make, in segments (checked on the preview with sample values). */
export const MAX_SEGMENTS = 10;

export function isTemplateSlug(value: string): value is TemplateSlug {
  return (TEMPLATE_SLUGS as readonly string[]).includes(value);
}
