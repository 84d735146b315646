import { describe, expect, it } from 'vitest';
import {
  defaultSettings,
  diffSettings,
  dropRedactionMarkers,
  mergePatch,
  redact,
  REDACTED,
  validateSettings,
  type InstanceSettings,
} from '../../src/instance/settings.js';

const SID = `AC${'a'.repeat(32)}`;
const MSID = `MG${'b'.repeat(32)}`;
const TOKEN = 'c'.repeat(32);

function apply(patch: unknown, base: InstanceSettings = defaultSettings()): InstanceSettings {
  return mergePatch(base, patch, defaultSettings());
}

function codes(settings: InstanceSettings) {
  return validateSettings(settings).map((e) => [e.code, e.meta?.param_name]);
}

describe('merge patch', () => {
  it('leaves absent fields unchanged and sets given ones', () => {
    const s = apply({ sms: { from_number: '+14155550123' } }, apply({ test_mode: 'enabled' }));
    expect(s.test_mode).toBe('enabled');
    expect(s.sms.from_number).toBe('+14155550123');
    expect(s.sms.twilio).toEqual(defaultSettings().sms.twilio);
  });

  it('null clears a leaf back to its default', () => {
    const s = apply({ test_mode: null, sms: { from_number: null } }, apply({ test_mode: 'rejected', sms: { from_number: '+14155550123' } }));
    expect(s.test_mode).toBe('disabled');
    expect(s.sms.from_number).toBeNull();
  });

  it('null on an object clears every field in it', () => {
    const s = apply({ sms: { twilio: null } }, apply({ sms: { twilio: { account_sid: SID, auth_token: TOKEN, messaging_service_sid: MSID } } }));
    expect(s.sms.twilio).toEqual({ account_sid: null, auth_token: null, messaging_service_sid: null });
  });

  it('does not modify its input', () => {
    const base = defaultSettings();
    apply({ sms: { driver: 'twilio' } }, base);
    expect(base).toEqual(defaultSettings());
  });

  it('drops the redaction marker so a round trip keeps the secret', () => {
    const patch = dropRedactionMarkers({ sms: { twilio: { auth_token: REDACTED, account_sid: SID }, vonage: { api_secret: REDACTED } } });
    expect(patch).toEqual({ sms: { twilio: { account_sid: SID }, vonage: {} } });
  });
});

describe('validation of the merged result', () => {
  it('accepts the defaults (null driver)', () => {
    expect(validateSettings(defaultSettings())).toEqual([]);
  });

  it('twilio needs account_sid, auth_token and from_number', () => {
    expect(codes(apply({ sms: { driver: 'twilio' } }))).toEqual([
      ['form_param_missing', 'sms.twilio.account_sid'],
      ['form_param_missing', 'sms.twilio.auth_token'],
      ['form_param_missing', 'sms.from_number'],
    ]);
  });

  it('a messaging service SID replaces from_number for twilio', () => {
    expect(codes(apply({ sms: { driver: 'twilio', twilio: { account_sid: SID, auth_token: TOKEN, messaging_service_sid: MSID } } }))).toEqual([]);
  });

  it('vonage needs api_key, api_secret and from_number', () => {
    expect(codes(apply({ sms: { driver: 'vonage' } }))).toEqual([
      ['form_param_missing', 'sms.vonage.api_key'],
      ['form_param_missing', 'sms.vonage.api_secret'],
      ['form_param_missing', 'sms.from_number'],
    ]);
  });

  it.each([
    ['+15555550100', 'twilio', true],
    ['+447700900100', 'vonage', true],
    ['+14155550123', 'twilio', true],
    ['12345', 'twilio', true], // short code
    ['AcmeAuth', 'vonage', true],
    ['AcmeAuth', null, true],
    ['AcmeAuth', 'twilio', false], // alphanumeric only with vonage
    ['Acme Auth', 'vonage', false], // spaces
    ['Acmé', 'vonage', false], // non-ASCII
    ['TwelveChars1', 'vonage', false], // over 11
    ['+1234', 'twilio', false], // not possible for +1
    ['+0123456789', 'twilio', false],
    ['12', 'twilio', false],
    ['14155550123', 'vonage', false], // 11 digits: not a short code, no plus
  ])('from_number %s with driver %s: valid=%s', (from, driver, ok) => {
    const creds = { twilio: { account_sid: SID, auth_token: TOKEN }, vonage: { api_key: 'abcd1234', api_secret: 'efgh5678' } };
    const errors = codes(apply({ sms: { driver, from_number: from, ...creds } }));
    expect(errors.length === 0).toBe(ok);
    if (!ok) expect(errors).toEqual([['form_param_format_invalid', 'sms.from_number']]);
  });

  it.each([
    [{ twilio: { account_sid: 'AC123' } }, 'sms.twilio.account_sid'],
    [{ twilio: { account_sid: `MG${'a'.repeat(32)}` } }, 'sms.twilio.account_sid'],
    [{ twilio: { messaging_service_sid: `AC${'a'.repeat(32)}` } }, 'sms.twilio.messaging_service_sid'],
    [{ twilio: { auth_token: 'short' } }, 'sms.twilio.auth_token'],
    [{ vonage: { api_key: 'abc' } }, 'sms.vonage.api_key'],
    [{ vonage: { api_secret: 'abc' } }, 'sms.vonage.api_secret'],
    [{ vonage: { api_secret: 'has space in it' } }, 'sms.vonage.api_secret'],
  ])('refuses a malformed credential field %j', (sms, param) => {
    expect(codes(apply({ sms }))).toEqual([['form_param_format_invalid', param]]);
  });

  it('never quotes a value in a message', () => {
    const canary = 'Zq9canaryZq9canaryZq9canary!!';
    const errors = validateSettings(apply({ sms: { twilio: { auth_token: canary }, vonage: { api_secret: canary, api_key: canary }, from_number: canary } }));
    expect(errors.length).toBeGreaterThan(0);
    expect(JSON.stringify(errors)).not.toContain('canary');
  });
});

describe('redaction and diff', () => {
  it('shows a set secret as the marker and an unset one as null', () => {
    const view = redact(apply({ sms: { twilio: { auth_token: TOKEN } } }));
    expect(view.sms.twilio.auth_token).toBe(REDACTED);
    expect(view.sms.vonage.api_secret).toBeNull();
  });

  it('reports secrets only as set / cleared and other fields with old and new values', () => {
    const before = apply({ sms: { vonage: { api_secret: REDACTED } } });
    const after = apply({ sms: { from_number: '+14155550123', twilio: { auth_token: TOKEN }, vonage: { api_secret: null } } }, before);
    expect(diffSettings(before, after)).toEqual([
      { path: 'sms.from_number', old: null, new: '+14155550123' },
      { path: 'sms.twilio.auth_token', change: 'set' },
      { path: 'sms.vonage.api_secret', change: 'cleared' },
    ]);
    expect(JSON.stringify(diffSettings(before, after))).not.toContain(TOKEN);
  });
});
