/**
 * The main flows with the keyboard alone: sign in, skip to content, move through the navigation, configure a driver
 * in the wizard (arrow keys in the driver choice, Replace / Cancel returning focus), filter and page the audit log,
 * the phone-width menu. Every control that takes focus on the way must show a visible focus ring.
 */
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { dashboardSuite, dashboardUrl, focused, heading, type FocusedElement as Focused, type ViewportName } from './browser.js';

/** Presses Tab (or Shift+Tab) until `found` matches the focused element; each control passed must show its focus. */
async function tabTo(page: Page, found: (el: Focused) => boolean, options: { back?: boolean } = {}): Promise<Focused> {
  for (let presses = 0; presses < 80; presses++) {
    await page.keyboard.press(options.back ? 'Shift+Tab' : 'Tab');
    const el = await focused(page);
    // A date input's picker button is drawn by the browser, focus ring included; everything else is ours.
    if (['a', 'button', 'input', 'select'].includes(el.tag) && el.ownFocus) {
      expect(el.outlineStyle, `focus ring of ${el.tag}#${el.id} "${el.text}"`).not.toBe('none');
      expect(el.outlineWidth, `focus ring of ${el.tag}#${el.id} "${el.text}"`).toBeGreaterThanOrEqual(2);
    }
    if (found(el)) return el;
  }
  throw new Error('the element was not reached with the keyboard');
}

const byText = (text: string) => (el: Focused) => el.text === text;
const byId = (id: string) => (el: Focused) => el.id === id;

describe('keyboard only', () => {
  const suite = dashboardSuite({
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
    await tabTo(page, byText('Audit log'), { back: true });
    await page.keyboard.press('Enter');
    await expect.poll(() => heading(page)).toBe('Audit log');
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
    await expect.poll(() => page.locator('.save-state').textContent()).toBe('Saved: driver, from number, Twilio account SID, Twilio auth token.');
    expect((await suite.server.bapi('GET', '/v1/instance')).json().sms).toMatchObject({ driver: 'twilio', twilio: { auth_token: '[REDACTED]' } });

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
    await tabTo(page, (el) => el.tag === 'a' && el.text.startsWith('sms.from_number'));
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await focused(page)).id).toBe('field-sms-from_number');
  });

  it('filters and pages the audit log', async () => {
    const page = await signInByKeyboard();
    await tabTo(page, byText('Audit log'), { back: true });
    await page.keyboard.press('Enter');
    await expect.poll(() => heading(page)).toBe('Audit log');
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

  it('opens the phone-width menu and follows a link', async () => {
    const page = await signInByKeyboard('phone');
    expect(await page.getByRole('navigation', { name: 'Dashboard' }).isVisible()).toBe(false);
    await tabTo(page, byText('Menu'), { back: true });
    await page.keyboard.press('Enter');
    expect(await page.getByRole('button', { name: 'Menu' }).getAttribute('aria-expanded')).toBe('true');
    await tabTo(page, byText('Webhooks'));
    await page.keyboard.press('Enter');
    await expect.poll(() => heading(page)).toBe('Webhooks');
    expect(await page.getByRole('navigation', { name: 'Dashboard' }).isVisible()).toBe(false);
    await expect.poll(() => page.getByRole('button', { name: 'Add an endpoint' }).isVisible()).toBe(true);
  });
});
