/**
 * `GET /v1/environment` on SQLite and PostgreSQL: what the SDK's screens need (countries for the phone input, the
 * code length, passwords, the MFA switch and the driver), following the settings at once, and never a credential:
 * the answer's fields are exactly an allow-list, and no stored secret or other setting shows up in it.
 */
import { getCountries } from 'libphonenumber-js/max';
import { describe, expect, it } from 'vitest';
import { SECRET_PATHS } from '../../src/instance/settings.js';
import { STORES, useTestServer } from '../helpers/server.js';

const TOKEN = 'EnvCanaryTok3nEnvCanaryTok3nEnv1';
const SECRET = 'EnvCanarySecret7';
const SIGNATURE = 'EnvCanarySignature0099';
const ACCOUNT_SID = `AC${'7'.repeat(32)}`;
const MESSAGING_SERVICE_SID = `MG${'8'.repeat(32)}`;
const API_KEY = 'envk3y99';

/** Every leaf of a JSON value, as dotted paths (array items as `[]`). */
function leafPaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return [`${prefix}[]`];
  if (typeof value === 'object' && value !== null)
    return Object.entries(value).flatMap(([key, child]) => leafPaths(child, prefix ? `${prefix}.${key}` : key));
  return [prefix];
}

const PUBLIC_FIELDS = [
  'object',
  'app_name',
  'sms.driver',
  'sms.from_number',
  'phone_number.countries[]',
  'phone_code.length',
  'password.enabled',
  'password.min_length',
  'password.max_length',
  'multi_factor.phone_code.enabled',
];

describe.each(STORES)('FAPI environment on %s', (kind) => {
  const ctx = useTestServer(kind);
  const environment = async () => {
    const res = await ctx.server.inject({ method: 'GET', url: '/v1/environment' });
    expect(res.statusCode).toBe(200);
    return res;
  };

  it('has what the sign-in, sign-up and profile screens need, by default', async () => {
    expect((await environment()).json()).toEqual({
      object: 'environment',
      app_name: 'authn.sh',
      sms: { driver: null, from_number: null },
      phone_number: { countries: ['US', 'CA'] },
      phone_code: { length: 6 },
      password: { enabled: true, min_length: 8, max_length: 128 },
      multi_factor: { phone_code: { enabled: true } },
    });
  });

  it('lists the countries a phone input may offer: the allow list in its order, or every country the deny list leaves', async () => {
    let res = await ctx.server.bapi('PATCH', '/v1/instance', {
      abuse: { sms_countries: { mode: 'allow', countries: ['GB', 'FR', 'US'] } },
    });
    expect(res.statusCode).toBe(200);
    expect((await environment()).json().phone_number.countries).toEqual(['GB', 'FR', 'US']);

    res = await ctx.server.bapi('PATCH', '/v1/instance', { abuse: { sms_countries: { mode: 'deny', countries: ['RU', 'NG'] } } });
    expect(res.statusCode).toBe(200);
    const countries: string[] = (await environment()).json().phone_number.countries;
    expect(countries).toEqual([...countries].sort());
    expect(countries).not.toContain('RU');
    expect(countries).not.toContain('NG');
    expect(new Set(countries)).toEqual(new Set(getCountries().filter((c) => c !== 'RU' && c !== 'NG')));

    res = await ctx.server.bapi('PATCH', '/v1/instance', { abuse: { sms_countries: null } });
    expect((await environment()).json().phone_number.countries).toEqual(['US', 'CA']);
  });

  it('follows the MFA switch, the driver and the product name at once', async () => {
    const res = await ctx.server.bapi('PATCH', '/v1/instance', { multi_factor: { phone_code: { enabled: false } }, app_name: 'Acme' });
    expect(res.statusCode).toBe(200);
    expect((await environment()).json()).toMatchObject({ app_name: 'Acme', multi_factor: { phone_code: { enabled: false } } });
    await ctx.server.bapi('PATCH', '/v1/instance', { multi_factor: null, app_name: null });
  });

  it('never carries a credential or any other setting, whatever is configured', async () => {
    const res = await ctx.server.bapi('PATCH', '/v1/instance', {
      sms: {
        driver: 'twilio',
        from_number: '+14155550123',
        twilio: { account_sid: ACCOUNT_SID, auth_token: TOKEN, messaging_service_sid: MESSAGING_SERVICE_SID },
        vonage: { api_key: API_KEY, api_secret: SECRET, signature_secret: SIGNATURE },
        origin_bound_codes: { enabled: true, domain: 'app.example.com' },
      },
      test_mode: 'enabled',
      allowed_origins: ['https://app.example.com'],
    });
    expect(res.statusCode, res.body).toBe(200);
    const answers = [
      await environment(),
      await ctx.server.inject({ method: 'GET', url: '/v1/environment', headers: { origin: 'https://app.example.com' } }),
    ];
    for (const answer of answers) {
      const body = answer.json();
      expect(new Set(leafPaths(body))).toEqual(new Set(PUBLIC_FIELDS));
      expect(body.sms).toEqual({ driver: 'twilio', from_number: '+14155550123' });
      const text = answer.body + JSON.stringify(answer.headers);
      for (const value of [TOKEN, SECRET, SIGNATURE, ACCOUNT_SID, MESSAGING_SERVICE_SID, API_KEY, '[REDACTED]'])
        expect(text).not.toContain(value);
      // Other settings (the origin-bound domain, the allowed origins, test_mode) stay out of the body too.
      expect(answer.body).not.toContain('example.com');
      expect(answer.body).not.toContain('test_mode');
      for (const path of SECRET_PATHS) expect(text).not.toContain(path.split('.').pop()!);
    }
  });
});
