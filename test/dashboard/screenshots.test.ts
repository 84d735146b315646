/**
 * Every page at laptop (1280×800) and phone (390×844) width: saved under test-results/screenshots/ for people to
 * look at, and checked for what a screenshot cannot promise: nothing wider than the screen, every form control
 * labelled, no script errors.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { dashboardSuite, dashboardUrl, heading, screenshot, signIn, VIEWPORTS, type ViewportName } from './browser.js';

const PAGES = [
  { name: 'sms', path: '/dashboard/configure/messaging/sms', title: 'SMS' },
  { name: 'sms-templates', path: '/dashboard/configure/messaging/sms-templates', title: 'SMS templates' },
  { name: 'webhooks', path: '/dashboard/configure/webhooks', title: 'Webhooks' },
  { name: 'messages', path: '/dashboard/activity/messages', title: 'Messages' },
  { name: 'audit-log', path: '/dashboard/activity/audit-log', title: 'Audit log' },
];

async function pageFitsWidth(page: Page): Promise<boolean> {
  return page.evaluate(`document.documentElement.scrollWidth <= document.documentElement.clientWidth`);
}

/** Form controls without a label (by name or id), which a screen reader could not name. */
async function unlabelledControls(page: Page): Promise<string[]> {
  return page.evaluate(`[...document.querySelectorAll('input, select, textarea')]
    .filter((el) => el.labels.length === 0 && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
    .map((el) => el.name || el.id)`);
}

describe('screenshots', () => {
  const suite = dashboardSuite({
    // Something to show: a configured Twilio driver and a few audit entries.
    async seed(server) {
      const configured = await server.bapi('PATCH', '/v1/instance', {
        app_name: 'Acme',
        sms: { driver: 'twilio', from_number: '+15555550100', twilio: { account_sid: `AC${'a1'.repeat(16)}`, auth_token: 'b2'.repeat(16) } },
      });
      expect(configured.statusCode).toBe(200);
      expect((await server.bapi('PATCH', '/v1/instance', { test_mode: 'enabled' })).statusCode).toBe(200);
      expect((await server.bapi('PATCH', '/v1/templates/sms/verification_code', { body: '{{code}} is your {{app_name}} code.', from_number_override: '+15555550111' })).statusCode).toBe(200);
      expect((await server.bapi('PATCH', '/v1/templates/sms/invitation', { delivered_by_us: false })).statusCode).toBe(200);
    },
  });

  it.each(Object.keys(VIEWPORTS) as ViewportName[])('of every page at %s width', async (viewport) => {
    const { page } = await suite.openTab({ viewport });
    await page.goto(dashboardUrl(suite.server));
    await screenshot(page, `sign-in-${viewport}`);
    expect(await pageFitsWidth(page)).toBe(true);
    expect(await unlabelledControls(page)).toEqual([]);
    await signIn(page, suite.server.key);
    for (const entry of PAGES) {
      await page.goto(dashboardUrl(suite.server, entry.path));
      await expect.poll(() => heading(page)).toBe(entry.title);
      // Wait for the page's data (or its "not available yet" state) rather than the spinner.
      await expect.poll(() => page.locator('.state-loading').count()).toBe(0);
      await screenshot(page, `${entry.name}-${viewport}`);
      expect(await pageFitsWidth(page), entry.name).toBe(true);
      expect(await unlabelledControls(page), entry.name).toEqual([]);
    }
    // The wizard after a refused save: the summary, and the error beside its field.
    await page.goto(dashboardUrl(suite.server, PAGES[0]!.path));
    await page.locator('#field-sms-twilio-account_sid').fill('AC123');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => page.locator('#field-sms-twilio-account_sid-error').count()).toBe(1);
    await screenshot(page, `sms-field-error-${viewport}`);
    expect(await pageFitsWidth(page)).toBe(true);
    // A template being edited: the live preview, a body error, and the revert dialog.
    await page.goto(dashboardUrl(suite.server, '/dashboard/configure/messaging/sms-templates?template=verification_code'));
    await page.locator('#field-body').fill('Your {{app_name}} code is {{code}} ✓ Valid for {{expires_in_minutes}} minutes.');
    await expect.poll(() => page.locator('.message-preview').getAttribute('data-preview-state')).toBe('current');
    await screenshot(page, `sms-template-edit-${viewport}`);
    expect(await pageFitsWidth(page)).toBe(true);
    expect(await unlabelledControls(page)).toEqual([]);
    await page.getByRole('button', { name: 'Revert to default' }).click();
    await expect.poll(() => page.getByRole('dialog').isVisible()).toBe(true);
    await screenshot(page, `sms-template-revert-${viewport}`);
    await page.keyboard.press('Escape');
    if (viewport === 'phone') {
      // The navigation sits behind the menu button.
      await page.getByRole('button', { name: 'Menu' }).click();
      await screenshot(page, `menu-open-${viewport}`);
      await page.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name: 'SMS templates' }).click();
      await expect.poll(() => heading(page)).toBe('SMS templates');
      expect(await page.getByRole('navigation', { name: 'Dashboard' }).isVisible()).toBe(false);
    }
  });
});
