/**
 * The SMS wizard in a real browser, confirmed through the API: Twilio and Vonage configured with a field error seen
 * beside its field and fixed, write-only secrets shown only as set / not set, and back to the null driver. Every
 * secret typed is then looked for in the page, its inputs, its storage and every response it received.
 */
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { beforeEach, describe, expect, it } from 'vitest';
import { dashboardSuite, expectFieldError, expectSecretGone, fieldError, fieldIdOf, fieldInput, inputValues, openSignedIn, type DashboardTab } from './browser.js';

const SMS_PAGE = '/dashboard/configure/messaging/sms';
const ACCOUNT_SID = `AC${randomBytes(16).toString('hex')}`;
const SERVICE_SID = `MG${randomBytes(16).toString('hex')}`;

const secretState = (page: Page, param: string) =>
  page.locator(`[role=group][aria-labelledby="${fieldIdOf(param)}-name"] [data-secret-state]`).getAttribute('data-secret-state');

async function save(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Save settings' }).click();
}

async function expectSaved(page: Page, what: string): Promise<void> {
  await expect.poll(() => page.locator('.save-state').textContent()).toBe(`Saved: ${what}.`);
}

/** A refused save: the error beside its field, and the summary (which took the focus) linking to it. */
const expectSaveError = (page: Page, param: string, text: string) => expectFieldError(page, param, text, { summary: true });

