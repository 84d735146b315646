/** The abuse block of the instance settings: defaults, merge patch, and refusals that change nothing. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORES, createTestStore, startTestServer, type TestServer, type TestStore } from '../helpers/server.js';
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
    let res = await server.bapi('PATCH', '/v1/instance', {
      abuse: { sends_per_ip: { max: 50 }, sms_countries: { mode: 'deny', countries: ['RU', 'NG'] } },
    });
    expect(res.json().abuse).toMatchObject({
      sends_per_ip: { max: 50, window_seconds: 600 },
      sms_countries: { mode: 'deny', countries: ['RU', 'NG'] },
    });
    res = await server.bapi('PATCH', '/v1/instance', { abuse: { sms_countries: null, sends_per_ip: { max: null } } });
    expect(res.json().abuse).toMatchObject({
      sends_per_ip: { max: 20, window_seconds: 600 },
      sms_countries: { mode: 'allow', countries: ['US', 'CA'] },
    });
    const audit = (await server.bapi('GET', '/v1/audit_logs?action=instance.updated')).json().data[0];
    expect(audit.data.changes).toEqual(
      expect.arrayContaining([{ path: 'abuse.sms_countries.countries', old: ['RU', 'NG'], new: ['US', 'CA'] }]),
    );
  });

  it.each([
    ['a zero limit', { abuse: { sends_per_phone_number: { max: 0 } } }, 'form_param_format_invalid', 'abuse.sends_per_phone_number.max'],
    [
      'a window under a second',
      { abuse: { creates_per_ip: { window_seconds: 0 } } },
      'form_param_format_invalid',
      'abuse.creates_per_ip.window_seconds',
    ],
    ['no answers at all', { abuse: { attempts_per_ip: { max: 0 } } }, 'form_param_format_invalid', 'abuse.attempts_per_ip.max'],
    [
      'a window over a day',
      { abuse: { sends_per_ip: { window_seconds: 86_401 } } },
      'form_param_format_invalid',
      'abuse.sends_per_ip.window_seconds',
    ],
    ['a fractional budget', { abuse: { hourly_send_budget: 1.5 } }, 'form_param_type_invalid', 'abuse.hourly_send_budget'],
    ['11 attempts per challenge', { abuse: { attempts_per_challenge: 11 } }, 'form_param_format_invalid', 'abuse.attempts_per_challenge'],
    ['a string for a number', { abuse: { hourly_send_budget: '100' } }, 'form_param_type_invalid', 'abuse.hourly_send_budget'],
    ['an unknown mode', { abuse: { sms_countries: { mode: 'block' } } }, 'form_param_value_invalid', 'abuse.sms_countries.mode'],
    [
      'a lower-case country',
      { abuse: { sms_countries: { countries: ['us'] } } },
      'form_param_format_invalid',
      'abuse.sms_countries.countries.0',
    ],
    [
      'an unknown country',
      { abuse: { sms_countries: { countries: ['US', 'XX'] } } },
      'form_param_value_invalid',
      'abuse.sms_countries.countries',
    ],
    [
      'a repeated country',
      { abuse: { sms_countries: { countries: ['US', 'US'] } } },
      'form_param_value_invalid',
      'abuse.sms_countries.countries',
    ],
    ['an unknown field', { abuse: { sends_per_user: { max: 1 } } }, 'form_param_unknown', 'abuse.sends_per_user'],
    ['a code lifetime of 0 minutes', { abuse: { code_lifetime_minutes: 0 } }, 'form_param_format_invalid', 'abuse.code_lifetime_minutes'],
    ['a code lifetime over an hour', { abuse: { code_lifetime_minutes: 61 } }, 'form_param_format_invalid', 'abuse.code_lifetime_minutes'],
    [
      'a negative wait',
      { abuse: { wrong_code_backoff: { initial_seconds: -1 } } },
      'form_param_format_invalid',
      'abuse.wrong_code_backoff.initial_seconds',
    ],
    [
      'a wait over a day',
      { abuse: { wrong_code_backoff: { max_seconds: 86_401 } } },
      'form_param_format_invalid',
      'abuse.wrong_code_backoff.max_seconds',
    ],
    [
      'a longest wait shorter than the first',
      { abuse: { wrong_code_backoff: { initial_seconds: 600, max_seconds: 300 } } },
      'form_param_value_invalid',
      'abuse.wrong_code_backoff.max_seconds',
    ],
  ])('refuses %s and changes nothing', async (_name, patch, code, param) => {
    const before = (await server.bapi('GET', '/v1/instance')).body;
    const res = await server.bapi('PATCH', '/v1/instance', patch);
    expectError(res, 422, code);
    expect(res.json().errors[0].meta.param_name).toBe(param);
    expect((await server.bapi('GET', '/v1/instance')).body).toBe(before);
  });
});

describe.each(STORES)('code lifetime and wait after wrong codes settings on %s', (kind) => {
  let store: TestStore;
  let server: TestServer;
  beforeAll(async () => {
    store = await createTestStore(kind);
    server = await startTestServer(store);
  });
  afterAll(async () => {
    await server?.close();
    await store?.cleanup();
  });

  it('defaults to 10 minutes and 60 s doubling to 32 minutes; a change is audited; null restores the defaults', async () => {
    expect((await server.bapi('GET', '/v1/instance')).json().abuse).toMatchObject({
      code_lifetime_minutes: 10,
      wrong_code_backoff: { initial_seconds: 60, max_seconds: 1_920 },
    });
    const res = await server.bapi('PATCH', '/v1/instance', {
      abuse: { code_lifetime_minutes: 1, wrong_code_backoff: { max_seconds: 600 } },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().abuse).toMatchObject({ code_lifetime_minutes: 1, wrong_code_backoff: { initial_seconds: 60, max_seconds: 600 } });
    const audit = (await server.bapi('GET', '/v1/audit_logs?action=instance.updated')).json().data[0];
    expect(audit.data.changes).toEqual([
      { path: 'abuse.code_lifetime_minutes', old: 10, new: 1 },
      { path: 'abuse.wrong_code_backoff.max_seconds', old: 1_920, new: 600 },
    ]);
    const back = await server.bapi('PATCH', '/v1/instance', { abuse: { code_lifetime_minutes: null, wrong_code_backoff: null } });
    expect(back.json().abuse).toMatchObject({ code_lifetime_minutes: 10, wrong_code_backoff: { initial_seconds: 60, max_seconds: 1_920 } });
  });

  it('documents both settings with their bounds in the OpenAPI document', async () => {
    const doc = (await server.inject({ method: 'GET', url: '/v1/openapi.json' })).json();
    const abuse = doc.paths['/v1/instance'].get.responses['200'].content['application/json'].schema.properties.abuse.properties;
    expect(abuse.code_lifetime_minutes).toMatchObject({ type: 'integer', minimum: 1, maximum: 60 });
    expect(abuse.wrong_code_backoff.properties.initial_seconds).toMatchObject({ type: 'integer', minimum: 0, maximum: 86_400 });
    expect(abuse.wrong_code_backoff.properties.max_seconds).toMatchObject({ type: 'integer', minimum: 0, maximum: 86_400 });
  });

  it('refuses a longest wait under the first one, and a lifetime out of bounds, in one answer that changes nothing', async () => {
    const before = (await server.bapi('GET', '/v1/instance')).body;
    const audits = (await server.bapi('GET', '/v1/audit_logs?action=instance.updated')).json().data.length;
    const res = await server.bapi('PATCH', '/v1/instance', {
      abuse: { code_lifetime_minutes: 61, wrong_code_backoff: { initial_seconds: 120, max_seconds: 60 } },
    });
    expectError(res, 422, 'form_param_format_invalid');
    expect(
      res
        .json()
        .errors.map((e: { meta: { param_name: string } }) => e.meta.param_name)
        .sort(),
    ).toEqual(['abuse.code_lifetime_minutes']);
    const crossed = await server.bapi('PATCH', '/v1/instance', {
      abuse: { wrong_code_backoff: { initial_seconds: 120, max_seconds: 60 } },
    });
    expectError(crossed, 422, 'form_param_value_invalid');
    expect(crossed.json().errors[0].meta.param_name).toBe('abuse.wrong_code_backoff.max_seconds');
    expect((await server.bapi('GET', '/v1/instance')).body).toBe(before);
    expect((await server.bapi('GET', '/v1/audit_logs?action=instance.updated')).json().data.length).toBe(audits);
  });
});
