/**
 * Every page at laptop (1280×800) and phone (390×844) width, with data in it, and the states that matter (a field
 * error, a template being edited, a dialog, a secret shown once, a delivery's attempts): saved under
 * test-results/screenshots/ for people to look at, and checked for what a screenshot cannot promise: nothing wider
 * than the screen, every form control labelled, no script errors.
 */
import type { Page } from 'playwright-core';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTwilio, TWILIO_FAILURES } from '../fakes/twilio.js';
import { Receiver, webhookEnv } from '../webhooks/receiver.js';
import {
  carrierEnv,
  dashboardSuite,
  dashboardUrl,
  heading,
  messageReaches,
  screenshot,
  signIn,
  VIEWPORTS,
  type ViewportName,
} from './browser.js';
import { eventually } from '../helpers/eventually.js';

const PAGES = [
  { name: 'sms', path: '/dashboard/configure/messaging/sms', title: 'SMS' },
  { name: 'sms-templates', path: '/dashboard/configure/messaging/sms-templates', title: 'SMS templates' },
  { name: 'webhooks', path: '/dashboard/configure/webhooks', title: 'Webhooks' },
  { name: 'abuse', path: '/dashboard/configure/abuse', title: 'Abuse defences' },
  { name: 'allowed-origins', path: '/dashboard/configure/allowed-origins', title: 'Allowed origins' },
  { name: 'users', path: '/dashboard/manage/users', title: 'Users' },
  { name: 'messages', path: '/dashboard/activity/messages', title: 'Messages' },
  { name: 'delivery', path: '/dashboard/activity/delivery', title: 'Delivery & cost' },
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

/** Saves the screenshot, then checks the width and the labels. */
async function capture(page: Page, name: string): Promise<void> {
  // From the top: a sticky header would otherwise be drawn where the page was scrolled to.
  await page.evaluate('window.scrollTo(0, 0)');
  await screenshot(page, name);
  expect(await pageFitsWidth(page), name).toBe(true);
  expect(await unlabelledControls(page), name).toEqual([]);
}

async function settled(page: Page): Promise<void> {
  await expect.poll(() => page.locator('.state-loading').count()).toBe(0);
}

const TWILIO = { accountSid: `AC${randomBytes(16).toString('hex')}`, authToken: randomBytes(16).toString('hex') };

describe('screenshots', () => {
  let endpointId = '';
  let deliveredId = '';
  let twilio: FakeTwilio;
  beforeAll(async () => {
    twilio = await FakeTwilio.start({ ...TWILIO, callbacks: 'auto' });
  });
  afterAll(async () => {
    await twilio?.close();
  });
  const suite = dashboardSuite({
    env: async () => ({
      ...webhookEnv({ AUTHN_WEBHOOKS_RETRY_SCHEDULE: '50ms', AUTHN_WEBHOOKS_RESPONSE_BODY_LIMIT_BYTES: '256' }),
      ...(await carrierEnv({ twilio })),
    }),
    // Something to show: Twilio (the fake) with messages in every state, customised templates, webhook endpoints and deliveries.
    async seed(server) {
      const configured = await server.bapi('PATCH', '/v1/instance', {
        app_name: 'Acme',
        sms: { driver: 'twilio', from_number: '+14155550100', twilio: { account_sid: TWILIO.accountSid, auth_token: TWILIO.authToken } },
      });
      expect(configured.statusCode).toBe(200);
      expect((await server.bapi('PATCH', '/v1/instance', { test_mode: 'enabled' })).statusCode).toBe(200);
      expect(
        (
          await server.bapi('PATCH', '/v1/templates/sms/verification_code', {
            body: '{{code}} is your {{app_name}} code.',
            from_number_override: '+15555550111',
          })
        ).statusCode,
      ).toBe(200);
      expect((await server.bapi('PATCH', '/v1/templates/sms/invitation', { delivered_by_us: false })).statusCode).toBe(200);

      deliveredId = (await server.bapi('POST', '/v1/sms_messages/test', { to: '+14155550123' })).json().id;
      await messageReaches(server, deliveredId, 'delivered');
      twilio.fail(TWILIO_FAILURES.geoBlocked);
      await messageReaches(server, (await server.bapi('POST', '/v1/sms_messages/test', { to: '+447911123456' })).json().id, 'failed');
      await server.bapi('POST', '/v1/sms_messages/test', { to: '+15555550142' });
      const code = await server.running.services.sms.send({
        template: 'verification_code',
        to: '+14155550199',
        variables: { code: '482913', expires_in_minutes: '10' },
      });
      await messageReaches(server, code.id, 'delivered');

      const receiver = await new Receiver().start();
      try {
        const disabled = await server.bapi('POST', '/v1/webhooks/endpoints', {
          url: 'https://hooks.example.com/authn',
          event_types: ['sms.failed'],
          enabled: false,
        });
        expect(disabled.statusCode).toBe(200);
        const endpoint = await server.bapi('POST', '/v1/webhooks/endpoints', {
          url: receiver.url,
          description: 'Delivery receipts to the CRM',
          event_types: ['sms.delivered', 'sms.failed', 'webhook.test'],
        });
        endpointId = endpoint.json().id;
        // One delivery that succeeds, one that fails twice with a long answer.
        await server.bapi('POST', `/v1/webhooks/endpoints/${endpointId}/send_test_event`);
        await eventually('the first delivery', () => receiver.received.length === 1);
        receiver.answer = 'big';
        await server.bapi('POST', `/v1/webhooks/endpoints/${endpointId}/send_test_event`);
        await eventually('both deliveries finished', async () => {
          const log = (await server.bapi('GET', `/v1/webhooks/endpoints/${endpointId}/deliveries`)).json().data as { status: string }[];
          return log.length === 2 && log.every((d) => d.status !== 'pending');
        });
      } finally {
        await receiver.stop();
      }
    },
  });

  it.each(Object.keys(VIEWPORTS) as ViewportName[])('of every page at %s width', async (viewport) => {
    const { page } = await suite.openTab({ viewport });
    await page.goto(dashboardUrl(suite.server));
    await capture(page, `sign-in-${viewport}`);
    await signIn(page, suite.server.key);
    for (const entry of PAGES) {
      await page.goto(dashboardUrl(suite.server, entry.path));
      await expect.poll(() => heading(page)).toBe(entry.title);
      // Wait for the page's data rather than the spinner.
      await settled(page);
      await capture(page, `${entry.name}-${viewport}`);
    }

    // The wizard after a refused save: the summary, and the error beside its field.
    await page.goto(dashboardUrl(suite.server, PAGES[0]!.path));
    await page.locator('#field-sms-twilio-account_sid').fill('AC123');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => page.locator('#field-sms-twilio-account_sid-error').count()).toBe(1);
    await capture(page, `sms-field-error-${viewport}`);

    // A test SMS sent from the wizard, followed to delivered; then a message in the log, with its history.
    await page.locator('#field-to').fill('+14155550177');
    await page.getByRole('button', { name: 'Send test SMS' }).click();
    await expect.poll(() => page.locator('.test-sms-progress').getAttribute('data-test-sms-status'), { timeout: 10_000 }).toBe('delivered');
    await capture(page, `sms-test-delivered-${viewport}`);
    await page.goto(dashboardUrl(suite.server, `/dashboard/activity/messages?message=${deliveredId}`));
    await settled(page);
    await expect.poll(() => page.locator('.status-history li').count()).toBe(4);
    await capture(page, `message-${viewport}`);

    // A template being edited: the live preview, then the revert dialog.
    await page.goto(dashboardUrl(suite.server, '/dashboard/configure/messaging/sms-templates?template=verification_code'));
    await page.locator('#field-body').fill('Your {{app_name}} code is {{code}} ✓ Valid for {{expires_in_minutes}} minutes.');
    await expect.poll(() => page.locator('.message-preview').getAttribute('data-preview-state')).toBe('current');
    await capture(page, `sms-template-edit-${viewport}`);
    await page.getByRole('button', { name: 'Revert to default' }).click();
    await expect.poll(() => page.getByRole('dialog').isVisible()).toBe(true);
    await capture(page, `sms-template-revert-${viewport}`);
    await page.keyboard.press('Escape');

    // An endpoint with its deliveries, a failed one opened on its attempts.
    await page.goto(dashboardUrl(suite.server, `/dashboard/configure/webhooks?endpoint=${endpointId}`));
    await settled(page);
    // The two test events, and the sms.* events of the messages sent since.
    await expect
      .poll(() => page.locator('.deliveries > li[data-status="failed"] .delivery-type', { hasText: 'webhook.test' }).count())
      .toBe(1);
    await page.locator('.deliveries > li[data-status="failed"]').filter({ hasText: 'webhook.test' }).locator('summary').click();
    await capture(page, `webhook-endpoint-${viewport}`);

    // Adding an endpoint: the form with a refused URL, then the secret shown once.
    await page.goto(dashboardUrl(suite.server, '/dashboard/configure/webhooks'));
    await settled(page);
    await page.getByRole('button', { name: 'Add an endpoint' }).click();
    await page.getByLabel('Only the events I choose').check();
    await page.getByLabel('sms.failed').check();
    await page.locator('#field-url').fill('ftp://hooks.example.com');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await expect.poll(() => page.locator('#field-url-error').count()).toBe(1);
    await capture(page, `webhook-create-${viewport}`);
    await page.locator('#field-url').fill(`https://hooks.example.com/${viewport}`);
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await expect.poll(() => page.locator('.one-time-secret').isVisible()).toBe(true);
    await capture(page, `webhook-secret-${viewport}`);
    await page.getByRole('button', { name: 'I have stored it, hide it' }).click();

    if (viewport === 'phone') {
      // The navigation sits behind the menu button.
      await page.getByRole('button', { name: 'Menu' }).click();
      await capture(page, `menu-open-${viewport}`);
      await page.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name: 'SMS templates' }).click();
      await expect.poll(() => heading(page)).toBe('SMS templates');
      await expect.poll(() => page.getByRole('navigation', { name: 'Dashboard' }).isVisible()).toBe(false);
    }
  });
});
