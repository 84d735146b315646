/**
 * The SMS templates authn.sh sends: their slugs, shipped default bodies and the variables each may use.
 * A stored template overrides a default; reverting deletes the override.
 */

export const TEMPLATE_SLUGS = ['verification_code', 'reset_password_code', 'password_changed', 'invitation'] as const;
export type TemplateSlug = (typeof TEMPLATE_SLUGS)[number];

export interface TemplateDefinition {
  slug: TemplateSlug;
  name: string;
  /** The shipped default body. */
  body: string;
  /** Variables a body may use. */
  variables: readonly string[];
  /** Variables a body must use (a verification message without its code is useless). */
  required: readonly string[];
  /** Values used by previews. */
  sample: Readonly<Record<string, string>>;
}

const COMMON_SAMPLE = { app_name: 'Acme', expires_in_minutes: '10' };

export const TEMPLATES: Readonly<Record<TemplateSlug, TemplateDefinition>> = {
  verification_code: {
    slug: 'verification_code',
    name: 'Verification code',
    body: '{{code}} is your {{app_name}} verification code. It expires in {{expires_in_minutes}} minutes.',
    variables: ['code', 'app_name', 'expires_in_minutes'],
    required: ['code'],
    sample: { ...COMMON_SAMPLE, code: '123456' },
  },
  reset_password_code: {
    slug: 'reset_password_code',
    name: 'Reset password code',
    body: '{{code}} is your {{app_name}} password reset code. It expires in {{expires_in_minutes}} minutes.',
    variables: ['code', 'app_name', 'expires_in_minutes'],
    required: ['code'],
    sample: { ...COMMON_SAMPLE, code: '123456' },
  },
  password_changed: {
    slug: 'password_changed',
    name: 'Password changed',
    body: 'Your {{app_name}} password was changed. If this was not you, contact support.',
    variables: ['app_name'],
    required: [],
    sample: COMMON_SAMPLE,
  },
  invitation: {
    slug: 'invitation',
    name: 'Invitation',
    body: '{{inviter_name}} invited you to {{app_name}}: {{action_url}}',
    variables: ['app_name', 'inviter_name', 'action_url'],
    required: ['action_url'],
    sample: { ...COMMON_SAMPLE, inviter_name: 'Ada', action_url: 'https://app.example.com/invite/abc123' },
  },
};

export function isTemplateSlug(value: string): value is TemplateSlug {
  return (TEMPLATE_SLUGS as readonly string[]).includes(value);
}
