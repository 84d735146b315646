/**
 * The SMS wizard in a real browser, confirmed through the API, against the carrier fakes of test/fakes (the server
 * sends to them, and their status callbacks reach the server through AUTHN_PUBLIC_URL): Twilio and Vonage
 * configured with a field error seen beside its field and fixed, write-only secrets shown only as set / not set, a
 * test SMS followed from queued through sent to delivered as the carrier reports, a carrier's refusal shown with
 * its code, and back to the null driver. Every secret typed is then looked for in the page, its inputs, its
 * storage, every response it received and its memory.
 */
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeTwilio, TWILIO_FAILURES } from '../fakes/twilio.js';
import { FakeVonage } from '../fakes/vonage.js';
import {
  carrierEnv,
  dashboardSuite,
  expectFieldError,
  expectSecretGone,
  fieldError,
  fieldIdOf,
  fieldInput,
  inputValues,
  openSignedIn,
  type DashboardTab,
} from './browser.js';

const SMS_PAGE = '/dashboard/configure/messaging/sms';
const ACCOUNT_SID = `AC${randomBytes(16).toString('hex')}`;
const SERVICE_SID = `MG${randomBytes(16).toString('hex')}`;
/** The credentials the fakes accept, typed into the wizard by the tests. */
const TWILIO_TOKEN = randomBytes(16).toString('hex');
const VONAGE = {
  apiKey: 'abcd1234',
  apiSecret: `vs-${randomBytes(8).toString('hex')}`,
  signatureSecret: `sig-${randomBytes(12).toString('hex')}`,
};
const FROM = '+14155550100';
const PHONE = '+14155550123';

const testSmsStatus = (page: Page) => page.locator('.test-sms-progress').getAttribute('data-test-sms-status');
/** The page follows a message once a second: a status may take a few polls to show. */
const expectTestSmsStatus = (page: Page, status: string) => expect.poll(() => testSmsStatus(page), { timeout: 10_000 }).toBe(status);
const road = (page: Page) => page.locator('.road li').evaluateAll((items) => items.map((li) => `${li.className}: ${li.textContent}`));

