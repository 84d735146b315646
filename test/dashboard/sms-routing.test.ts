/**
 * The SMS wizard's "Routing & failover" step in a real browser, confirmed through the API: a refused route shows
 * each error beside its field (a country by its code, a driver without credentials) and changes nothing; a route
 * and the failover settings are saved; a route is removed.
 */
import { describe, expect, it } from 'vitest';
import { dashboardSuite, expectFieldError, fieldError, fieldInput, openSignedIn } from './browser.js';

const SMS_PAGE = '/dashboard/configure/messaging/sms';
const TWILIO_ENV = {
  AUTHN_SMS_DRIVER: 'twilio',
  AUTHN_SMS_FROM_NUMBER: '+14155550100',
  AUTHN_SMS_TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
  AUTHN_SMS_TWILIO_AUTH_TOKEN: 'RoutingTestTokenRoutingTestToken',
};

describe('SMS routing and failover in the dashboard', () => {
  const suite = dashboardSuite({ env: TWILIO_ENV });
  const settings = async () => (await suite.server.bapi('GET', '/v1/instance')).json();
  const auditCount = async () => (await suite.server.bapi('GET', '/v1/audit_logs?limit=500')).json().data.length;

  it('refuses a route beside its fields and changes nothing, then saves a route and the failover settings, then removes the route', async () => {
    const tab = await suite.openTab();
    const { page } = tab;
    await openSignedIn(tab, suite.server, SMS_PAGE);
    await expect.poll(() => page.getByLabel('Twilio', { exact: true }).isChecked()).toBe(true);
    expect(await page.getByText('No routes: every country goes through the driver of step 1.').isVisible()).toBe(true);
    const before = await settings();
    const audits = await auditCount();

    // A route through Vonage, whose credentials are not stored, with a country code that is not one.
    await page.getByRole('button', { name: 'Add a route' }).click();
    expect(await fieldInput(page, 'sms.routes.0.driver').inputValue()).toBe('vonage');
    await fieldInput(page, 'sms.routes.0.countries').fill('gb, uk');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expectFieldError(
      page,
      'sms.routes.0.countries',
      'Countries of route 1: UK must be an upper-case ISO 3166-1 alpha-2 country code',
      { summary: true },
    );
    await expectFieldError(
      page,
      'sms.routes.0.driver',
      'Driver of route 1 is vonage, whose settings are incomplete: API key, API secret are not set',
    );
    expect(await settings()).toEqual(before);
    expect(await auditCount()).toBe(audits);

    // With Vonage's credentials stored (through the API) and the countries fixed, it is saved.
    const stored = await suite.server.bapi('PATCH', '/v1/instance', { sms: { vonage: { api_key: 'abcd1234', api_secret: 'efgh5678' } } });
    expect(stored.statusCode).toBe(200);
    await fieldInput(page, 'sms.routes.0.countries').fill('gb, de');
    await fieldInput(page, 'sms.routes.0.failover_driver').selectOption('twilio');
    await fieldInput(page, 'sms.failover.after_transient_failures').fill('3');
    await page.getByLabel('Fail over when no delivery receipt arrives').uncheck();
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect
      .poll(() => page.locator('.save-state').textContent())
      .toBe('Saved: routes, transient failures before failover, wait for a delivery receipt.');
    expect(await fieldError(page, 'sms.routes.0.driver').count()).toBe(0);
    expect((await settings()).sms).toMatchObject({
      routes: [{ countries: ['GB', 'DE'], driver: 'vonage', failover_driver: 'twilio' }],
      failover: { driver: null, after_transient_failures: 3, receipt_wait_seconds: null, receipt_wait_templates: ['verification_code'] },
    });
    // The page shows what was saved.
    expect(await fieldInput(page, 'sms.routes.0.countries').inputValue()).toBe('GB, DE');
    expect(await fieldInput(page, 'sms.failover.receipt_wait_seconds').count()).toBe(0);

    // An instance-wide failover driver, and the route removed.
    await fieldInput(page, 'sms.failover.driver').selectOption('vonage');
    await page.getByRole('button', { name: 'Remove route 1' }).click();
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => page.locator('.save-state').textContent()).toBe('Saved: routes, failover driver.');
    expect((await settings()).sms).toMatchObject({ routes: [], failover: { driver: 'vonage' } });
  });
});
