/**
 * The main flows with the keyboard alone: sign in, skip to content, move through the navigation, configure a driver
 * in the wizard (arrow keys in the driver choice, Replace / Cancel returning focus), filter and page the audit log,
 * edit, save and revert an SMS template (the confirmation dialog included), add a webhook endpoint, keep its secret
 * and send it a test event, the phone-width menu (Escape closes it). Every control that takes focus on the way must show a visible
 * focus ring.
 */
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { Receiver, webhookEnv } from '../webhooks/receiver.js';
import { dashboardSuite, dashboardUrl, focused, heading, type FocusedElement as Focused, type ViewportName } from './browser.js';

/** Presses Tab (or Shift+Tab) until `found` matches the focused element; each control passed must show its focus. */
async function tabTo(page: Page, found: (el: Focused) => boolean, options: { back?: boolean } = {}): Promise<Focused> {
  for (let presses = 0; presses < 80; presses++) {
    await page.keyboard.press(options.back ? 'Shift+Tab' : 'Tab');
    const el = await focused(page);
    // A date input's picker button is drawn by the browser, focus ring included; everything else is ours.
    if (['a', 'button', 'input', 'select', 'textarea', 'summary'].includes(el.tag) && el.ownFocus) {
      expect(el.outlineStyle, `focus ring of ${el.tag}#${el.id} "${el.text}"`).not.toBe('none');
      expect(el.outlineWidth, `focus ring of ${el.tag}#${el.id} "${el.text}"`).toBeGreaterThanOrEqual(2);
    }
    if (found(el)) return el;
  }
  throw new Error('the element was not reached with the keyboard');
}

const byText = (text: string) => (el: Focused) => el.text === text;
const byId = (id: string) => (el: Focused) => el.id === id;

/** Follows a navigation link with the keyboard (Tab, or Shift+Tab when it is behind), then waits for its page. */
async function goTo(page: Page, title: string, options: { back?: boolean } = {}): Promise<void> {
  await tabTo(page, byText(title), options);
  await page.keyboard.press('Enter');
  await expect.poll(() => heading(page)).toBe(title);
}

