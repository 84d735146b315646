/**
 * The messages page against a server that sends through the fake Twilio (callbacks on their own): the log with
 * each message's status, a carrier error and a masked code; filters by status, recipient (any notation; a refused
 * one beside its field) and template; "load older"; a message's attempts and status history; and auto-refresh,
 * which brings in new messages while the tab is visible and stops while it is hidden; and, for a message still
 * waiting for its delivery report, when the server will ask the carrier.
 */
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTwilio, TWILIO_FAILURES } from '../fakes/twilio.js';
import { carrierEnv, dashboardSuite, expectFieldError, messageReaches, openSignedIn } from './browser.js';

const MESSAGES_PAGE = '/dashboard/activity/messages';
const TWILIO = { accountSid: `AC${randomBytes(16).toString('hex')}`, authToken: randomBytes(16).toString('hex') };
const DELIVERED_TO = '+14155550123';
const FAILED_TO = '+14155550124';
const CODE_TO = '+14155550125';
/** Reserved test numbers: each one makes a message that is recorded and never sent. */
const testNumber = (i: number) => `+155555501${String(i).padStart(2, '0')}`;

const rows = (page: Page) => page.locator('.messages-table tbody tr');
const cells = (page: Page, label: string) => page.locator(`.messages-table tbody td[data-label="${label}"]`).allTextContents();
const messageLink = (page: Page, to: string) =>
  rows(page)
    .filter({ has: page.locator('td[data-label="Recipient"]', { hasText: to }) })
    .getByRole('link');
/** New messages come in with the next refresh (every 3 seconds). */
const eventually = { timeout: 10_000 };

/** Makes the page believe its tab is hidden (or visible again), as switching tabs would. */
async function setTabVisible(page: Page, visible: boolean): Promise<void> {
  await page.evaluate(`(() => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => '${visible ? 'visible' : 'hidden'}' });
    document.dispatchEvent(new Event('visibilitychange'));
  })()`);
}