/** Sends a test SMS from the wizard's last step. */
async function sendTestSms(page: Page, to: string): Promise<void> {
  await fieldInput(page, 'to').fill(to);
  await page.getByRole('button', { name: 'Send test SMS' }).click();
}

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
  let twilio: FakeTwilio;
  let vonage: FakeVonage;
  // Callbacks by hand: each status change is the test's move, so the page is seen following it.
  beforeAll(async () => {
    twilio = await FakeTwilio.start({ accountSid: ACCOUNT_SID, authToken: TWILIO_TOKEN, callbacks: 'manual' });
    vonage = await FakeVonage.start({ ...VONAGE, signatureMethod: 'sha256', receipts: 'manual' });
  });
  afterAll(async () => {
    await twilio?.close();
    await vonage?.close();
    expect([...(twilio?.violations ?? []), ...(vonage?.violations ?? [])]).toEqual([]);
  });
  const suite = dashboardSuite({
    serverPerTest: true,
    env: () => carrierEnv({ twilio, vonage }),
  });
  let tab: DashboardTab;
  const settings = async () => (await suite.server.bapi('GET', '/v1/instance')).json();
  const lastMessage = async () => (await suite.server.bapi('GET', '/v1/sms_messages?limit=1')).json().data[0];

  beforeEach(async () => {
    tab = await suite.openTab();
    await openSignedIn(tab, suite.server, SMS_PAGE);
    await expect.poll(() => tab.page.getByLabel('Null driver').isChecked()).toBe(true);
  });

  it('configures Twilio, sends a test SMS that reaches delivered and one the carrier refuses, then goes back to null', async () => {
    const { page } = tab;
    const token = TWILIO_TOKEN;
    await page.getByLabel('Twilio', { exact: true }).check();
    expect(await secretState(page, 'sms.twilio.auth_token')).toBe('not set');

    await fieldInput(page, 'sms.twilio.account_sid').fill('AC123');
    await fieldInput(page, 'sms.twilio.auth_token').fill(token);
    await fieldInput(page, 'sms.from_number').fill(FROM);
    await save(page);
    await expectSaveError(page, 'sms.twilio.account_sid', 'Account SID must be "AC" followed by 32 letters or digits');
    // Refused as a whole: nothing changed.
    expect((await settings()).sms.driver).toBeNull();
    expect((await settings()).sms.twilio.auth_token).toBeNull();

    // The typed token stays in its input for the retry; the SID is fixed.
    await fieldInput(page, 'sms.twilio.account_sid').fill(ACCOUNT_SID);
    await save(page);
    await expectSaved(page, 'driver, Twilio account SID, Twilio auth token, from number');
    expect(await fieldError(page, 'sms.twilio.account_sid').count()).toBe(0);
    let saved = await settings();
    expect(saved.sms).toMatchObject({
      driver: 'twilio',
      from_number: FROM,
      twilio: { account_sid: ACCOUNT_SID, auth_token: '[REDACTED]', messaging_service_sid: null },
    });

    // A test SMS: a bad number is refused beside its field and queues nothing.
    await sendTestSms(page, '12');
    await expectFieldError(page, 'to', 'Phone number must be ', { summary: true });
    expect(await lastMessage()).toBeUndefined();
    // Queued, then sent once the carrier took it; delivered when the carrier's callback says so.
    await sendTestSms(page, PHONE);
    await expectTestSmsStatus(page, 'sent');
    expect(await road(page)).toEqual([
      'road-done: Queued (done)',
      'road-done: Sending (done)',
      'road-current: Sent (now)',
      'road-ahead: Delivered (not yet)',
    ]);
    const [accepted] = twilio.messagesTo(PHONE);
    expect(accepted).toMatchObject({
      accountSid: ACCOUNT_SID,
      from: FROM,
      body: 'This is a test message from authn.sh: your SMS settings work.',
    });
    await twilio.sendStatus(accepted!.sid, { status: 'delivered' });
    await expectTestSmsStatus(page, 'delivered');
    expect(await road(page)).toEqual([
      'road-done: Queued (done)',
      'road-done: Sending (done)',
      'road-done: Sent (done)',
      'road-done: Delivered (done)',
    ]);
    expect(await page.locator('.test-sms-status').textContent()).toBe(`Test SMS to ${PHONE}: Delivered`);

    // Its whole history is in the message log.
    await page.getByRole('link', { name: 'See it in the message log' }).click();
    await expect
      .poll(() => page.locator('.status-history li').evaluateAll((items) => items.map((li) => li.getAttribute('data-status'))))
      .toEqual(['queued', 'sent', 'delivered']);
    expect(await page.locator('.sms-attempts-table td[data-label="Carrier answer"]').textContent()).toBe(`HTTP 201 · id ${accepted!.sid}`);
    await page.goBack();
    await expect.poll(() => page.getByLabel('Twilio', { exact: true }).isChecked()).toBe(true);

    // The carrier refuses the next one: failed, with Twilio's code and words.
    twilio.fail(TWILIO_FAILURES.unsubscribed);
    await sendTestSms(page, PHONE);
    await expectTestSmsStatus(page, 'failed');
    expect(await road(page)).toEqual(['road-done: Queued (done)', 'road-done: Sending (done)', 'road-failed: Failed']);
    expect(await page.locator('.test-sms-progress .carrier-error[role="alert"]').textContent()).toBe(
      'Error: 21610 Attempt to send to unsubscribed recipient',
    );

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
    await expectSaveError(page, 'sms.twilio.messaging_service_sid', 'Messaging service SID must be "MG" followed by 32 letters or digits');
    await fieldInput(page, 'sms.twilio.messaging_service_sid').fill(SERVICE_SID);
    await save(page);
    await expectSaved(page, 'Twilio messaging service');
    expect((await settings()).sms.twilio.messaging_service_sid).toBe(SERVICE_SID);
    await expect
      .poll(() => page.locator('#wizard-intro').textContent())
      .toContain(`Twilio, sending from messaging service ${SERVICE_SID}.`);

    // Clearing the token of the active driver is refused by the API, beside the field.
    await page.getByRole('button', { name: 'Clear auth token' }).click();
    expect(await page.getByText('Will be cleared when you save.').isVisible()).toBe(true);
    await save(page);
    await expect.poll(() => page.locator('.error-summary').textContent()).toContain('Auth token is required.');
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

    // Under the null driver a test SMS is dropped, and the page says why.
    await sendTestSms(page, PHONE);
    await expectTestSmsStatus(page, 'dropped');
    expect(await page.locator('.test-sms-progress').textContent()).toContain('The null driver dropped it: nothing left the server.');

    // The token typed into the wizard: not in the page, its memory, or any answer, test SMS ones included.
    await expectSecretGone(tab, token);
  });

  it('configures Vonage with signed receipts: a wrong secret refused by the carrier, replaced, a test SMS delivered; then back to null', async () => {
    const { page } = tab;
    // First a secret Vonage does not know; then the right one.
    const apiSecret = `vs-${randomBytes(8).toString('hex')}`;
    const newApiSecret = VONAGE.apiSecret;
    const { signatureSecret } = VONAGE;
    await page.getByLabel('Vonage', { exact: true }).check();
    await fieldInput(page, 'sms.vonage.api_key').fill(VONAGE.apiKey);
    await fieldInput(page, 'sms.vonage.api_secret').fill(apiSecret);
    await fieldInput(page, 'sms.from_number').fill('Acme Inc');
    await fieldInput(page, 'sms.vonage.signature_secret').fill(signatureSecret);
    await fieldInput(page, 'sms.vonage.signature_method').selectOption('sha256');
    await save(page);
    await expectSaveError(page, 'sms.from_number', 'From number ');
    expect((await settings()).sms.driver).toBeNull();

    await fieldInput(page, 'sms.from_number').fill('AcmeInc');
    await save(page);
    await expectSaved(page, 'driver, Vonage API key, Vonage API secret, Vonage signature secret, Vonage signature method, from number');
    expect((await settings()).sms).toMatchObject({
      driver: 'vonage',
      from_number: 'AcmeInc',
      vonage: { api_key: 'abcd1234', api_secret: '[REDACTED]', signature_secret: '[REDACTED]', signature_method: 'sha256' },
    });
    expect(await secretState(page, 'sms.vonage.api_secret')).toBe('set');
    expect(await secretState(page, 'sms.vonage.signature_secret')).toBe('set');

    // The carrier refuses the wrong secret: the test SMS fails with Vonage's status code and text.
    await sendTestSms(page, '+447911123456');
    await expectTestSmsStatus(page, 'failed');
    expect(await page.locator('.test-sms-progress .carrier-error[role="alert"]').textContent()).toBe('Error: 4 Bad Credentials');

    // Replace the API secret (the API only says "set"; the audit log records a change).
    await page.getByRole('button', { name: 'Replace API secret' }).click();
    await fieldInput(page, 'sms.vonage.api_secret').fill(newApiSecret);
    await save(page);
    await expectSaved(page, 'Vonage API secret');
    const audit = (await suite.server.bapi('GET', '/v1/audit_logs?action=instance.updated&limit=1')).json().data[0];
    expect(audit.data.changes).toEqual([{ path: 'sms.vonage.api_secret', change: 'set' }]);

    // Now it goes: sent when Vonage takes it, delivered on its receipt (signed with SHA-256, which the server checks).
    await sendTestSms(page, '+447911123456');
    await expectTestSmsStatus(page, 'sent');
    const { carrier_message_id: partId } = await lastMessage();
    expect(vonage.parts.get(partId)?.request).toMatchObject({ api_key: VONAGE.apiKey, from: 'AcmeInc', to: '447911123456' });
    await vonage.sendReceipt(partId, { status: 'delivered' });
    await expectTestSmsStatus(page, 'delivered');
    expect(await page.locator('.test-sms-status').textContent()).toBe('Test SMS to +447911123456: Delivered');

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
    await expectSaveError(page, 'app_name', 'App name must be 1 to 40 characters on one line');
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

  it("speaks of a refusal's fields by their labels, in the order of the page", async () => {
    const { page } = tab;
    await page.getByLabel('Twilio', { exact: true }).check();
    await fieldInput(page, 'sms.twilio.account_sid').fill('AC1');
    await fieldInput(page, 'sms.from_number').fill('12');
    await fieldInput(page, 'app_name').fill('Acme {x}');
    await save(page);
    await expectSaveError(page, 'app_name', 'App name must be 1 to 40 characters on one line, without { or }');
    // The API reports the app name first and the missing token last; the page, as its fields come.
    expect(await page.locator('.error-summary li').allTextContents()).toEqual([
      'Account SID must be "AC" followed by 32 letters or digits form_param_format_invalid',
      'Auth token is required. form_param_missing',
      expect.stringMatching(/^From number .* form_param_format_invalid$/),
      'App name must be 1 to 40 characters on one line, without { or } form_param_format_invalid',
    ]);
    expect(await page.locator('.error-summary').textContent()).not.toMatch(/sms\.|app_name/);
    expect((await settings()).sms.driver).toBeNull();
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

  it('keeps password managers away from the credential inputs: masked, not password fields, marked to be ignored', async () => {
    const { page } = tab;
    const messages: string[] = [];
    page.on('console', (message) => messages.push(`${message.type()}: ${message.text()}`));
    // Vonage saved without a signature secret: its input is there from the start, and Replace adds the API secret's.
    const saved = await suite.server.bapi('PATCH', '/v1/instance', {
      sms: { driver: 'vonage', from_number: 'Acme', vonage: { api_key: VONAGE.apiKey, api_secret: VONAGE.apiSecret } },
    });
    expect(saved.statusCode).toBe(200);
    await page.reload();
    await page.getByRole('button', { name: 'Replace API secret' }).click();
    await fieldInput(page, 'sms.vonage.api_secret').fill(VONAGE.apiSecret);
    await fieldInput(page, 'sms.vonage.signature_secret').fill(VONAGE.signatureSecret);
    for (const param of ['sms.vonage.api_secret', 'sms.vonage.signature_secret']) {
      const input = fieldInput(page, param);
      expect(await input.getAttribute('type')).toBe('text');
      // Shown as dots all the same.
      expect(
        await page.evaluate(`getComputedStyle(document.getElementById('${fieldIdOf(param)}')).getPropertyValue('-webkit-text-security')`),
      ).toBe('disc');
      expect(await input.getAttribute('autocomplete')).toBe('off');
      for (const mark of ['data-1p-ignore', 'data-lpignore', 'data-bwignore', 'data-form-type'])
        expect(await input.getAttribute(mark), mark).not.toBeNull();
    }
    await page.getByLabel('Twilio', { exact: true }).check();
    await fieldInput(page, 'sms.twilio.auth_token').fill(TWILIO_TOKEN);
    expect(await fieldInput(page, 'sms.twilio.auth_token').getAttribute('type')).toBe('text');
    // No password field, so nothing for Chromium's password manager to remark on ("Password forms should have …").
    expect(await page.locator('input[type=password]').count()).toBe(0);
    await page.getByRole('button', { name: 'Discard changes' }).click();
    await expect.poll(() => page.locator('.save-state').textContent()).toBe('All changes saved.');
    expect(messages.filter((message) => /password/i.test(message))).toEqual([]);
  });

  it('sends a test SMS through the saved settings: Enter in its field sends it, not the settings; a test number is not sent', async () => {
    const { page } = tab;
    await fieldInput(page, 'app_name').fill('Acme');
    await expect
      .poll(() => page.locator('.test-sms .warning').textContent())
      .toBe('You have unsaved changes above: save them first if the test should use them.');
    await fieldInput(page, 'to').fill('+1 555 555 0142');
    await page.keyboard.press('Enter');
    await expectTestSmsStatus(page, 'test_noop');
    expect(await page.locator('.test-sms-progress').textContent()).toContain('That is a reserved test number');
    // The settings were not saved by that Enter, and the message used the saved app name.
    expect((await settings()).app_name).toBe('authn.sh');
    expect(await lastMessage()).toMatchObject({
      to_phone_number: '+15555550142',
      status: 'test_noop',
      body: 'This is a test message from authn.sh: your SMS settings work.',
    });
  });
});
