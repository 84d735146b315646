/** The abuse block of the instance settings: defaults, merge patch, and refusals that change nothing. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStore, startTestServer, type TestServer, type TestStore } from '../helpers/server.js';
import { expectError } from '../auth/helpers.js';

describe('abuse settings', () => {
  let store: TestStore;
  let server: TestServer;
  beforeAll(async () => {
    store = await createTestStore('sqlite');
    server = await startTestServer(store);
  });
  afterAll(async () => {
    await server?.close();
    await store?.cleanup();
  });

  it('patches one field at a time; null goes back to the default', async () => {
    let res = await server.bapi('PATCH', '/v1/instance', { abuse: { sends_per_ip: { max: 50 }, sms_countries: { mode: 'deny', countries: ['RU', 'NG'] } } });
    expect(res.json().abuse).toMatchObject({ sends_per_ip: { max: 50, window_seconds: 600 }, sms_countries: { mode: 'deny', countries: ['RU', 'NG'] } });
    res = await server.bapi('PATCH', '/v1/instance', { abuse: { sms_countries: null, sends_per_ip: { max: null } } });
    expect(res.json().abuse).toMatchObject({ sends_per_ip: { max: 20, window_seconds: 600 }, sms_countries: { mode: 'allow', countries: ['US', 'CA'] } });
    const audit = (await server.bapi('GET', '/v1/audit_logs?action=instance.updated')).json().data[0];
    expect(audit.data.changes).toEqual(expect.arrayContaining([{ path: 'abuse.sms_countries.countries', old: ['RU', 'NG'], new: ['US', 'CA'] }]));
  });

  it.each([
    ['a zero limit', { abuse: { sends_per_phone_number: { max: 0 } } }, 'form_param_format_invalid', 'abuse.sends_per_phone_number.max'],
    ['a window under a second', { abuse: { creates_per_ip: { window_seconds: 0 } } }, 'form_param_format_invalid', 'abuse.creates_per_ip.window_seconds'],
    ['no answers at all', { abuse: { attempts_per_ip: { max: 0 } } }, 'form_param_format_invalid', 'abuse.attempts_per_ip.max'],
    ['a window over a day', { abuse: { sends_per_ip: { window_seconds: 86_401 } } }, 'form_param_format_invalid', 'abuse.sends_per_ip.window_seconds'],
    ['a fractional budget', { abuse: { hourly_send_budget: 1.5 } }, 'form_param_type_invalid', 'abuse.hourly_send_budget'],
    ['11 attempts per challenge', { abuse: { attempts_per_challenge: 11 } }, 'form_param_format_invalid', 'abuse.attempts_per_challenge'],
    ['a string for a number', { abuse: { hourly_send_budget: '100' } }, 'form_param_type_invalid', 'abuse.hourly_send_budget'],
    ['an unknown mode', { abuse: { sms_countries: { mode: 'block' } } }, 'form_param_value_invalid', 'abuse.sms_countries.mode'],
    ['a lower-case country', { abuse: { sms_countries: { countries: ['us'] } } }, 'form_param_format_invalid', 'abuse.sms_countries.countries.0'],
    ['an unknown country', { abuse: { sms_countries: { countries: ['US', 'XX'] } } }, 'form_param_value_invalid', 'abuse.sms_countries.countries'],
    ['a repeated country', { abuse: { sms_countries: { countries: ['US', 'US'] } } }, 'form_param_value_invalid', 'abuse.sms_countries.countries'],
    ['an unknown field', { abuse: { sends_per_user: { max: 1 } } }, 'form_param_unknown', 'abuse.sends_per_user'],
  ])('refuses %s and changes nothing', async (_name, patch, code, param) => {
    const before = (await server.bapi('GET', '/v1/instance')).body;
    const res = await server.bapi('PATCH', '/v1/instance', patch);
    expectError(res, 422, code);
    expect(res.json().errors[0].meta.param_name).toBe(param);
    expect((await server.bapi('GET', '/v1/instance')).body).toBe(before);
  });
});
