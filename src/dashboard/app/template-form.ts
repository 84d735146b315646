/**
 * The SMS template editor's model: the draft, the merge patch that saves it, the preview request, and how to read
 * the API's measure of a message. Pure functions, no DOM.
 */
import { isGsm7 } from '../../sms/encoding.js';
import type { SmsTemplate, WebhookEndpoint } from './api-types.js';
import { blankToNull } from './settings-form.js';

export interface TemplateDraft {
  body: string;
  /** As typed; empty means "use sms.from_number". */
  fromNumberOverride: string;
  deliveredByUs: boolean;
  /** Values to preview with instead of the samples, by variable name (blank: the sample). */
  values: Record<string, string>;
}

export interface TemplatePatch {
  body?: string;
  from_number_override?: string | null;
  delivered_by_us?: boolean;
}

export function templateDraftFrom(template: SmsTemplate, values: Record<string, string> = {}): TemplateDraft {
  return { body: template.body, fromNumberOverride: template.from_number_override ?? '', deliveredByUs: template.delivered_by_us, values };
}

/** Only what changed. The body is sent as typed: its spaces and line breaks are part of the message. */
export function templatePatch(template: SmsTemplate, draft: TemplateDraft): TemplatePatch {
  const patch: TemplatePatch = {};
  if (draft.body !== template.body) patch.body = draft.body;
  const override = blankToNull(draft.fromNumberOverride);
  if (override !== template.from_number_override) patch.from_number_override = override;
  if (draft.deliveredByUs !== template.delivered_by_us) patch.delivered_by_us = draft.deliveredByUs;
  return patch;
}

/** `POST …/preview`: the body being edited, and the values typed (the samples stand in for the rest). */
export function previewRequest(draft: TemplateDraft): { body: string; variables?: Record<string, string> } {
  const variables = Object.fromEntries(Object.entries(draft.values).filter(([, value]) => value.trim() !== ''));
  return Object.keys(variables).length > 0 ? { body: draft.body, variables } : { body: draft.body };
}

/** The distinct characters of `text` outside GSM-7: any one of them makes the whole message UCS-2. */
export function ucs2Characters(text: string): string[] {
  return [...new Set(Array.from(text).filter((char) => !isGsm7(char)))];
}

/** The event that carries a message authn.sh does not send itself (its text and recipient) to the operator. */
export const OPERATOR_EVENT = 'sms.queued';

/** The endpoints that receive the operator's messages: enabled, and subscribed to every event or to `sms.queued`. */
export function operatorReceivers(endpoints: readonly WebhookEndpoint[]): WebhookEndpoint[] {
  return endpoints.filter(
    (endpoint) => endpoint.enabled && (endpoint.event_types === null || endpoint.event_types.includes(OPERATOR_EVENT)),
  );
}

/** What nobody gets when a template's messages reach no one. */
export const UNDELIVERED_CONSEQUENCE: Record<SmsTemplate['slug'], string> = {
  verification_code: 'Nobody could sign up, sign in or add a phone number with a code.',
  reset_password_code: 'Nobody could reset a forgotten password.',
  password_changed: 'Nobody would be told that their password was changed.',
  invitation: 'Invited people would never hear of their invitation.',
};

/** Saving this draft stops authn.sh sending the template, while no endpoint would receive its messages instead. */
export function stopsDeliveryUnreceived(
  template: SmsTemplate,
  draft: TemplateDraft,
  receivers: readonly WebhookEndpoint[] | null,
): boolean {
  return template.delivered_by_us && !draft.deliveredByUs && (receivers === null || receivers.length === 0);
}
