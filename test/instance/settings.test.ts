import { describe, expect, it } from 'vitest';
import {
  defaultSettings,
  diffSettings,
  dropRedactionMarkers,
  patchSettings,
  redact,
  REDACTED,
  validateSettings,
  type InstanceSettings,
} from '../../src/instance/settings.js';

const SID = `AC${'a'.repeat(32)}`;
const MSID = `MG${'b'.repeat(32)}`;
const TOKEN = 'c'.repeat(32);

function apply(patch: unknown, base: InstanceSettings = defaultSettings()): InstanceSettings {
  return patchSettings(patch, base);
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
    const s = apply(
      { test_mode: null, sms: { from_number: null } },
      apply({ test_mode: 'rejected', sms: { from_number: '+14155550123' } }),
    );
    expect(s.test_mode).toBe('disabled');
    expect(s.sms.from_number).toBeNull();
  });

  it('null on an object clears every field in it', () => {
    const s = apply(
      { sms: { twilio: null } },
      apply({ sms: { twilio: { account_sid: SID, auth_token: TOKEN, messaging_service_sid: MSID } } }),
    );
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
    expect(
      codes(apply({ sms: { driver: 'twilio', twilio: { account_sid: SID, auth_token: TOKEN, messaging_service_sid: MSID } } })),
    ).toEqual([]);
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
    const errors = validateSettings(
      apply({ sms: { twilio: { auth_token: canary }, vonage: { api_secret: canary, api_key: canary }, from_number: canary } }),
    );
    expect(errors.length).toBeGreaterThan(0);
    expect(JSON.stringify(errors)).not.toContain('canary');
  });
});