describe('the messages page', () => {
  let twilio: FakeTwilio;
  beforeAll(async () => {
    twilio = await FakeTwilio.start({ ...TWILIO, callbacks: 'auto' });
  });
  afterAll(async () => {
    await twilio?.close();
  });
  const suite = dashboardSuite({
    env: () => carrierEnv({ twilio }),
    // Through Twilio: one delivered, one refused, one verification code; and 28 to test numbers.
    async seed(server) {
      const configured = await server.bapi('PATCH', '/v1/instance', {
        app_name: 'Acme',
        sms: { driver: 'twilio', from_number: '+14155550100', twilio: { account_sid: TWILIO.accountSid, auth_token: TWILIO.authToken } },
      });
      expect(configured.statusCode).toBe(200);
      for (let i = 0; i < 28; i++) expect((await server.bapi('POST', '/v1/sms_messages/test', { to: testNumber(i) })).statusCode).toBe(202);
      await messageReaches(server, (await server.bapi('POST', '/v1/sms_messages/test', { to: DELIVERED_TO })).json().id, 'delivered');
      twilio.fail(TWILIO_FAILURES.unsubscribed);
      await messageReaches(server, (await server.bapi('POST', '/v1/sms_messages/test', { to: FAILED_TO })).json().id, 'failed');
      const code = await server.running.services.sms.send({
        template: 'verification_code',
        to: CODE_TO,
        variables: { code: '482913', expires_in_minutes: '10' },
      });
      await messageReaches(server, code.id, 'delivered');
    },
  });

  const open = async (path = MESSAGES_PAGE) => {
    const tab = await suite.openTab();
    await openSignedIn(tab, suite.server, path);
    await expect.poll(() => tab.page.locator('.state-loading').count()).toBe(0);
    return tab.page;
  };

  it('lists messages newest first with their status, the carrier error and codes masked, and loads older ones', async () => {
    const page = await open();
    await expect.poll(() => rows(page).count()).toBe(25);
    expect((await cells(page, 'Recipient')).slice(0, 3)).toEqual([CODE_TO, FAILED_TO, DELIVERED_TO]);
    expect((await cells(page, 'Status')).slice(0, 4)).toEqual(['Delivered', 'Failed 21610', 'Delivered', 'Test number']);
    expect((await cells(page, 'Message'))[0]).toBe('****** is your Acme verification code. It expires in 10 minutes.');
    expect(await page.content()).not.toContain('482913');

    await page.getByRole('button', { name: 'Load older messages' }).click();
    await expect.poll(() => rows(page).count()).toBe(31);
    expect(await page.getByText('End of the messages for these filters.').isVisible()).toBe(true);
  });

  it('filters by status, recipient in any notation (national included), and template; refuses a recipient that is not a number beside its field', async () => {
    const page = await open();
    await page.getByLabel('Status').selectOption('failed');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => cells(page, 'Recipient')).toEqual([FAILED_TO]);
    expect(new URL(page.url()).searchParams.get('status')).toBe('failed');

    await page.getByLabel('Status').selectOption('');
    await page.getByLabel('Recipient').fill('+1 (415) 555-0123');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => cells(page, 'Recipient')).toEqual([DELIVERED_TO]);
    // National notation too: the instance sends codes to the US and Canada.
    await page.getByLabel('Recipient').fill('(415) 555-0123');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('to')).toBe('(415) 555-0123');
    await expect.poll(() => cells(page, 'Recipient')).toEqual([DELIVERED_TO]);
    // A row's link is named by the time it shows, then by the message it opens.
    expect(await rows(page).first().getByRole('link').getAttribute('aria-label')).toBeNull();
    expect(await rows(page).first().getByRole('link').textContent()).toMatch(
      new RegExp(`^\\d+ \\w+ \\d{4}, \\d\\d:\\d\\d:\\d\\d: message to \\${DELIVERED_TO}, Delivered$`),
    );

    await page.getByLabel('Recipient').fill('');
    await page.getByLabel('Template').selectOption('verification_code');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => cells(page, 'Recipient')).toEqual([CODE_TO]);
    expect(await page.getByLabel('Template').locator('option:checked').textContent()).toBe('Verification code');

    await page.getByLabel('Template').selectOption('');
    await page.getByLabel('Recipient').fill('not a number');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expectFieldError(page, 'to', 'Recipient must be an international number in E.164 form');
    expect(await rows(page).count()).toBe(0);

    await page.getByRole('button', { name: 'Clear filters' }).click();
    await expect.poll(() => rows(page).count()).toBe(25);
  });

  it("shows a message's carrier attempts and status history", async () => {
    const page = await open();
    await messageLink(page, DELIVERED_TO).click();
    await expect.poll(() => page.locator('.message-title').textContent()).toBe(`To ${DELIVERED_TO} Delivered`);
    const [accepted] = twilio.messagesTo(DELIVERED_TO);
    expect(await page.locator('.sms-attempts-table td[data-label="Outcome"]').allTextContents()).toEqual(['accepted']);
    expect(await page.locator('.sms-attempts-table td[data-label="Carrier answer"]').textContent()).toBe(`HTTP 201 · id ${accepted!.sid}`);
    // Each status with where it came from: the engine queued it, the dispatcher had it accepted, Twilio reported.
    expect(await page.locator('.status-history li .history-step').allTextContents()).toEqual([
      'Queued from engine',
      'Sent from dispatcher',
      'Sent from twilio (carrier: sent)',
      'Delivered from twilio (carrier: delivered)',
    ]);
    // Its final report came: no status check is planned.
    expect(await page.locator('.facts dt', { hasText: 'Status check' }).count()).toBe(0);

    await page.getByRole('link', { name: '← All messages' }).click();
    await messageLink(page, FAILED_TO).click();
    await expect.poll(() => page.locator('.message-title').textContent()).toBe(`To ${FAILED_TO} Failed`);
    expect(await page.locator('.facts .carrier-error').textContent()).toBe('21610 Attempt to send to unsubscribed recipient');
    expect(await page.locator('.sms-attempts-table td[data-label="Outcome"]').allTextContents()).toEqual(['permanent_error']);
  });

  it('refreshes itself while the tab is visible, and not while it is hidden', async () => {
    const page = await open();
    await expect.poll(() => rows(page).count()).toBe(25);
    const listCalls: string[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/v1/sms_messages') listCalls.push(request.url());
    });

    // A new message appears at the top without a reload.
    await suite.server.bapi('POST', '/v1/sms_messages/test', { to: testNumber(90) });
    await expect.poll(() => cells(page, 'Recipient').then((r) => r[0]), eventually).toBe(testNumber(90));

    // Hidden: no call for well over one refresh period, and a message sent meanwhile is not shown.
    await setTabVisible(page, false);
    const before = listCalls.length;
    await suite.server.bapi('POST', '/v1/sms_messages/test', { to: testNumber(91) });
    await page.waitForTimeout(7_000);
    expect(listCalls.length).toBe(before);
    expect((await cells(page, 'Recipient'))[0]).toBe(testNumber(90));

    // Visible again: refreshed at once.
    await setTabVisible(page, true);
    await expect.poll(() => cells(page, 'Recipient').then((r) => r[0])).toBe(testNumber(91));

    // Switched off, it stops; "Refresh now" brings the news.
    await page.getByLabel('Refresh automatically').uncheck();
    await suite.server.bapi('POST', '/v1/sms_messages/test', { to: testNumber(92) });
    const whenOff = listCalls.length;
    await page.waitForTimeout(7_000);
    expect(listCalls.length).toBe(whenOff);
    await page.getByRole('button', { name: 'Refresh now' }).click();
    await expect.poll(() => cells(page, 'Recipient').then((r) => r[0])).toBe(testNumber(92));
  });
});

describe('a message waiting for its delivery report', () => {
  let twilio: FakeTwilio;
  beforeAll(async () => {
    // No callbacks: the message stays sent, with a status check planned.
    twilio = await FakeTwilio.start({ ...TWILIO, callbacks: 'manual' });
  });
  afterAll(async () => {
    await twilio?.close();
  });
  let id = '';
  const suite = dashboardSuite({
    env: () => carrierEnv({ twilio }),
    async seed(server) {
      const configured = await server.bapi('PATCH', '/v1/instance', {
        sms: { driver: 'twilio', from_number: '+14155550100', twilio: { account_sid: TWILIO.accountSid, auth_token: TWILIO.authToken } },
      });
      expect(configured.statusCode).toBe(200);
      id = (await server.bapi('POST', '/v1/sms_messages/test', { to: DELIVERED_TO })).json().id;
      await messageReaches(server, id, 'sent');
    },
  });

  it('shows when the server will ask the carrier', async () => {
    const tab = await suite.openTab();
    await openSignedIn(tab, suite.server, `${MESSAGES_PAGE}?message=${encodeURIComponent(id)}`);
    await expect.poll(() => tab.page.locator('.message-title').textContent()).toBe(`To ${DELIVERED_TO} Sent`);
    const planned = (await suite.server.bapi('GET', `/v1/sms_messages/${id}`)).json().next_status_check_at as number;
    const check = tab.page.locator('.facts dt', { hasText: 'Status check' }).locator('xpath=following-sibling::dd[1]');
    expect(await check.textContent()).toContain('asks the carrier if no delivery report comes first');
    expect(await check.locator('time').getAttribute('datetime')).toBe(new Date(planned).toISOString());
  });
});
