/**
 * The SMS templates page in a real browser, confirmed through the API: the list; an edit with the live preview
 * (message, encoding, characters, segments as the API measures them), errors beside their fields while typing and
 * on saving, a save, and a revert through its confirmation dialog (focus kept inside, Escape cancels); who sends a
 * template, and a sender override that a Twilio messaging service makes moot; previews with other values.
 */
import type { Page } from 'playwright-core';
import { beforeEach, describe, expect, it } from 'vitest';
import { dashboardSuite, expectFieldError, fieldError, fieldInput, focused, openSignedIn, type DashboardTab } from './browser.js';

const TEMPLATES_PAGE = '/dashboard/configure/messaging/sms-templates';
const DEFAULT_BODY = '{{code}} is your {{app_name}} verification code. It expires in {{expires_in_minutes}} minutes.';

const rows = (page: Page) => page.locator('.templates-table tbody tr');
const row = (page: Page, slug: string) => page.locator(`.templates-table tr[data-template="${slug}"]`);
const cell = (page: Page, slug: string, label: string) => row(page, slug).locator(`td[data-label="${label}"]`).textContent();
const previewPanel = (page: Page) => page.locator('.message-preview');

/** The preview once it shows what is typed now (the page asks the API after a pause in typing). */
async function settledPreview(page: Page): Promise<{ message: string | null; measure: string | null }> {
  await expect.poll(() => previewPanel(page).getAttribute('data-preview-state')).toBe('current');
  const message =
    (await page.locator('[data-preview-message]').count()) > 0 ? await page.locator('[data-preview-message]').textContent() : null;
  const measure = (await page.locator('[data-measure]').count()) > 0 ? await page.locator('[data-measure]').textContent() : null;
  return { message, measure };
}

