/** Env bootstrap: seeded once, ignored afterwards with a warning, invalid env refuses to start and seeds nothing. */
import { afterEach, describe, expect, it } from 'vitest';
import { StartupError } from '../../src/errors.js';
import { REDACTED } from '../../src/instance/settings.js';
import { STORES, createTestStore, startTestServer, type TestServer, type TestStore } from '../helpers/server.js';

const TWILIO_ENV = {
  AUTHN_SMS_DRIVER: 'twilio',
  AUTHN_SMS_FROM_NUMBER: '+14155550123',
  AUTHN_SMS_TWILIO_ACCOUNT_SID: `AC${'1'.repeat(32)}`,
  AUTHN_SMS_TWILIO_AUTH_TOKEN: 'BootstrapTokenBootstrapToken0001',
  AUTHN_TEST_MODE: 'enabled',
};

const ROUTED_ENV = {
  ...TWILIO_ENV,
  AUTHN_SMS_VONAGE_API_KEY: 'abcd1234',
  AUTHN_SMS_VONAGE_API_SECRET: 'efgh5678',
  AUTHN_SMS_ROUTES: ' GB, DE = vonage > twilio ;US=twilio; ',
  AUTHN_SMS_FAILOVER_DRIVER: 'vonage',
};

describe.each(STORES)('env bootstrap on %s', (kind) => {
  let store: TestStore | undefined;
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    await store?.cleanup();
    server = undefined;
    store = undefined;
  });

  it('seeds the settings on the first start only', async () => {
    store = await createTestStore(kind);
    server = await startTestServer(store, { env: TWILIO_ENV });
    const view = (await server.bapi('GET', '/v1/instance')).json();
    expect(view).toMatchObject({
      sms: {
        driver: 'twilio',
        from_number: '+14155550123',
        twilio: { account_sid: TWILIO_ENV.AUTHN_SMS_TWILIO_ACCOUNT_SID, auth_token: REDACTED },
      },
      test_mode: 'enabled',
    });
    const audit = (await server.bapi('GET', '/v1/audit_logs?action=instance.bootstrapped')).json().data;
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit)).not.toContain(TWILIO_ENV.AUTHN_SMS_TWILIO_AUTH_TOKEN);

    // A later start with different values: ignored, with a warning naming each differing variable.
    await server.close();
    const changed = {
      ...TWILIO_ENV,
      AUTHN_SMS_FROM_NUMBER: '+14155550199',
      AUTHN_SMS_TWILIO_AUTH_TOKEN: 'ChangedTokenChangedTokenChanged1',
    };
    server = await startTestServer(store, { env: changed });
    const after = (await server.bapi('GET', '/v1/instance')).json();
    expect(after).toEqual(view);
    expect((await server.running.services.instance.current()).sms.twilio.auth_token).toBe(TWILIO_ENV.AUTHN_SMS_TWILIO_AUTH_TOKEN);
    const warnings = server.logs.filter((l) => l.includes('"level":40') && l.includes('differs from the stored setting'));
    expect(warnings.map((l) => JSON.parse(l).variable).sort()).toEqual(['AUTHN_SMS_FROM_NUMBER', 'AUTHN_SMS_TWILIO_AUTH_TOKEN']);
    const allLogs = server.logs.join('');
    expect(allLogs).not.toContain('ChangedToken');
    expect(allLogs).not.toContain('BootstrapToken');
    expect(allLogs).not.toContain('+14155550199');
  });

  it('the same values on a later start raise no warning', async () => {
    store = await createTestStore(kind);
    server = await startTestServer(store, { env: TWILIO_ENV });
    await server.close();
    server = await startTestServer(store, { env: TWILIO_ENV });
    expect(server.logs.join('')).not.toContain('differs from the stored setting');
  });

  it('seeds routes and the failover driver, and a later start with the same values raises no warning', async () => {
    store = await createTestStore(kind);
    server = await startTestServer(store, { env: ROUTED_ENV });
    const { sms } = (await server.bapi('GET', '/v1/instance')).json();
    expect(sms.routes).toEqual([
      { countries: ['GB', 'DE'], driver: 'vonage', failover_driver: 'twilio' },
      { countries: ['US'], driver: 'twilio', failover_driver: null },
    ]);
    expect(sms.failover).toEqual({
      driver: 'vonage',
      after_transient_failures: 2,
      receipt_wait_seconds: 60,
      receipt_wait_templates: ['verification_code'],
    });
    await server.close();
    server = await startTestServer(store, { env: ROUTED_ENV });
    expect(server.logs.join('')).not.toContain('differs from the stored setting');
    await server.close();
    server = await startTestServer(store, { env: { ...ROUTED_ENV, AUTHN_SMS_ROUTES: 'GB=vonage' } });
    const warnings = server.logs.filter((l) => l.includes('differs from the stored setting'));
    expect(warnings.map((l) => JSON.parse(l).variable)).toEqual(['AUTHN_SMS_ROUTES']);
  });

  it.each([
    [{ AUTHN_SMS_DRIVER: 'twilio' }, 'AUTHN_SMS_TWILIO_ACCOUNT_SID'],
    [{ ...TWILIO_ENV, AUTHN_SMS_ROUTES: 'GB:vonage' }, 'AUTHN_SMS_ROUTES entry 1 must be COUNTRIES=DRIVER'],
    [{ ...TWILIO_ENV, AUTHN_SMS_ROUTES: 'US=twilio;GB=vonage>twilio>vonage' }, 'AUTHN_SMS_ROUTES entry 2 must be'],
    [{ ...TWILIO_ENV, AUTHN_SMS_ROUTES: 'GB=vonage' }, 'AUTHN_SMS_ROUTES: sms.routes.0.driver is vonage, whose settings are incomplete'],
    [{ ...TWILIO_ENV, AUTHN_SMS_ROUTES: 'GB,UK=twilio' }, 'AUTHN_SMS_ROUTES: sms.routes.0.countries.1 must be'],
    [{ ...TWILIO_ENV, AUTHN_SMS_FAILOVER_DRIVER: 'sinch' }, 'AUTHN_SMS_FAILOVER_DRIVER'],
    [
      { ...TWILIO_ENV, AUTHN_SMS_FAILOVER_DRIVER: 'vonage' },
      'AUTHN_SMS_FAILOVER_DRIVER: sms.failover.driver is vonage, whose settings are incomplete',
    ],
    [{ AUTHN_SMS_DRIVER: 'sinch' }, 'AUTHN_SMS_DRIVER'],
    [{ ...TWILIO_ENV, AUTHN_SMS_FROM_NUMBER: '555' + 'x' }, 'AUTHN_SMS_FROM_NUMBER'],
    [{ ...TWILIO_ENV, AUTHN_SMS_TWILIO_AUTH_TOKEN: 'TinyTok' }, 'AUTHN_SMS_TWILIO_AUTH_TOKEN'],
    [{ AUTHN_TEST_MODE: 'yes' }, 'AUTHN_TEST_MODE'],
    [
      {
        AUTHN_SMS_DRIVER: 'vonage',
        AUTHN_SMS_VONAGE_API_KEY: 'abcd1234',
        AUTHN_SMS_VONAGE_API_SECRET: 'efgh5678',
        AUTHN_SMS_FROM_NUMBER: 'Acme Auth',
      },
      'AUTHN_SMS_FROM_NUMBER',
    ],
  ])('refuses to start on invalid env %j and seeds nothing', async (env, variable) => {
    store = await createTestStore(kind);
    const attempt = startTestServer(store, { env });
    await expect(attempt).rejects.toBeInstanceOf(StartupError);
    await expect(attempt).rejects.toThrow(variable);
    await expect(attempt).rejects.not.toThrow('TinyTok');
    // Nothing was seeded: a start without the bad env now seeds the defaults.
    server = await startTestServer(store);
    expect((await server.bapi('GET', '/v1/instance')).json().sms.driver).toBeNull();
    expect((await server.bapi('GET', '/v1/audit_logs?action=instance.bootstrapped')).json().data[0].data.changes).toEqual([]);
  });
});
