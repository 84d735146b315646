/**
 * Activity → Delivery & cost in Chromium, against a server that sent through the fake Twilio (delivered, undelivered
 * 30003, refused 21610) and the fake Vonage (delivered, priced): the figures shown are the BAPI's, the window
 * switcher reloads them and keeps the window in the address, each chart has its figures as a table, and axe finds
 * nothing serious at laptop and phone width.
 */
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTwilio, TWILIO_FAILURES } from '../fakes/twilio.js';
import { FakeVonage } from '../fakes/vonage.js';
import type { DeliveryStats } from '../../src/sms/delivery-stats.js';
import {
  carrierEnv,
  dashboardSuite,
  messageReaches,
  openSignedIn,
  seriousA11yViolations,
  VIEWPORTS,
  type ViewportName,
} from './browser.js';

const DELIVERY_PAGE = '/dashboard/activity/delivery';
const TWILIO = { accountSid: `AC${randomBytes(16).toString('hex')}`, authToken: randomBytes(16).toString('hex') };
const VONAGE = { apiKey: 'abcd1234', apiSecret: 'secretValue42' };
const DELIVERED_TO = '+14155550123';
const UNDELIVERED_TO = '+447400123456';
const REFUSED_TO = '+14155550124';
const VONAGE_TO = '+4915112345678';

const column = (page: Page, table: string, label: string) => page.locator(`${table} tbody td[data-label="${label}"]`).allTextContents();