describe('keyboard only', () => {
  const suite = dashboardSuite({
    env: webhookEnv(),
    async seed(server) {
      for (let i = 0; i < 30; i++) expect((await server.bapi('PATCH', '/v1/instance', { app_name: `App ${i}` })).statusCode).toBe(200);
    },
  });

  const signInByKeyboard = async (viewport: ViewportName = 'laptop') => {
    const { page } = await suite.openTab({ viewport });
    await page.goto(dashboardUrl(suite.server));
    // The key field has the focus from the start; Enter submits.
    await expect.poll(async () => (await focused(page)).id).toBe('secret-key');
    await page.keyboard.type(suite.server.key);
    await page.keyboard.press('Enter');
    await expect.poll(() => heading(page)).toBe('SMS');
    // The new page's heading takes the focus.
    await expect.poll(async () => (await focused(page)).tag).toBe('h1');
    return page;
  };

  it('signs in, skips to the content, and moves through the navigation', async () => {
    const page = await signInByKeyboard();
    await page.reload();
    await expect.poll(() => heading(page)).toBe('SMS');
    const skip = await tabTo(page, () => true);
    expect(skip.text).toBe('Skip to content');
    expect(await page.getByRole('link', { name: 'Skip to content' }).isVisible()).toBe(true);
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await focused(page)).id).toBe('main');

    // Back up into the navigation (it sits before the page content), then open the audit log.
    await goTo(page, 'Audit log', { back: true });
    await expect.poll(async () => `${(await focused(page)).tag}: ${(await focused(page)).text}`).toBe('h1: Audit log');
  });

  it('configures Twilio in the wizard', async () => {
    const page = await signInByKeyboard();
    const token = randomBytes(16).toString('hex');
    // The driver choice is one tab stop; arrow keys move the choice.
    await tabTo(page, byId('driver-null'));
    await page.keyboard.press('ArrowRight');
    expect((await focused(page)).id).toBe('driver-twilio');
    expect(await page.getByLabel('Twilio', { exact: true }).isChecked()).toBe(true);

    await tabTo(page, byId('field-sms-twilio-account_sid'));
    await page.keyboard.type(`AC${randomBytes(16).toString('hex')}`);
    await page.keyboard.press('Tab');
    expect((await focused(page)).id).toBe('field-sms-twilio-auth_token');
    await page.keyboard.type(token);
    await tabTo(page, byId('field-sms-from_number'));
    await page.keyboard.type('+15555550100');
    await page.keyboard.press('Enter');
    await expect
      .poll(() => page.locator('.save-state').textContent())
      .toBe('Saved: driver, Twilio account SID, Twilio auth token, from number.');
    expect((await suite.server.bapi('GET', '/v1/instance')).json().sms).toMatchObject({
      driver: 'twilio',
      twilio: { auth_token: '[REDACTED]' },
    });

    // Replace moves the focus into the new input; Cancel brings it back to Replace.
    await tabTo(page, byText('Replace auth token'), { back: true });
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await focused(page)).id).toBe('field-sms-twilio-auth_token');
    await tabTo(page, byText('Cancel auth token'));
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await focused(page)).text).toBe('Replace auth token');

    // A refused save puts the focus on the error summary; its link leads to the field.
    await tabTo(page, byId('field-sms-from_number'));
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type('12');
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await focused(page)).text).toContain('The settings were not saved');
    await tabTo(page, (el) => el.tag === 'a' && el.text.startsWith('From number'));
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await focused(page)).id).toBe('field-sms-from_number');
  });

  it('filters and pages the audit log', async () => {
    const page = await signInByKeyboard();
    await goTo(page, 'Audit log', { back: true });
    await tabTo(page, byId('field-action'));
    await page.keyboard.type('instance.updated');
    await page.keyboard.press('Enter');
    await expect.poll(() => new URL(page.url()).searchParams.get('action')).toBe('instance.updated');
    await expect.poll(() => page.locator('.data-table tbody tr').count()).toBe(25);
    // 30 changes from the set-up, and whatever the wizard test saved.
    const total = (await suite.server.bapi('GET', '/v1/audit_logs?action=instance.updated&limit=500')).json().data.length;
    expect(total).toBeGreaterThan(25);
    await tabTo(page, byText('Load older entries'));
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('.data-table tbody tr').count()).toBe(total);
  });

  it('edits, saves and reverts an SMS template', async () => {
    const page = await signInByKeyboard();
    await goTo(page, 'SMS templates');
    await tabTo(page, byText('Reset password code'));
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await focused(page)).text).toContain('Reset password code');

    await tabTo(page, byId('field-body'));
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type('Reset code: ');
    // A variable button inserts at the caret and gives the focus back to the field.
    await tabTo(page, byText('Insert {{code}}'));
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await focused(page)).id).toBe('field-body');
    expect(await page.locator('#field-body').inputValue()).toBe('Reset code: {{code}}');
    await tabTo(page, byText('Save template'));
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('.save-state').textContent()).toBe('Saved. The next message uses it.');
    expect((await suite.server.bapi('GET', '/v1/templates/sms/reset_password_code')).json().body).toBe('Reset code: {{code}}');

    // The dialog: the focus starts on Cancel, Tab reaches Revert, Enter confirms.
    await tabTo(page, byText('Revert to default'), { back: true });
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await focused(page)).text).toBe('Cancel');
    await tabTo(page, byText('Revert'));
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('.save-state').textContent()).toBe('Reverted to the shipped default.');
    expect((await suite.server.bapi('GET', '/v1/templates/sms/reset_password_code')).json().customised).toBe(false);
    await expect.poll(async () => (await focused(page)).text).toContain('Reset password code');
  });

  it('adds a webhook endpoint, keeps its secret, sends it a test event, and cancels a deletion', async () => {
    const receiver = await new Receiver().start();
    try {
      const page = await signInByKeyboard();
      await goTo(page, 'Webhooks');
      await tabTo(page, byText('Add an endpoint'));
      await page.keyboard.press('Enter');
      await expect.poll(async () => (await focused(page)).id).toBe('field-url');
      await page.keyboard.type(receiver.url);
      await page.keyboard.press('Enter');

      // The secret box takes the focus; Copy and "stored" are the next stops; then the focus is on the new endpoint.
      await expect.poll(async () => (await focused(page)).tag).toBe('section');
      await tabTo(page, byText('I have stored it, hide it'));
      await page.keyboard.press('Enter');
      await expect.poll(async () => (await focused(page)).text).toBe(receiver.url);
      await page.keyboard.press('Enter');
      await expect.poll(() => page.locator('.endpoint-title').textContent()).toContain(receiver.url);

      await tabTo(page, byText('Send a test event'));
      await page.keyboard.press('Enter');
      await expect.poll(() => page.locator('.deliveries > li').getAttribute('data-status'), { timeout: 15_000 }).toBe('succeeded');
      expect(receiver.events().map((event) => event.type)).toEqual(['webhook.test']);
      // A delivery's attempts open from the keyboard.
      await tabTo(page, byText('Send again the webhook.test delivery'));
      await tabTo(page, (el) => el.tag === 'summary');
      await page.keyboard.press('Enter');
      await expect.poll(() => page.locator('.attempts-table').isVisible()).toBe(true);

      // Escape cancels the deletion, and the focus is back on Delete.
      await tabTo(page, byText('Delete'), { back: true });
      await page.keyboard.press('Enter');
      await expect.poll(() => page.getByRole('dialog').isVisible()).toBe(true);
      await page.keyboard.press('Escape');
      await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
      await expect.poll(async () => (await focused(page)).text).toBe('Delete');
      expect((await suite.server.bapi('GET', '/v1/webhooks/endpoints')).json().data).toHaveLength(1);
    } finally {
      await receiver.stop();
    }
  });

  it('filters the messages and opens one', async () => {
    for (const to of ['+15555550142', '+15555550143'])
      expect((await suite.server.bapi('POST', '/v1/sms_messages/test', { to })).statusCode).toBe(202);
    const page = await signInByKeyboard();
    await goTo(page, 'Messages');
    await expect.poll(() => page.locator('.messages-table tbody tr').count()).toBeGreaterThan(0);
    // Arrow keys move a closed select's choice: "Test number" is the one before the last.
    await tabTo(page, byId('field-status'));
    await page.keyboard.press('End');
    await page.keyboard.press('ArrowUp');
    expect(await page.locator('#field-status option:checked').textContent()).toBe('Test number');
    await tabTo(page, byId('field-to'));
    await page.keyboard.type('+1 555 555 0143');
    await page.keyboard.press('Enter');
    await expect.poll(() => new URL(page.url()).search).toBe('?status=test_noop&to=%2B1+555+555+0143');
    await expect.poll(() => page.locator('.messages-table tbody tr').count()).toBe(1);
    // The message's link is its time (then, unseen, which message it is).
    await tabTo(page, (el) => el.tag === 'a' && /\d\d:\d\d:\d\d: message to \+15555550143/.test(el.text));
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('.message-title').textContent()).toBe('To +15555550143 Test number');
  });

  it('opens the phone-width menu and follows a link', async () => {
    const page = await signInByKeyboard('phone');
    expect(await page.getByRole('navigation', { name: 'Dashboard' }).isVisible()).toBe(false);
    await tabTo(page, byText('Menu'), { back: true });
    await page.keyboard.press('Enter');
    expect(await page.getByRole('button', { name: 'Menu' }).getAttribute('aria-expanded')).toBe('true');
    // Escape closes it and gives the focus back to its button, from which Enter opens it again.
    await tabTo(page, byText('SMS templates'));
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByRole('navigation', { name: 'Dashboard' }).isVisible()).toBe(false);
    expect(await page.getByRole('button', { name: 'Menu' }).getAttribute('aria-expanded')).toBe('false');
    expect((await focused(page)).text).toBe('Menu');
    await page.keyboard.press('Enter');
    expect(await page.getByRole('button', { name: 'Menu' }).getAttribute('aria-expanded')).toBe('true');
    await goTo(page, 'Webhooks');
    await expect.poll(() => page.getByRole('navigation', { name: 'Dashboard' }).isVisible()).toBe(false);
    await expect.poll(() => page.getByRole('button', { name: 'Add an endpoint' }).isVisible()).toBe(true);
  });
});