describe('routes and failover', () => {
  const creds = {
    twilio: { account_sid: SID, auth_token: TOKEN },
    vonage: { api_key: 'abcd1234', api_secret: 'efgh5678' },
    from_number: '+14155550123',
  };
  const route = (countries: string[], driver: string, failover_driver: string | null = null) => ({ countries, driver, failover_driver });

  it('defaults to no routes and no failover driver, two tries, a 60 s wait for verification codes', () => {
    expect(defaultSettings().sms.routes).toEqual([]);
    expect(defaultSettings().sms.failover).toEqual({
      driver: null,
      after_transient_failures: 2,
      receipt_wait_seconds: 60,
      receipt_wait_templates: ['verification_code'],
    });
  });

  it('accepts routes and a failover driver whose credentials are complete', () => {
    const s = apply({
      sms: {
        ...creds,
        driver: 'twilio',
        routes: [route(['GB', 'DE'], 'vonage', 'twilio'), route(['US'], 'twilio')],
        failover: { driver: 'vonage' },
      },
    });
    expect(codes(s)).toEqual([]);
  });

  it('a patch replaces the list of routes whole; null empties it', () => {
    const base = apply({ sms: { ...creds, routes: [route(['GB'], 'vonage'), route(['US'], 'twilio')] } });
    expect(apply({ sms: { routes: [route(['FR'], 'vonage')] } }, base).sms.routes).toEqual([route(['FR'], 'vonage')]);
    expect(apply({ sms: { routes: null } }, base).sms.routes).toEqual([]);
  });

  it('null keeps receipt_wait_seconds null (never), and clearing sms.failover brings the defaults back', () => {
    const never = apply({ sms: { failover: { receipt_wait_seconds: null, after_transient_failures: 4 } } });
    expect(never.sms.failover).toMatchObject({ receipt_wait_seconds: null, after_transient_failures: 4 });
    expect(apply({ sms: { failover: { after_transient_failures: 3 } } }, never).sms.failover.receipt_wait_seconds).toBeNull();
    expect(apply({ sms: { failover: { after_transient_failures: null } } }, never).sms.failover.after_transient_failures).toBe(2);
    expect(apply({ sms: { failover: null } }, never).sms.failover).toEqual(defaultSettings().sms.failover);
    // A stored document is read the same way.
    expect(patchSettings(JSON.parse(JSON.stringify(never))).sms.failover.receipt_wait_seconds).toBeNull();
  });

  it('refuses countries that are not upper-case ISO codes, repeats, and a country in two routes, by entry', () => {
    const s = apply({
      sms: { ...creds, routes: [route(['GB', 'gb', 'XX', 'GB'], 'vonage'), route(['US', 'GB'], 'twilio'), route([], 'twilio')] },
    });
    expect(codes(s)).toEqual([
      ['form_param_value_invalid', 'sms.routes.0.countries.1'],
      ['form_param_value_invalid', 'sms.routes.0.countries.2'],
      ['form_param_value_invalid', 'sms.routes.0.countries.3'],
      ['form_param_value_invalid', 'sms.routes.1.countries.1'],
      ['form_param_value_invalid', 'sms.routes.2.countries'],
    ]);
    expect(validateSettings(s)[3]!.long_message).toBe(
      'sms.routes.1.countries.1 is already routed by sms.routes.0: a country is in one route at most',
    );
  });

  it('refuses more than 50 routes and more than 250 countries in one', () => {
    const many = Array.from({ length: 51 }, () => route(['GB'], 'vonage'));
    expect(codes(apply({ sms: { ...creds, routes: many } }))).toEqual([['form_param_value_invalid', 'sms.routes']]);
    const countries = Array.from({ length: 251 }, (_, i) => String.fromCharCode(65 + Math.floor(i / 26), 65 + (i % 26)));
    expect(codes(apply({ sms: { ...creds, routes: [route(countries, 'vonage')] } }))).toContainEqual([
      'form_param_value_invalid',
      'sms.routes.0.countries',
    ]);
  });

  it('refuses a failover driver that is the route driver', () => {
    expect(codes(apply({ sms: { ...creds, routes: [route(['GB'], 'vonage', 'vonage')] } }))).toEqual([
      ['form_param_value_invalid', 'sms.routes.0.failover_driver'],
    ]);
  });

  it('refuses a route or failover naming a driver whose credentials are incomplete, at its path', () => {
    const twilioOnly = { twilio: creds.twilio, from_number: creds.from_number, driver: 'twilio' };
    const s = apply({
      sms: { ...twilioOnly, routes: [route(['GB'], 'vonage'), route(['DE'], 'twilio', 'vonage')], failover: { driver: 'vonage' } },
    });
    expect(codes(s)).toEqual([
      ['form_param_value_invalid', 'sms.routes.0.driver'],
      ['form_param_value_invalid', 'sms.routes.1.failover_driver'],
      ['form_param_value_invalid', 'sms.failover.driver'],
    ]);
    expect(validateSettings(s)[0]!.long_message).toBe(
      'sms.routes.0.driver is vonage, whose settings are incomplete: sms.vonage.api_key, sms.vonage.api_secret are not set',
    );
    // The sender counts too: vonage needs sms.from_number; twilio a messaging service or a number it can send from.
    expect(codes(apply({ sms: { vonage: creds.vonage, routes: [route(['GB'], 'vonage')] } }))).toEqual([
      ['form_param_value_invalid', 'sms.routes.0.driver'],
    ]);
    const alphanumeric = { ...creds, driver: 'vonage', from_number: 'AcmeAuth' };
    expect(codes(apply({ sms: { ...alphanumeric, routes: [route(['US'], 'twilio')] } }))).toEqual([
      ['form_param_value_invalid', 'sms.routes.0.driver'],
    ]);
    expect(
      codes(
        apply({ sms: { ...alphanumeric, twilio: { ...creds.twilio, messaging_service_sid: MSID }, routes: [route(['US'], 'twilio')] } }),
      ),
    ).toEqual([]);
  });

  it.each([
    [{ after_transient_failures: 0 }, 'sms.failover.after_transient_failures'],
    [{ after_transient_failures: 11 }, 'sms.failover.after_transient_failures'],
    [{ after_transient_failures: 1.5 }, 'sms.failover.after_transient_failures'],
    [{ receipt_wait_seconds: 9 }, 'sms.failover.receipt_wait_seconds'],
    [{ receipt_wait_seconds: 3601 }, 'sms.failover.receipt_wait_seconds'],
    [{ receipt_wait_templates: ['verification_code', 'welcome'] }, 'sms.failover.receipt_wait_templates.1'],
    [{ receipt_wait_templates: ['invitation', 'invitation'] }, 'sms.failover.receipt_wait_templates.1'],
    [{ driver: 'sinch' }, 'sms.failover.driver'],
  ])('refuses sms.failover %j', (failover, param) => {
    expect(codes(apply({ sms: { failover } }))).toEqual([['form_param_value_invalid', param]]);
  });

  it('accepts the bounds of the failover numbers', () => {
    for (const failover of [
      { after_transient_failures: 1, receipt_wait_seconds: 10 },
      { after_transient_failures: 10, receipt_wait_seconds: 3600, receipt_wait_templates: [] },
    ]) {
      expect(codes(apply({ sms: { failover } }))).toEqual([]);
    }
  });

  it('lists a changed route list as one change of sms.routes', () => {
    const before = apply({ sms: { from_number: creds.from_number } });
    const after = apply({ sms: { routes: [route(['GB'], 'vonage')], failover: { receipt_wait_seconds: null } } }, before);
    expect(diffSettings(before, after)).toEqual([
      { path: 'sms.routes', old: [], new: [route(['GB'], 'vonage')] },
      { path: 'sms.failover.receipt_wait_seconds', old: 60, new: null },
    ]);
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