describe('the delivery & cost page', () => {
  let twilio: FakeTwilio;
  let vonage: FakeVonage;
  beforeAll(async () => {
    twilio = await FakeTwilio.start({
      ...TWILIO,
      callbacks: 'auto',
      sequence: (m) =>
        m.to === UNDELIVERED_TO
          ? [{ status: 'sent' }, { status: 'undelivered', errorCode: '30003' }]
          : [{ status: 'sent' }, { status: 'delivered' }],
    });
    vonage = await FakeVonage.start({ ...VONAGE, receipts: 'auto' });
  });
  afterAll(async () => {
    await twilio?.close();
    await vonage?.close();
  });
  const suite = dashboardSuite({
    env: () => carrierEnv({ twilio, vonage }),
    async seed(server) {
      const sendTest = async (to: string, status: string) =>
        messageReaches(server, (await server.bapi('POST', '/v1/sms_messages/test', { to })).json().id, status);
      const twilioSettings = {
        driver: 'twilio',
        from_number: '+14155550100',
        twilio: { account_sid: TWILIO.accountSid, auth_token: TWILIO.authToken },
      };
      expect((await server.bapi('PATCH', '/v1/instance', { sms: twilioSettings })).statusCode).toBe(200);
      await sendTest(DELIVERED_TO, 'delivered');
      await sendTest(UNDELIVERED_TO, 'undelivered');
      twilio.fail(TWILIO_FAILURES.unsubscribed);
      await sendTest(REFUSED_TO, 'failed');
      expect(
        (
          await server.bapi('PATCH', '/v1/instance', {
            sms: { driver: 'vonage', vonage: { api_key: VONAGE.apiKey, api_secret: VONAGE.apiSecret } },
          })
        ).statusCode,
      ).toBe(200);
      await sendTest(VONAGE_TO, 'delivered');
      // Never counted.
      await sendTest('+15555550142', 'test_noop');
    },
  });

  const bapiStats = async (window: string): Promise<DeliveryStats> =>
    (await suite.server.bapi('GET', `/v1/sms/delivery_stats?window=${window}`)).json();

  const open = async (path = DELIVERY_PAGE, viewport?: ViewportName) => {
    const tab = await suite.openTab(viewport ? { viewport, bypassCSP: true } : {});
    await openSignedIn(tab, suite.server, path);
    await expect.poll(() => tab.page.locator('.state-loading').count()).toBe(0);
    return tab.page;
  };

  it('shows the figures the BAPI answers: summary, drivers, countries, error codes with their meaning, and cost', async () => {
    const page = await open();
    const stats = await bapiStats('day');
    expect(stats.totals).toMatchObject({ messages: 4, delivered: 2, undelivered: 1, failed: 1 });
    expect(await page.locator('[data-stat="messages"]').textContent()).toBe(String(stats.totals.messages));
    expect(await page.locator('[data-stat="delivery_rate"]').textContent()).toBe('50.0 %');
    expect(await page.locator('[data-stat="failovers"]').textContent()).toBe('0');
    expect(await page.getByText('No message moved to a failover driver.').count()).toBe(1);
    expect(await page.locator('[data-stat="cost"]').textContent()).toBe('0.0333 EUR');

    const drivers = '.figures-table:has(caption:text("Delivery by driver"))';
    expect(await column(page, drivers, 'Driver')).toEqual(stats.by_driver.map((d) => ({ twilio: 'Twilio', vonage: 'Vonage' })[d.driver]));
    expect(await column(page, drivers, 'Messages')).toEqual(stats.by_driver.map((d) => String(d.messages)));
    expect(await column(page, drivers, 'Delivered')).toEqual(stats.by_driver.map((d) => String(d.delivered)));

    const countries = '.figures-table:has(caption:text("Delivery by destination country"))';
    expect(await column(page, countries, 'Country')).toEqual(['United States', 'Germany', 'United Kingdom']);
    expect(await column(page, countries, 'Messages')).toEqual(stats.by_country.map((c) => String(c.messages)));

    expect(await column(page, '.error-codes-table', 'Code')).toEqual(stats.error_codes.map((e) => e.code));
    expect(await column(page, '.error-codes-table', 'Meaning')).toEqual(stats.error_codes.map((e) => e.meaning));
    expect(stats.error_codes.map((e) => [e.code, e.phase])).toEqual(
      expect.arrayContaining([
        ['21610', 'send'],
        ['30003', 'receipt'],
      ]),
    );

    expect(await column(page, '.costs-table', 'Country')).toEqual(['Germany']);
    expect(await column(page, '.costs-table', 'Amount')).toEqual(['0.0333 EUR']);
  });

  it('draws each chart as one image with its figures as a table', async () => {
    const page = await open();
    const stats = await bapiStats('day');
    const chart = page.locator('figure.chart', { hasText: 'Delivery rate by driver' });
    expect(await chart.getByRole('img').getAttribute('aria-label')).toBe(
      'Delivery rate by driver. Twilio: 33.3 % overall; Vonage: 100.0 % overall',
    );
    await chart.getByText('Show the figures').click();
    expect(await chart.locator('tbody tr').count()).toBe(stats.series[0]!.buckets.length);
    expect(await page.locator('figure.chart').count()).toBe(3);
  });

  it('switches between the last hour, day and week, keeping the window in the address', async () => {
    const page = await open();
    await page.getByRole('link', { name: 'Last week' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('window')).toBe('week');
    await expect.poll(() => page.getByRole('link', { name: 'Last week' }).getAttribute('aria-current')).toBe('page');
    const chart = page.locator('figure.chart', { hasText: 'Failovers' });
    await chart.getByText('Show the figures').click();
    await expect.poll(() => chart.locator('tbody tr').count()).toBe(28);

    const hour = await open(`${DELIVERY_PAGE}?window=hour`);
    expect(await hour.locator('[data-stat="messages"]').textContent()).toBe(String((await bapiStats('hour')).totals.messages));
  });

  it.each(Object.keys(VIEWPORTS) as ViewportName[])('finds no serious or critical violation at %s width', async (viewport) => {
    const page = await open(DELIVERY_PAGE, viewport);
    for (const details of await page.locator('details.chart-data').all()) await details.locator('summary').click();
    expect(await seriousA11yViolations(page)).toEqual([]);
    // Nothing wider than the screen: the page reads at phone width without sideways scrolling.
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
  });
});
