/**
 * Every page at laptop (1280×800) and phone (390×844) width: saved under test-results/screenshots/ for people to
 * look at, and checked for what a screenshot cannot promise — nothing wider than the screen, no script errors.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStore, startTestServer, type TestServer, type TestStore } from '../helpers/server.js';
import { dashboardUrl, heading, launchBrowser, openTab, screenshot, signIn, VIEWPORTS, type ViewportName } from './browser.js';

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

describe('screenshots', () => {
  let store: TestStore;
  let server: TestServer;
  let browser: Browser;
  beforeAll(async () => {
    store = await createTestStore('sqlite');
    server = await startTestServer(store, { listen: true });
    // Something to show: a configured Twilio driver and a few audit entries.
    const configured = await server.bapi('PATCH', '/v1/instance', {
      app_name: 'Acme',
      sms: { driver: 'twilio', from_number: '+15555550100', twilio: { account_sid: `AC${'a1'.repeat(16)}`, auth_token: 'b2'.repeat(16) } },
    });
    expect(configured.statusCode).toBe(200);
    expect((await server.bapi('PATCH', '/v1/instance', { test_mode: 'enabled' })).statusCode).toBe(200);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await store?.cleanup();
  });

  it.each(Object.keys(VIEWPORTS) as ViewportName[])('of every page at %s width', async (viewport) => {
    const tab = await openTab(browser, { viewport });
    try {
      await tab.page.goto(dashboardUrl(server));
      await screenshot(tab.page, `sign-in-${viewport}`);
      expect(await pageFitsWidth(tab.page)).toBe(true);
      await signIn(tab.page, server.key);
      for (const entry of PAGES) {
        await tab.page.goto(dashboardUrl(server, entry.path));
        await expect.poll(() => heading(tab.page)).toBe(entry.title);
        // Wait for the page's data (or its "not available yet" state) rather than the spinner.
        await expect.poll(() => tab.page.locator('.state-loading').count()).toBe(0);
        await screenshot(tab.page, `${entry.name}-${viewport}`);
        expect(await pageFitsWidth(tab.page), entry.name).toBe(true);
      }
      if (viewport === 'phone') {
        // The navigation sits behind the menu button.
        await tab.page.getByRole('button', { name: 'Menu' }).click();
        await screenshot(tab.page, `menu-open-${viewport}`);
        await tab.page.getByRole('link', { name: 'SMS templates' }).click();
        await expect.poll(() => heading(tab.page)).toBe('SMS templates');
        expect(await tab.page.getByRole('navigation', { name: 'Dashboard' }).isVisible()).toBe(false);
      }
      expect(tab.problems).toEqual([]);
    } finally {
      await tab.close();
    }
  });
});