describe('the SMS wizard', () => {
  const suite = dashboardSuite({ serverPerTest: true });
  let tab: DashboardTab;
  const settings = async () => (await suite.server.bapi('GET', '/v1/instance')).json();

  beforeEach(async () => {
    tab = await suite.openTab();
    await openSignedIn(tab, suite.server, SMS_PAGE);
    await expect.poll(() => tab.page.getByLabel('Null driver').isChecked()).toBe(true);
  });

  it('configures Twilio: a field error beside the field, fixed, saved, secrets never shown again; then back to null', async () => {
    const { page } = tab;
    const token = randomBytes(16).toString('hex');
    await page.getByLabel('Twilio', { exact: true }).check();
    expect(await secretState(page, 'sms.twilio.auth_token')).toBe('not set');

    await fieldInput(page, 'sms.twilio.account_sid').fill('AC123');
    await fieldInput(page, 'sms.twilio.auth_token').fill(token);
    await fieldInput(page, 'sms.from_number').fill('+15555550100');
    await save(page);
    await expectSaveError(page, 'sms.twilio.account_sid', 'sms.twilio.account_sid must be "AC" followed by 32 letters or digits');
    // Refused as a whole: nothing changed.
    expect((await settings()).sms.driver).toBeNull();
    expect((await settings()).sms.twilio.auth_token).toBeNull();

    // The typed token stays in its input for the retry; the SID is fixed.
    await fieldInput(page, 'sms.twilio.account_sid').fill(ACCOUNT_SID);
    await save(page);
    await expectSaved(page, 'driver, from number, Twilio account SID, Twilio auth token');
    expect(await fieldError(page, 'sms.twilio.account_sid').count()).toBe(0);
    let saved = await settings();
    expect(saved.sms).toMatchObject({ driver: 'twilio', from_number: '+15555550100', twilio: { account_sid: ACCOUNT_SID, auth_token: '[REDACTED]', messaging_service_sid: null } });

    // Set, with Replace and Clear, and no input holding it.
    expect(await secretState(page, 'sms.twilio.auth_token')).toBe('set');
    expect(await fieldInput(page, 'sms.twilio.auth_token').count()).toBe(0);
    await page.getByRole('button', { name: 'Replace auth token' }).click();
    expect(await fieldInput(page, 'sms.twilio.auth_token').inputValue()).toBe('');
    await page.getByRole('button', { name: 'Cancel auth token' }).click();
    expect(await page.getByRole('button', { name: 'Clear auth token' }).isVisible()).toBe(true);

    // A messaging service instead of a number: a bad SID first.
    await page.getByLabel('A Twilio Messaging Service').check();
    expect(await fieldInput(page, 'sms.from_number').count()).toBe(0);
    await fieldInput(page, 'sms.twilio.messaging_service_sid').fill('MG1');
    await save(page);
    await expectSaveError(page, 'sms.twilio.messaging_service_sid', 'must be "MG" followed by 32 letters or digits');
    await fieldInput(page, 'sms.twilio.messaging_service_sid').fill(SERVICE_SID);
    await save(page);
    await expectSaved(page, 'Twilio messaging service');
    expect((await settings()).sms.twilio.messaging_service_sid).toBe(SERVICE_SID);
    await expect.poll(() => page.locator('#wizard-intro').textContent()).toContain(`Twilio, sending from messaging service ${SERVICE_SID}.`);

    // Clearing the token of the active driver is refused by the API, beside the field.
    await page.getByRole('button', { name: 'Clear auth token' }).click();
    expect(await page.getByText('Will be cleared when you save.').isVisible()).toBe(true);
    await save(page);
    await expect.poll(() => page.locator('.error-summary').textContent()).toContain('sms.twilio.auth_token is required when sms.driver is twilio');
    expect((await settings()).sms.twilio.auth_token).toBe('[REDACTED]');
    await page.getByRole('button', { name: 'Undo clear auth token' }).click();

    // Back to the null driver: the Twilio settings stay stored until removed.
    await page.getByLabel('Null driver').check();
    await save(page);
    await expectSaved(page, 'driver');
    saved = await settings();
    expect(saved.sms.driver).toBeNull();
    expect(saved.sms.twilio.auth_token).toBe('[REDACTED]');
    await page.getByLabel('Remove the stored Twilio settings when I save').check();
    await save(page);
    await expectSaved(page, 'stored Twilio settings (removed)');
    expect((await settings()).sms.twilio).toEqual({ account_sid: null, auth_token: null, messaging_service_sid: null });
    expect(await page.getByLabel('Remove the stored Twilio settings when I save').count()).toBe(0);

    await expectSecretGone(tab, token);
  });

  it('configures Vonage with a signed-receipt secret, replaces and clears secrets, then goes back to null', async () => {
    const { page } = tab;
    const apiSecret = `vs-${randomBytes(8).toString('hex')}`;
    const newApiSecret = `vs-${randomBytes(8).toString('hex')}`;
    const signatureSecret = `sig-${randomBytes(12).toString('hex')}`;
    await page.getByLabel('Vonage', { exact: true }).check();
    await fieldInput(page, 'sms.vonage.api_key').fill('abcd1234');
    await fieldInput(page, 'sms.vonage.api_secret').fill(apiSecret);
    await fieldInput(page, 'sms.from_number').fill('Acme Inc');
    await fieldInput(page, 'sms.vonage.signature_secret').fill(signatureSecret);
    await fieldInput(page, 'sms.vonage.signature_method').selectOption('sha256');
    await save(page);
    await expectSaveError(page, 'sms.from_number', 'sms.from_number');
    expect((await settings()).sms.driver).toBeNull();

    await fieldInput(page, 'sms.from_number').fill('AcmeInc');
    await save(page);
    await expectSaved(page, 'driver, from number, Vonage API key, Vonage API secret, Vonage signature secret, Vonage signature method');
    expect((await settings()).sms).toMatchObject({
      driver: 'vonage',
      from_number: 'AcmeInc',
      vonage: { api_key: 'abcd1234', api_secret: '[REDACTED]', signature_secret: '[REDACTED]', signature_method: 'sha256' },
    });
    expect(await secretState(page, 'sms.vonage.api_secret')).toBe('set');
    expect(await secretState(page, 'sms.vonage.signature_secret')).toBe('set');

    // Replace the API secret (the API only says "set"; the audit log records a change).
    await page.getByRole('button', { name: 'Replace API secret' }).click();
    await fieldInput(page, 'sms.vonage.api_secret').fill(newApiSecret);
    await save(page);
    await expectSaved(page, 'Vonage API secret');
    const audit = (await suite.server.bapi('GET', '/v1/audit_logs?action=instance.updated&limit=1')).json().data[0];
    expect(audit.data.changes).toEqual([{ path: 'sms.vonage.api_secret', change: 'set' }]);

    // Clear the optional signature secret.
    await page.getByRole('button', { name: 'Clear signature secret' }).click();
    await save(page);
    await expectSaved(page, 'Vonage signature secret');
    expect((await settings()).sms.vonage.signature_secret).toBeNull();
    expect(await secretState(page, 'sms.vonage.signature_secret')).toBe('not set');

    // Typing into an empty credential is an unsaved change, until discarded.
    await fieldInput(page, 'sms.vonage.signature_secret').fill(signatureSecret);
    await expect.poll(() => page.locator('.save-state').textContent()).toBe('You have unsaved changes.');
    await page.getByRole('button', { name: 'Discard changes' }).click();
    await expect.poll(() => page.locator('.save-state').textContent()).toBe('All changes saved.');
    expect(await fieldInput(page, 'sms.vonage.signature_secret').inputValue()).toBe('');

    await page.getByLabel('Null driver').check();
    await save(page);
    await expectSaved(page, 'driver');
    expect((await settings()).sms.driver).toBeNull();

    for (const secret of [apiSecret, newApiSecret, signatureSecret]) await expectSecretGone(tab, secret);
  });

  it('sets the app name, test mode and the phone second factor', async () => {
    const { page } = tab;
    await fieldInput(page, 'app_name').fill('Acme {x}');
    await page.getByLabel('Enabled', { exact: true }).check();
    await save(page);
    await expectSaveError(page, 'app_name', 'app_name must be 1 to 40 characters on one line');
    expect((await settings()).test_mode).toBe('disabled');

    await fieldInput(page, 'app_name').fill('Acme');
    await page.getByLabel('Let users enrol their phone as a second factor').uncheck();
    await save(page);
    await expectSaved(page, 'app name, test mode, phone second factor');
    expect(await settings()).toMatchObject({ app_name: 'Acme', test_mode: 'enabled', multi_factor: { phone_code: { enabled: false } } });

    // Nothing left to save; a reload shows what is stored.
    await save(page);
    await expect.poll(() => page.locator('.save-state').textContent()).toBe('Nothing to save: no setting has changed.');
    await page.reload();
    await expect.poll(() => page.getByLabel('Enabled', { exact: true }).isChecked()).toBe(true);
    expect(await fieldInput(page, 'app_name').inputValue()).toBe('Acme');
    expect(await page.getByLabel('Let users enrol their phone as a second factor').isChecked()).toBe(false);
  });

  it('discards unsaved changes, typed secrets included', async () => {
    const { page } = tab;
    const token = randomBytes(16).toString('hex');
    await page.getByLabel('Twilio', { exact: true }).check();
    await fieldInput(page, 'sms.twilio.auth_token').fill(token);
    await expect.poll(() => page.locator('.save-state').textContent()).toBe('You have unsaved changes.');
    // The check below can see a typed value: until discarded, it is in its input.
    expect(await inputValues(page)).toContain(token);
    await page.getByRole('button', { name: 'Discard changes' }).click();
    expect(await page.getByLabel('Null driver').isChecked()).toBe(true);
    await page.getByLabel('Twilio', { exact: true }).check();
    expect(await fieldInput(page, 'sms.twilio.auth_token').inputValue()).toBe('');
    expect((await settings()).sms.driver).toBeNull();
    await expectSecretGone(tab, token);
  });

  it('marks the place of the "send a test SMS" step, which is not available yet', async () => {
    const step = tab.page.locator('#step-test-sms');
    expect(await step.getByRole('heading').textContent()).toContain('Send a test SMS');
    expect(await step.textContent()).toContain('Not available yet.');
  });
});
