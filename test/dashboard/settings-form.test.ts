/** The wizard's patch: only what changed, only the chosen driver's fields, credentials only when replaced or cleared. */
import { describe, expect, it } from 'vitest';
import type { InstanceSettings } from '../../src/dashboard/app/api-types.js';
import { defaultSettings } from '../../src/instance/settings.js';
import { buildPatch, draftFrom, fieldId, patchPaths, type WizardDraft } from '../../src/dashboard/app/settings-form.js';

const SID = `AC${'0'.repeat(32)}`;
const MSID = `MG${'1'.repeat(32)}`;

/** The GET view of the server's defaults with some `sms` fields changed (no secret is set by default). */
function settings(sms: Partial<InstanceSettings['sms']> = {}): InstanceSettings {
  const defaults = defaultSettings();
  return { ...defaults, sms: { ...defaults.sms, ...sms } };
}

const twilioView = settings({
  driver: 'twilio',
  from_number: '+15555550100',
  twilio: { account_sid: SID, auth_token: '[REDACTED]', messaging_service_sid: null },
});

const edit = (view: InstanceSettings, changes: Partial<WizardDraft>): WizardDraft => ({ ...draftFrom(view), ...changes });

describe('buildPatch', () => {
  it('is empty when nothing changed, whatever the loaded settings hold', () => {
    expect(buildPatch(twilioView, draftFrom(twilioView), {})).toEqual({});
    expect(buildPatch(settings(), draftFrom(settings()), {})).toEqual({});
  });

  it('sends a credential only when a value was typed, trimmed, and never the marker', () => {
    expect(buildPatch(twilioView, draftFrom(twilioView), { 'sms.twilio.auth_token': '   ' })).toEqual({});
    expect(buildPatch(twilioView, draftFrom(twilioView), { 'sms.twilio.auth_token': ' abc ' })).toEqual({
      sms: { twilio: { auth_token: 'abc' } },
    });
  });

  it('clears a credential only when it is set', () => {
    const clearing = edit(twilioView, { secrets: { ...draftFrom(twilioView).secrets, 'sms.twilio.auth_token': 'clear' } });
    expect(buildPatch(twilioView, clearing, { 'sms.twilio.auth_token': 'ignored' })).toEqual({ sms: { twilio: { auth_token: null } } });
    const unset = settings({ driver: 'vonage' });
    const clearingUnset = edit(unset, { secrets: { ...draftFrom(unset).secrets, 'sms.vonage.signature_secret': 'clear' } });
    expect(buildPatch(unset, clearingUnset, {})).toEqual({});
  });

  it("sends only the chosen driver's fields", () => {
    const toNull = edit(twilioView, { driver: 'null', accountSid: 'typed but hidden', fromNumber: '+15555550111' });
    expect(buildPatch(twilioView, toNull, { 'sms.vonage.api_secret': 'hidden' })).toEqual({ sms: { driver: null } });
    const toVonage = edit(twilioView, { driver: 'vonage', apiKey: ' abcd1234 ', accountSid: 'ignored' });
    expect(buildPatch(twilioView, toVonage, { 'sms.vonage.api_secret': 'vonage-secret' })).toEqual({
      sms: { driver: 'vonage', vonage: { api_key: 'abcd1234', api_secret: 'vonage-secret' } },
    });
  });

  it("removes a stored driver's settings only when asked and only when it is not the chosen one", () => {
    expect(buildPatch(twilioView, edit(twilioView, { driver: 'null', forget: { twilio: true, vonage: true } }), {})).toEqual({
      sms: { driver: null, twilio: null },
    });
    expect(buildPatch(twilioView, edit(twilioView, { forget: { twilio: true, vonage: false } }), {})).toEqual({});
  });

  it('switches a Twilio sender between a number and a messaging service', () => {
    const toService = edit(twilioView, { twilioSender: 'messaging_service', messagingServiceSid: MSID });
    expect(buildPatch(twilioView, toService, {})).toEqual({ sms: { twilio: { messaging_service_sid: MSID } } });
    const serviceView = settings({ ...twilioView.sms, twilio: { ...twilioView.sms.twilio, messaging_service_sid: MSID } });
    expect(draftFrom(serviceView).twilioSender).toBe('messaging_service');
    expect(buildPatch(serviceView, edit(serviceView, { twilioSender: 'number' }), {})).toEqual({
      sms: { twilio: { messaging_service_sid: null } },
    });
  });

  it('treats an emptied field as cleared, and covers the instance-wide settings', () => {
    const draft = edit(twilioView, { fromNumber: '  ', appName: ' Acme ', testMode: 'enabled', phoneCodeMfa: false });
    const patch = buildPatch(twilioView, draft, {});
    expect(patch).toEqual({
      sms: { from_number: null },
      app_name: 'Acme',
      test_mode: 'enabled',
      multi_factor: { phone_code: { enabled: false } },
    });
    expect(patchPaths(patch)).toEqual(['sms.from_number', 'app_name', 'test_mode', 'multi_factor.phone_code.enabled']);
  });
});

it("names each field's input after its API parameter", () => {
  expect(fieldId('sms.twilio.account_sid')).toBe('field-sms-twilio-account_sid');
});
