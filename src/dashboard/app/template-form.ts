/**
 * The SMS template editor's model: the draft, the merge patch that saves it, the preview request, and how to read
 * the API's measure of a message. Pure functions, no DOM.
 */
import { isGsm7 } from '../../sms/encoding.js';
import type { SmsTemplate } from './api-types.js';
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
