/**
 * GET / PATCH /v1/instance and GET /v1/environment through the real HTTP stack, on SQLite and PostgreSQL.
 */
import { describe, expect, it } from 'vitest';
import { REDACTED } from '../../src/instance/settings.js';
import { STORES, useTestServer } from '../helpers/server.js';

const SID = 'AC0123456789abcdef0123456789abcdef';
const TOKEN = '9f8e7d6c5b4a39281706f5e4d3c2b1a0';

describe.each(STORES)('instance settings on %s', (kind) => {
  const ctx = useTestServer(kind);

  async function snapshot() {
    const view = (await ctx.server.bapi('GET', '/v1/instance')).json();
    const current = await ctx.server.running.services.instance.current();
    const audit = (await ctx.server.bapi('GET', '/v1/audit_logs?limit=500')).json().data.length;
    return { view, current: structuredClone(current), audit };
  }

  it('starts with the defaults', async () => {
    const res = await ctx.server.bapi('GET', '/v1/instance');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      sms: {
        driver: null,
        from_number: null,
        twilio: { account_sid: null, auth_token: null, messaging_service_sid: null },
        vonage: { api_key: null, api_secret: null, signature_secret: null, signature_method: 'md5hash' },
        origin_bound_codes: { enabled: false, domain: null },
        routes: [],
        failover: { driver: null, after_transient_failures: 2, receipt_wait_seconds: 60, receipt_wait_templates: ['verification_code'] },
      },
      app_name: 'authn.sh',
      test_mode: 'disabled',
      multi_factor: { phone_code: { enabled: true } },
      allowed_origins: [],
      abuse: {
        sends_per_phone_number: { max: 5, window_seconds: 600 },
        sends_per_ip: { max: 20, window_seconds: 600 },
        attempts_per_ip: { max: 30, window_seconds: 300 },
        creates_per_ip: { max: 30, window_seconds: 60 },
        hourly_send_budget: 1000,
        attempts_per_challenge: 5,
        code_lifetime_minutes: 10,
        wrong_code_backoff: { initial_seconds: 60, max_seconds: 1920 },
        password_lockout: { max_failures: 10, window_seconds: 3600 },
        sms_countries: { mode: 'allow', countries: ['US', 'CA'] },
      },
    });
  });

  it('runs every example request of the seed page as written', async () => {
    // 1. Twilio with a from number.
    let res = await ctx.server.bapi('PATCH', '/v1/instance', {
      sms: {
        driver: 'twilio',
        from_number: '+15555550100',
        twilio: { account_sid: 'ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', auth_token: 'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy' },
      },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().sms).toMatchObject({
      driver: 'twilio',
      from_number: '+15555550100',
      twilio: { account_sid: 'ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', auth_token: REDACTED },
    });
    expect(res.body).not.toContain('yyyyyyyy');
    expect((await ctx.server.running.services.instance.current()).sms.twilio.auth_token).toBe('yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy');

    // 2. A messaging service.
    res = await ctx.server.bapi('PATCH', '/v1/instance', {
      sms: { driver: 'twilio', twilio: { messaging_service_sid: 'MGxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' } },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().sms.twilio.messaging_service_sid).toBe('MGxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx');

    // 3. Vonage.
    res = await ctx.server.bapi('PATCH', '/v1/instance', {
      sms: { driver: 'vonage', from_number: '+447700900100', vonage: { api_key: 'abcd1234', api_secret: 'efgh5678' } },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().sms).toMatchObject({
      driver: 'vonage',
      from_number: '+447700900100',
      vonage: { api_key: 'abcd1234', api_secret: REDACTED },
    });

    // 4. Clearing the Twilio token (Twilio is no longer the driver, so the result is valid).
    res = await ctx.server.bapi('PATCH', '/v1/instance', { sms: { twilio: { auth_token: null } } });
    expect(res.statusCode).toBe(200);
    expect(res.json().sms.twilio.auth_token).toBeNull();
    expect((await ctx.server.running.services.instance.current()).sms.twilio.auth_token).toBeNull();

    // 5. Back to the null driver.
    res = await ctx.server.bapi('PATCH', '/v1/instance', { sms: { driver: null } });
    expect(res.statusCode).toBe(200);
    expect(res.json().sms.driver).toBeNull();
    // Credentials of the other drivers stay stored.
    expect(res.json().sms.vonage.api_secret).toBe(REDACTED);
  });

  it('refuses clearing the token of the active Twilio driver, and changes nothing', async () => {
    await ctx.server.bapi('PATCH', '/v1/instance', {
      sms: { driver: 'twilio', from_number: '+14155550123', twilio: { account_sid: SID, auth_token: TOKEN } },
    });
    const before = await snapshot();
    const res = await ctx.server.bapi('PATCH', '/v1/instance', { sms: { twilio: { auth_token: null } } });
    expect(res.statusCode).toBe(422);
    expect(res.json().errors).toEqual([
      expect.objectContaining({ code: 'form_param_missing', meta: { param_name: 'sms.twilio.auth_token' } }),
    ]);
    expect(await snapshot()).toEqual(before);
  });

  it.each([
    [
      'missing credentials for the chosen driver',
      { sms: { driver: 'vonage', vonage: { api_key: null } } },
      'form_param_missing',
      'sms.vonage.api_key',
    ],
    ['a malformed E.164 number', { sms: { from_number: '+1234' } }, 'form_param_format_invalid', 'sms.from_number'],
    ['text for a number', { sms: { from_number: 'call me' } }, 'form_param_format_invalid', 'sms.from_number'],
    ['a bad account SID', { sms: { twilio: { account_sid: 'AC123' } } }, 'form_param_format_invalid', 'sms.twilio.account_sid'],
    [
      'a bad messaging service SID',
      { sms: { twilio: { messaging_service_sid: SID } } },
      'form_param_format_invalid',
      'sms.twilio.messaging_service_sid',
    ],
    ['an unknown field', { sms: { twilio: { region: 'ie1' } } }, 'form_param_unknown', 'sms.twilio.region'],
    ['an unknown top-level field', { sms_driver: 'twilio' }, 'form_param_unknown', 'sms_driver'],
    ['a wrong type', { multi_factor: { phone_code: { enabled: 'yes' } } }, 'form_param_type_invalid', 'multi_factor.phone_code.enabled'],
    ['a string where an object belongs', { sms: 'twilio' }, 'form_param_type_invalid', 'sms'],
    ['an unknown driver', { sms: { driver: 'messagebird' } }, 'form_param_value_invalid', 'sms.driver'],
    ['an unknown test mode', { test_mode: 'on' }, 'form_param_value_invalid', 'test_mode'],
    ['an app name with template braces', { app_name: '{{code}}' }, 'form_param_format_invalid', 'app_name'],
    ['a multi-line app name', { app_name: 'Acme\nClick evil.example' }, 'form_param_format_invalid', 'app_name'],
    ['an alphanumeric sender under twilio', { sms: { from_number: 'AcmeAuth' } }, 'form_param_format_invalid', 'sms.from_number'],
    [
      'a route to a driver without credentials',
      { sms: { vonage: { api_key: null }, routes: [{ countries: ['GB'], driver: 'vonage', failover_driver: null }] } },
      'form_param_value_invalid',
      'sms.routes.0.driver',
    ],
    [
      'a failover driver without credentials',
      { sms: { vonage: { api_secret: null }, failover: { driver: 'vonage' } } },
      'form_param_value_invalid',
      'sms.failover.driver',
    ],
    [
      'an unknown country in a route',
      { sms: { routes: [{ countries: ['GB', 'XX'], driver: 'vonage', failover_driver: null }] } },
      'form_param_value_invalid',
      'sms.routes.0.countries.1',
    ],
    [
      'a lower-case country in a route',
      { sms: { routes: [{ countries: ['gb'], driver: 'vonage', failover_driver: null }] } },
      'form_param_format_invalid',
      'sms.routes.0.countries.0',
    ],
    [
      'a country in two routes',
      {
        sms: {
          routes: [
            { countries: ['GB'], driver: 'vonage', failover_driver: null },
            { countries: ['DE', 'GB'], driver: 'twilio', failover_driver: null },
          ],
        },
      },
      'form_param_value_invalid',
      'sms.routes.1.countries.1',
    ],
    [
      'a route failing over to its own driver',
      { sms: { routes: [{ countries: ['GB'], driver: 'vonage', failover_driver: 'vonage' }] } },
      'form_param_value_invalid',
      'sms.routes.0.failover_driver',
    ],
    [
      'a route without its failover driver',
      { sms: { routes: [{ countries: ['GB'], driver: 'vonage' }] } },
      'form_param_missing',
      'sms.routes.0.failover_driver',
    ],
    [
      'a receipt wait under 10 s',
      { sms: { failover: { receipt_wait_seconds: 5 } } },
      'form_param_format_invalid',
      'sms.failover.receipt_wait_seconds',
    ],
    [
      'an unknown template for the receipt wait',
      { sms: { failover: { receipt_wait_templates: ['welcome'] } } },
      'form_param_value_invalid',
      'sms.failover.receipt_wait_templates.0',
    ],
  ])('rejects %s with 422 and changes nothing', async (_name, patch, code, param) => {
    const before = await snapshot();
    const res = await ctx.server.bapi('PATCH', '/v1/instance', patch);
    expect(res.statusCode).toBe(422);
    expect(res.json().errors).toContainEqual(expect.objectContaining({ code, meta: { param_name: param } }));
    for (const error of res.json().errors) expect(Object.keys(error).sort()).toEqual(['code', 'long_message', 'message', 'meta']);
    expect(await snapshot()).toEqual(before);
  });

  it('a read-modify-write round trip with the redaction marker keeps the secret', async () => {
    const view = (await ctx.server.bapi('GET', '/v1/instance')).json();
    expect(view.sms.twilio.auth_token).toBe(REDACTED);
    view.test_mode = 'enabled';
    const res = await ctx.server.bapi('PATCH', '/v1/instance', view);
    expect(res.statusCode).toBe(200);
    expect(res.json().test_mode).toBe('enabled');
    expect((await ctx.server.running.services.instance.current()).sms.twilio.auth_token).toBe(TOKEN);
  });

  it('a PATCH that changes nothing writes no audit entry', async () => {
    const before = await snapshot();
    const res = await ctx.server.bapi('PATCH', '/v1/instance', { test_mode: 'enabled' });
    expect(res.statusCode).toBe(200);
    expect(await snapshot()).toEqual(before);
  });

  it('records each change in the audit log with the key, the paths and no secret', async () => {
    const res = await ctx.server.bapi('PATCH', '/v1/instance', {
      sms: { from_number: '+14155550199', twilio: { auth_token: 'ffffffffffffffffffffffffffffffff' } },
    });
    expect(res.statusCode).toBe(200);
    const entry = (await ctx.server.bapi('GET', '/v1/audit_logs?action=instance.updated&limit=1')).json().data[0];
    expect(entry.actor).toEqual({ type: 'secret_key', id: expect.stringMatching(/^sk_/) });
    expect(entry.data.changes).toEqual([
      { path: 'sms.from_number', old: '+14155550123', new: '+14155550199' },
      { path: 'sms.twilio.auth_token', change: 'set' },
    ]);
    expect(JSON.stringify(entry)).not.toContain('ffffffff');
  });

  it('FAPI environment shows the driver, the from number, the MFA flag and the public rules of the screens, nothing else', async () => {
    const res = await ctx.server.inject({ method: 'GET', url: '/v1/environment' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      object: 'environment',
      app_name: 'authn.sh',
      sms: { driver: 'twilio', from_number: '+14155550199' },
      phone_number: { countries: ['US', 'CA'] },
      phone_code: { length: 6 },
      password: { enabled: true, min_length: 8, max_length: 128 },
      multi_factor: { phone_code: { enabled: true } },
    });
  });

  it('saves routes and failover, replaces the route list whole, and audits the changed paths', async () => {
    const routes = [
      { countries: ['GB', 'DE'], driver: 'vonage', failover_driver: 'twilio' },
      { countries: ['FR'], driver: 'twilio', failover_driver: null },
    ];
    let res = await ctx.server.bapi('PATCH', '/v1/instance', {
      sms: { routes, failover: { driver: 'vonage', receipt_wait_seconds: null } },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().sms.routes).toEqual(routes);
    expect(res.json().sms.failover).toEqual({
      driver: 'vonage',
      after_transient_failures: 2,
      receipt_wait_seconds: null,
      receipt_wait_templates: ['verification_code'],
    });
    const current = await ctx.server.running.services.instance.current();
    expect(current.sms.routes).toEqual(routes);
    expect(current.sms.failover.receipt_wait_seconds).toBeNull();
    let entry = (await ctx.server.bapi('GET', '/v1/audit_logs?action=instance.updated&limit=1')).json().data[0];
    expect(entry.data.changes).toEqual([
      { path: 'sms.routes', old: [], new: routes },
      { path: 'sms.failover.driver', old: null, new: 'vonage' },
      { path: 'sms.failover.receipt_wait_seconds', old: 60, new: null },
    ]);

    res = await ctx.server.bapi('PATCH', '/v1/instance', { sms: { routes: [routes[1]], failover: { after_transient_failures: 3 } } });
    expect(res.statusCode).toBe(200);
    expect(res.json().sms.routes).toEqual([routes[1]]);
    expect(res.json().sms.failover).toMatchObject({ driver: 'vonage', after_transient_failures: 3, receipt_wait_seconds: null });

    res = await ctx.server.bapi('PATCH', '/v1/instance', { sms: { routes: null, failover: null } });
    expect(res.statusCode).toBe(200);
    expect(res.json().sms.routes).toEqual([]);
    expect(res.json().sms.failover).toEqual({
      driver: null,
      after_transient_failures: 2,
      receipt_wait_seconds: 60,
      receipt_wait_templates: ['verification_code'],
    });
    entry = (await ctx.server.bapi('GET', '/v1/audit_logs?action=instance.updated&limit=1')).json().data[0];
    expect(entry.data.changes.map((change: { path: string }) => change.path)).toEqual([
      'sms.routes',
      'sms.failover.driver',
      'sms.failover.after_transient_failures',
      'sms.failover.receipt_wait_seconds',
    ]);
  });
});