describe('the SMS templates page', () => {
  // Webhook endpoints on loopback, to receive the messages authn.sh does not send.
  const suite = dashboardSuite({ serverPerTest: true, env: { AUTHN_WEBHOOKS_ALLOW_PRIVATE: 'true' } });
  let tab: DashboardTab;
  const template = async (slug: string) => (await suite.server.bapi('GET', `/v1/templates/sms/${slug}`)).json();

  beforeEach(async () => {
    tab = await suite.openTab();
  });

  const open = async (path = TEMPLATES_PAGE) => {
    await openSignedIn(tab, suite.server, path);
    await expect.poll(() => tab.page.locator('.state-loading').count()).toBe(0);
    return tab.page;
  };

  it('lists the four templates with their sample message, size, sender and who sends them', async () => {
    const page = await open();
    expect(await rows(page).count()).toBe(4);
    expect(await row(page, 'verification_code').getAttribute('data-template')).toBe('verification_code');
    expect(await cell(page, 'verification_code', 'Template')).toBe('Verification code Defaultverification_code');
    expect(await cell(page, 'verification_code', 'Sample message')).toBe(
      '123456 is your authn.sh verification code. It expires in 10 minutes.',
    );
    expect(await cell(page, 'verification_code', 'Size')).toBe('GSM-7 · 68 characters · 1 segment');
    expect(await cell(page, 'verification_code', 'Sender')).toBe('The from number of the SMS settings');
    expect(await cell(page, 'verification_code', 'Sent by')).toBe('authn.sh');
    expect(await cell(page, 'invitation', 'Sample message')).toBe('Ada invited you to authn.sh: https://app.example.com/invite/abc123');
  });

  it('edits with a live preview, shows errors beside the fields, saves, and reverts after confirming', async () => {
    const page = await open();
    await page.getByRole('link', { name: 'Verification code' }).click();
    expect(new URL(page.url()).searchParams.get('template')).toBe('verification_code');
    // The template's name takes the focus; the preview starts with the stored body.
    await expect.poll(async () => (await focused(page)).text).toContain('Verification code');
    expect(await settledPreview(page)).toEqual({
      message: '123456 is your authn.sh verification code. It expires in 10 minutes.',
      measure: 'GSM-7 · 68 characters · 1 segment',
    });
    const body = fieldInput(page, 'body');
    expect(await body.inputValue()).toBe(DEFAULT_BODY);

    // One character outside GSM-7 makes the whole message UCS-2, and the page says which.
    await body.fill('Your {{app_name}} code: {{code}} ✓');
    expect(await settledPreview(page)).toEqual({ message: 'Your authn.sh code: 123456 ✓', measure: 'UCS-2 · 28 characters · 1 segment' });
    expect(await page.locator('.ucs2-characters').textContent()).toBe('✓');

    // The preview's refusal appears beside the field as soon as typing pauses, and nothing is saved.
    await body.fill('Your code is ready');
    await expectFieldError(page, 'body', 'Message: the message must contain {{code}}');
    expect((await settledPreview(page)).message).toBeNull();
    expect(await previewPanel(page).textContent()).toContain('No preview until the fields marked with an error are fixed.');

    // Over ten segments: no preview, but the size still shows (from the refusal).
    await body.fill(`${'x'.repeat(1600)}{{code}}`);
    await expectFieldError(page, 'body', 'the most is 10 segments');
    expect(await settledPreview(page)).toEqual({ message: null, measure: 'GSM-7 · 1606 characters · 11 segments' });

    // A variable inserted at the cursor, with a button.
    await body.fill('Code for {{app_name}}: ');
    await page.getByRole('button', { name: 'Insert {{code}}' }).click();
    await expect.poll(() => body.inputValue()).toBe('Code for {{app_name}}: {{code}}');
    await expect.poll(async () => (await focused(page)).id).toBe('field-body');
    expect(await settledPreview(page)).toEqual({ message: 'Code for authn.sh: 123456', measure: 'GSM-7 · 25 characters · 1 segment' });
    expect(await fieldError(page, 'body').count()).toBe(0);

    // A bad sender: refused on saving, beside its field, and nothing changes.
    await fieldInput(page, 'from_number_override').fill('not a number!');
    await page.getByRole('button', { name: 'Save template' }).click();
    await expectFieldError(page, 'from_number_override', 'Sender for this template must be an E.164 number', { summary: true });
    expect((await template('verification_code')).customised).toBe(false);

    await fieldInput(page, 'from_number_override').fill('+15555550123');
    expect(await fieldError(page, 'from_number_override').count()).toBe(0);
    await page.getByRole('button', { name: 'Save template' }).click();
    await expect.poll(() => page.locator('.save-state').textContent()).toBe('Saved. The next message uses it.');
    expect(await template('verification_code')).toMatchObject({
      body: 'Code for {{app_name}}: {{code}}',
      from_number_override: '+15555550123',
      customised: true,
      sample_message: 'Code for authn.sh: 123456',
    });
    expect(await page.locator('.editor-title .badge').textContent()).toBe('Customised');

    // Revert asks first. The dialog holds the focus, starting on Cancel; Escape cancels and changes nothing.
    const revert = page.getByRole('button', { name: 'Revert to default' });
    await revert.click();
    const dialog = page.getByRole('dialog', { name: 'Revert "Verification code"?' });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    await expect.poll(async () => (await focused(page)).text).toBe('Cancel');
    await page.keyboard.press('Tab');
    expect((await focused(page)).text).toBe('Revert');
    await page.keyboard.press('Tab');
    expect((await focused(page)).text).toBe('Cancel');
    await page.keyboard.press('Shift+Tab');
    expect((await focused(page)).text).toBe('Revert');
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.count()).toBe(0);
    expect((await focused(page)).text).toBe('Revert to default');
    expect((await template('verification_code')).customised).toBe(true);

    // Confirmed: back to the shipped default, in the page and in the API.
    await revert.click();
    await dialog.getByRole('button', { name: 'Revert' }).click();
    await expect.poll(() => dialog.count()).toBe(0);
    await expect.poll(() => page.locator('.save-state').textContent()).toBe('Reverted to the shipped default.');
    expect(await template('verification_code')).toMatchObject({ body: DEFAULT_BODY, from_number_override: null, customised: false });
    expect(await body.inputValue()).toBe(DEFAULT_BODY);
    expect(await fieldInput(page, 'from_number_override').inputValue()).toBe('');
    expect(await revert.count()).toBe(0);
    // The button that opened the dialog is gone: the focus goes to the template's name.
    await expect.poll(async () => (await focused(page)).tag).toBe('h2');

    const audit = (await suite.server.bapi('GET', '/v1/audit_logs?action=sms_template.*')).json().data;
    expect(audit.map((entry: { action: string }) => entry.action)).toEqual(['sms_template.reverted', 'sms_template.updated']);

    // Back to the list, which shows the default again.
    await page.getByRole('link', { name: '← All SMS templates' }).click();
    await expect.poll(() => rows(page).count()).toBe(4);
    expect(await cell(page, 'verification_code', 'Template')).toContain('Default');
  });

  it('hands a template to the operator, and says when a messaging service makes its sender moot', async () => {
    const patched = await suite.server.bapi('PATCH', '/v1/instance', {
      sms: {
        driver: 'twilio',
        twilio: { account_sid: `AC${'a1'.repeat(16)}`, auth_token: 'b2'.repeat(16), messaging_service_sid: `MG${'c3'.repeat(16)}` },
      },
    });
    expect(patched.statusCode).toBe(200);
    const page = await open(`${TEMPLATES_PAGE}?template=password_changed`);
    await expect.poll(() => page.locator('.editor-title').textContent()).toContain('Password changed');
    expect(await page.locator('#field-from_number_override-hint').textContent()).toContain(
      'Ignored now: a Twilio messaging service is set',
    );

    await page.getByLabel('authn.sh sends this message').uncheck();
    await expect.poll(() => page.locator('.save-state').textContent()).toBe('You have unsaved changes.');
    await page.getByRole('button', { name: 'Save template' }).click();
    // No endpoint receives the messages: saving asks first.
    await page.getByRole('dialog').getByRole('button', { name: 'Save and stop sending' }).click();
    await expect.poll(() => page.locator('.save-state').textContent()).toBe('Saved. The next message uses it.');
    expect(await template('password_changed')).toMatchObject({
      delivered_by_us: false,
      customised: true,
      from_number_override_ignored: true,
    });

    await page.getByRole('link', { name: '← All SMS templates' }).click();
    await expect.poll(() => rows(page).count()).toBe(4);
    expect(await cell(page, 'password_changed', 'Sent by')).toBe('You (from the sms.queued event)');
    expect(await cell(page, 'password_changed', 'Sender')).toBe('The Twilio messaging service');
  });

  it('warns before verification codes stop when no webhook endpoint would receive them, and says where they go when one does', async () => {
    const page = await open(`${TEMPLATES_PAGE}?template=verification_code`);
    const where = page.locator('.operator-delivery');
    await page.getByLabel('authn.sh sends this message').uncheck();
    await expect.poll(() => where.getAttribute('data-operator-delivery')).toBe('nowhere');
    expect(await where.textContent()).toContain(
      'No enabled webhook endpoint receives sms.queued: these messages would go nowhere. Nobody could sign up, sign in or add a phone number with a code.',
    );

    // Saving asks; Cancel (or Escape) keeps the codes going, and nothing is saved.
    await page.getByRole('button', { name: 'Save template' }).click();
    const dialog = page.getByRole('dialog', { name: 'Stop sending "Verification code" messages?' });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    expect(await dialog.textContent()).toContain(
      'No enabled webhook endpoint receives sms.queued. authn.sh would record each of these messages and send it nowhere.',
    );
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
    expect((await template('verification_code')).delivered_by_us).toBe(true);
    expect(await page.locator('.save-state').textContent()).toBe('You have unsaved changes.');
    await page.getByRole('button', { name: 'Discard changes' }).click();

    // Endpoints: one takes sms.queued, one takes every event but is disabled, one takes other events only.
    const create = async (body: Record<string, unknown>) => {
      const created = await suite.server.bapi('POST', '/v1/webhooks/endpoints', body);
      expect(created.statusCode).toBe(200);
      return created.json() as { id: string; url: string };
    };
    const receiver = await create({ url: 'http://127.0.0.1:9/codes', event_types: ['sms.queued', 'sms.failed'] });
    await create({ url: 'http://127.0.0.1:9/disabled', enabled: false });
    await create({ url: 'http://127.0.0.1:9/other', event_types: ['sms.delivered'] });
    await page.reload();
    await page.getByLabel('authn.sh sends this message').uncheck();
    await expect.poll(() => where.getAttribute('data-operator-delivery')).toBe('endpoints');
    expect(await where.locator('a').allTextContents()).toEqual([receiver.url]);
    expect(await where.locator('a').getAttribute('href')).toBe(`/dashboard/configure/webhooks?endpoint=${receiver.id}`);
    // Somewhere to go: saved at once.
    await page.getByRole('button', { name: 'Save template' }).click();
    await expect.poll(() => page.locator('.save-state').textContent()).toBe('Saved. The next message uses it.');
    expect(await page.getByRole('dialog').count()).toBe(0);
    expect((await template('verification_code')).delivered_by_us).toBe(false);
  });

  it('previews with other values, cleaned as a send would, and refuses a bad one beside its field', async () => {
    const page = await open(`${TEMPLATES_PAGE}?template=invitation`);
    await expect
      .poll(() => settledPreview(page).then((p) => p.message))
      .toBe('Ada invited you to authn.sh: https://app.example.com/invite/abc123');
    await page.getByText('Preview with other values').click();
    await page.getByLabel('inviter_name').fill('Grace 123 Hopper');
    await expect
      .poll(() => settledPreview(page).then((p) => p.message))
      .toBe('Grace Hopper invited you to authn.sh: https://app.example.com/invite/abc123');
    await page.getByLabel('action_url').fill('javascript:alert(1)');
    await expectFieldError(page, 'variables.action_url', 'Preview value action_url must be an absolute http or https URL');
    expect(await previewPanel(page).textContent()).toContain('No preview until the fields marked with an error are fixed.');
    // Values are for the preview only: nothing is saved, so there is nothing to save.
    expect(await page.locator('.save-state').textContent()).toBe('This is the shipped default.');
    expect((await template('invitation')).customised).toBe(false);
  });
});
