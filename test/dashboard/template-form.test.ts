/** The template editor's patch and preview request: only what changed, the body as typed, blank values left out. */
import { describe, expect, it } from 'vitest';
import type { SmsTemplate, WebhookEndpoint } from '../../src/dashboard/app/api-types.js';
import {
  operatorReceivers,
  previewRequest,
  stopsDeliveryUnreceived,
  templateDraftFrom,
  templatePatch,
  ucs2Characters,
} from '../../src/dashboard/app/template-form.js';

const template: SmsTemplate = {
  object: 'sms_template',
  slug: 'verification_code',
  name: 'Verification code',
  body: '{{code}} is your code.',
  from_number_override: null,
  from_number_override_ignored: false,
  delivered_by_us: true,
  customised: true,
  available_variables: ['code', 'app_name', 'expires_in_minutes'],
  required_variables: ['code'],
  sample_message: '123456 is your code.',
  encoding: 'GSM-7',
  characters: 20,
  segments: 1,
  updated_at: 1,
};

describe('templatePatch', () => {
  it('is empty when nothing changed', () => {
    expect(templatePatch(template, templateDraftFrom(template))).toEqual({});
  });

  it('sends the body exactly as typed, spaces and line breaks included', () => {
    expect(templatePatch(template, { ...templateDraftFrom(template), body: ' {{code}}\nis yours ' })).toEqual({
      body: ' {{code}}\nis yours ',
    });
  });

  it('trims the sender override, and clears it when left blank', () => {
    expect(templatePatch(template, { ...templateDraftFrom(template), fromNumberOverride: ' +15555550123 ' })).toEqual({
      from_number_override: '+15555550123',
    });
    const overridden = { ...template, from_number_override: '+15555550123' };
    expect(templatePatch(overridden, { ...templateDraftFrom(overridden), fromNumberOverride: '  ' })).toEqual({
      from_number_override: null,
    });
  });

  it('sends delivered_by_us only when it changed, and never the preview values', () => {
    const draft = { ...templateDraftFrom(template), deliveredByUs: false, values: { code: '999999' } };
    expect(templatePatch(template, draft)).toEqual({ delivered_by_us: false });
  });
});

describe('previewRequest', () => {
  it('previews the body being edited, with the values typed and without the blank ones', () => {
    const draft = templateDraftFrom(template, { code: '42', app_name: '  ' });
    expect(previewRequest(draft)).toEqual({ body: template.body, variables: { code: '42' } });
    expect(previewRequest(templateDraftFrom(template))).toEqual({ body: template.body });
  });
});

describe('ucs2Characters', () => {
  it('lists each character outside GSM-7 once; extension characters are GSM-7', () => {
    expect(ucs2Characters('Code 123 {€} ç ç 😀')).toEqual(['ç', '😀']);
    expect(ucs2Characters('Plain [text]')).toEqual([]);
  });
});

describe('where the messages go when authn.sh does not send them', () => {
  const endpoint = (id: string, event_types: string[] | null, enabled = true): WebhookEndpoint => ({
    id,
    object: 'webhook_endpoint',
    url: `https://example.com/${id}`,
    description: null,
    event_types,
    enabled,
    failing_since: null,
    created_at: 1,
    updated_at: 1,
  });

  it('to the enabled endpoints that take every event or sms.queued', () => {
    const endpoints = [
      endpoint('all', null),
      endpoint('queued', ['sms.sent', 'sms.queued']),
      endpoint('off', null, false),
      endpoint('other', ['sms.sent']),
    ];
    expect(operatorReceivers(endpoints).map((e) => e.id)).toEqual(['all', 'queued']);
  });

  it('asks before a save stops the sending while no endpoint (or none known) would receive the messages', () => {
    const stopped = { ...templateDraftFrom(template), deliveredByUs: false };
    expect(stopsDeliveryUnreceived(template, stopped, [])).toBe(true);
    expect(stopsDeliveryUnreceived(template, stopped, null)).toBe(true);
    expect(stopsDeliveryUnreceived(template, stopped, [endpoint('queued', ['sms.queued'])])).toBe(false);
    // Sending on, or already stopped before this save: nothing to ask.
    expect(stopsDeliveryUnreceived(template, templateDraftFrom(template), [])).toBe(false);
    const alreadyStopped = { ...template, delivered_by_us: false };
    expect(stopsDeliveryUnreceived(alreadyStopped, templateDraftFrom(alreadyStopped), [])).toBe(false);
  });
});
