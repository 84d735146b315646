/**
 * axe-core over every dashboard page, with data in it, and the states that change what is on screen (a refused
 * search, a field error, a user view, a message, a template being edited, a dialog, an endpoint, the open menu), at
 * laptop (1280×800) and phone (390×844) width: no serious or critical violation, and no word of the tables and
 * facts broken across lines (ids and codes may break anywhere; words may not).
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { Fapi, patchSettings } from '../auth/helpers.js';
import { webhookEnv } from '../webhooks/receiver.js';
import { dashboardSuite, dashboardUrl, heading, seriousA11yViolations, signIn, VIEWPORTS, type ViewportName } from './browser.js';

const PAGES = [
  { path: '/dashboard/configure/messaging/sms', title: 'SMS' },
  { path: '/dashboard/configure/messaging/sms-templates', title: 'SMS templates' },
  { path: '/dashboard/configure/webhooks', title: 'Webhooks' },
  { path: '/dashboard/configure/abuse', title: 'Abuse defences' },
  { path: '/dashboard/manage/users', title: 'Users' },
  { path: '/dashboard/activity/messages', title: 'Messages' },
  { path: '/dashboard/activity/delivery', title: 'Delivery & cost' },
  { path: '/dashboard/activity/audit-log', title: 'Audit log' },
];
const [ALICE, BOB] = ['+12015550171', '+12015550172'];
const PASSWORD = 'correct horse battery';

/** Words (not ids or codes) of table cells and facts drawn on more than one line. */
async function wordsBrokenAcrossLines(page: Page): Promise<string[]> {
  return page.evaluate(`(() => {
    const broken = [];
    for (const cell of document.querySelectorAll('td, th, dt, dd')) {
      const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (node.parentElement.closest('code, pre, .visually-hidden')) continue;
        // A line may end after a hyphen, a slash or a dash: the parts between are the words.
        for (const match of node.data.matchAll(/[^\\s\\-\\/–—]+/g)) {
          const range = document.createRange();
          range.setStart(node, match.index);
          range.setEnd(node, match.index + match[0].length);
          const lines = new Set([...range.getClientRects()].filter((rect) => rect.width > 0).map((rect) => Math.round(rect.top)));
          if (lines.size > 1) broken.push(match[0]);
        }
      }
    }
    return broken;
  })()`);
}

async function settled(page: Page): Promise<void> {
  await expect.poll(() => page.locator('.state-loading').count()).toBe(0);
}

describe('accessibility (axe-core)', () => {
  let aliceId = '';
  let messageId = '';
  let endpointId = '';
  const suite = dashboardSuite({
    env: webhookEnv({ AUTHN_WEBHOOKS_RETRY_SCHEDULE: '50ms' }),
    // Something in every list: users (one locked out of password sign-in), a message, a customised template, an endpoint with a delivery.
    async seed(server) {
      await patchSettings(server, { abuse: { password_lockout: { max_failures: 2 } } });
      const fapi = await new Fapi(server).start();
      aliceId = (await fapi.signedUpUser(ALICE, { password: PASSWORD })).userId;
      await fapi.signedUpUser(BOB);
      for (let i = 0; i < 2; i++) await fapi.call('POST', '/v1/client/sign_ins', { identifier: ALICE, password: 'wrong password' });
      // A customised template, which can be reverted.
      expect(
        (await server.bapi('PATCH', '/v1/templates/sms/verification_code', { body: '{{code}} is your {{app_name}} code.' })).statusCode,
      ).toBe(200);
      messageId = (await server.bapi('POST', '/v1/sms_messages/test', { to: '+15555550142' })).json().id;
      const endpoint = await server.bapi('POST', '/v1/webhooks/endpoints', {
        url: 'http://127.0.0.1:9/authn',
        description: 'Nobody listens here',
        event_types: ['webhook.test'],
      });
      endpointId = endpoint.json().id;
      await server.bapi('POST', `/v1/webhooks/endpoints/${endpointId}/send_test_event`);
    },
  });

  it.each(Object.keys(VIEWPORTS) as ViewportName[])('finds no serious or critical violation at %s width', async (viewport) => {
    const { page } = await suite.openTab({ viewport, bypassCSP: true });
    const found: string[] = [];
    const scan = async (state: string) => {
      await settled(page);
      for (const violation of await seriousA11yViolations(page)) found.push(`${state}: ${violation}`);
      for (const word of await wordsBrokenAcrossLines(page)) found.push(`${state}: "${word}" is broken across lines`);
    };
    const open = async (path: string) => {
      await page.goto(dashboardUrl(suite.server, path));
      await settled(page);
    };

    await page.goto(dashboardUrl(suite.server));
    await scan('sign-in');
    await signIn(page, suite.server.key);
    for (const entry of PAGES) {
      await open(entry.path);
      await expect.poll(() => heading(page)).toBe(entry.title);
      await scan(entry.title);
    }

    await open('/dashboard/manage/users');
    await page.locator('#field-phone_number').fill('12');
    await page.getByRole('button', { name: 'Find' }).click();
    await expect.poll(() => page.locator('#field-phone_number-error').count()).toBe(1);
    await scan('users, a refused search');
    await open(`/dashboard/manage/users?user=${aliceId}`);
    await expect.poll(() => page.locator('.user-view').count()).toBe(1);
    await scan('a locked-out user');

    await open(`/dashboard/activity/messages?message=${messageId}`);
    await scan('a message');

    await open(PAGES[0]!.path);
    await page.locator('#driver-twilio').check();
    await page.locator('#field-sms-twilio-account_sid').fill('AC123');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => page.locator('#field-sms-twilio-account_sid-error').count()).toBe(1);
    await scan('SMS settings, a refused save');

    await open('/dashboard/configure/messaging/sms-templates?template=verification_code');
    await page.locator('#field-body').fill('Your {{app_name}} code is {{code}} ✓');
    await expect.poll(() => page.locator('.message-preview').getAttribute('data-preview-state')).toBe('current');
    await scan('a template being edited');
    await page.getByRole('button', { name: 'Revert to default' }).click();
    await expect.poll(() => page.getByRole('dialog').isVisible()).toBe(true);
    await scan('the revert dialog');
    await page.keyboard.press('Escape');

    await open(`/dashboard/configure/webhooks?endpoint=${endpointId}`);
    await expect.poll(() => page.locator('.deliveries > li').count()).toBeGreaterThan(0);
    await scan('an endpoint with its deliveries');
    await open('/dashboard/configure/webhooks');
    await page.getByRole('button', { name: 'Add an endpoint' }).click();
    await scan('adding an endpoint');

    if (viewport === 'phone') {
      await page.getByRole('button', { name: 'Menu' }).click();
      await expect.poll(() => page.getByRole('navigation', { name: 'Dashboard' }).isVisible()).toBe(true);
      await scan('the open menu');
    }
    expect(found).toEqual([]);
  });
});
