/**
 * Activity → Delivery & cost in Chromium for simulated messages (docs/sms.md, "Simulated outcomes"): under
 * test_mode enabled with the null driver, codes sent to the simulated digits 0, 1, 2, 4, 7 and 8 reach their final
 * statuses in real time (receipts 3 s after acceptance), and the page's "Simulated messages (test mode)" switch
 * shows their figures — by the carrier played, failovers, error codes with their meaning — as the BAPI answers them
 * with `simulated=true`, marked as simulated and kept in the address. Without test mode the switch is not offered.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { DeliveryStats } from '../../src/sms/delivery-stats.js';
import { isTerminal } from '../../src/sms/transitions.js';
import type { SmsStatus } from '../../src/sms/statuses.js';
import { eventually } from '../helpers/eventually.js';
import { FAST_DISPATCH } from '../sms/harness.js';
import { dashboardSuite, openSignedIn, seriousA11yViolations } from './browser.js';

const DELIVERY_PAGE = '/dashboard/activity/delivery';
const DIGITS = [0, 1, 2, 4, 7, 8] as const;
const SWITCH = 'Simulated messages (test mode)';

const column = (page: Page, table: string, label: string) => page.locator(`${table} tbody td[data-label="${label}"]`).allTextContents();

describe('the delivery & cost page with simulated messages', () => {
  const suite = dashboardSuite({
    env: FAST_DISPATCH,
    async seed(server) {
      expect((await server.bapi('PATCH', '/v1/instance', { test_mode: 'enabled' })).statusCode).toBe(200);
      const ids = [];
      for (const digit of DIGITS) {
        const queued = await server.running.services.sms.send({
          template: 'verification_code',
          to: `+1555555019${digit}`,
          variables: { code: '482913', expires_in_minutes: '10' },
        });
        ids.push(queued.id);
      }
      // A real number with the null driver is dropped: the real figures stay empty.
      await server.running.services.sms.send({
        template: 'verification_code',
        to: '+14155550123',
        variables: { code: '482913', expires_in_minutes: '10' },
      });
      for (const id of ids) {
        await eventually(
          `message ${id} final`,
          async () => isTerminal((await server.bapi('GET', `/v1/sms_messages/${id}`)).json().status as SmsStatus),
          45_000,
        );
      }
    },
  });

  const bapiStats = async (query: string): Promise<DeliveryStats> => {
    const res = await suite.server.bapi('GET', `/v1/sms/delivery_stats?${query}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };

  const open = async (path = DELIVERY_PAGE, options: { bypassCSP?: boolean } = {}) => {
    const tab = await suite.openTab(options);
    await openSignedIn(tab, suite.server, path);
    await expect.poll(() => tab.page.locator('.state-loading').count()).toBe(0);
    return tab.page;
  };

  it('switches to the simulated figures from the keyboard, marked as simulated and kept in the address', async () => {
    const page = await open();
    // The real figures: nothing went through a carrier.
    await expect.poll(() => page.getByText('No messages in this window').count()).toBe(1);
    expect(await page.locator('[data-simulated-note]').count()).toBe(0);

    const toggle = page.getByRole('checkbox', { name: SWITCH });
    expect(await toggle.isChecked()).toBe(false);
    await toggle.focus();
    await page.keyboard.press('Space');
    await expect.poll(() => new URL(page.url()).searchParams.get('simulated')).toBe('true');
    await expect.poll(() => page.locator('[data-stat="messages"]').textContent()).toBe('6');
    expect(await toggle.isChecked()).toBe(true);
    expect(await page.locator('[data-simulated-note]').textContent()).toContain('Simulated figures.');

    // Another window keeps the simulated figures.
    await page.getByRole('link', { name: 'Last hour' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('window')).toBe('hour');
    expect(new URL(page.url()).searchParams.get('simulated')).toBe('true');
    await expect.poll(() => page.locator('[data-stat="messages"]').textContent()).toBe('6');

    // And back to the real ones.
    await page.getByRole('checkbox', { name: SWITCH }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('simulated')).toBeNull();
    await expect.poll(() => page.getByText('No messages in this window').count()).toBe(1);
    expect(await page.locator('[data-simulated-note]').count()).toBe(0);
  });

  it('shows what the BAPI answers with simulated=true: outcomes by the carrier played, failovers, error codes and their meaning', async () => {
    const page = await open(`${DELIVERY_PAGE}?simulated=true`);
    const stats = await bapiStats('simulated=true');
    expect(stats.simulated).toBe(true);
    expect(stats.totals).toMatchObject({ messages: 6, delivered: 2 });
    // 4 moves from Twilio to Vonage and is delivered; 2 moves and is refused again. (Whether 8 moves is failover's say.)
    expect(stats.totals.failovers).toBeGreaterThanOrEqual(2);

    expect(await page.locator('[data-stat="messages"]').textContent()).toBe(String(stats.totals.messages));
    expect(await page.locator('[data-stat="failovers"]').textContent()).toBe(String(stats.totals.failovers));
    expect(await page.locator('[data-stat="delivery_rate"]').textContent()).toBe(`${(stats.totals.delivery_rate! * 100).toFixed(1)} %`);

    const drivers = '.figures-table:has(caption:text("Delivery by driver"))';
    expect(await column(page, drivers, 'Driver')).toEqual(stats.by_driver.map((d) => ({ twilio: 'Twilio', vonage: 'Vonage' })[d.driver]));
    expect(new Set(await column(page, drivers, 'Driver'))).toEqual(new Set(['Twilio', 'Vonage']));
    for (const label of ['Messages', 'Delivered', 'Undelivered', 'Failed', 'Failovers'] as const) {
      const field = label.toLowerCase() as 'messages' | 'delivered' | 'undelivered' | 'failed' | 'failovers';
      expect(await column(page, drivers, label)).toEqual(stats.by_driver.map((d) => String(d[field])));
    }

    expect(await column(page, '.error-codes-table', 'Code')).toEqual(stats.error_codes.map((e) => e.code));
    expect(await column(page, '.error-codes-table', 'Meaning')).toEqual(stats.error_codes.map((e) => e.meaning));
    const shown = new Map((await column(page, '.error-codes-table', 'Code')).map((code, i) => [code, i]));
    const meanings = await column(page, '.error-codes-table', 'Meaning');
    for (const [code, meaning] of [
      ['30003', 'Unreachable destination handset'],
      ['21408', 'Region not permitted by geo permissions'],
      ['21211', "Invalid 'To' number"],
      ['30007', 'Message filtered by the carrier'],
    ] as const) {
      expect(shown.has(code), code).toBe(true);
      expect(meanings[shown.get(code)!]).toBe(meaning);
    }
    expect(await page.locator('[data-stat="cost"]').textContent()).toBe('Not reported');
  });

  it('finds no serious or critical violation on the simulated figures', async () => {
    // Axe is injected as a script, which the dashboard's CSP would refuse.
    const page = await open(`${DELIVERY_PAGE}?simulated=true`, { bypassCSP: true });
    for (const details of await page.locator('details.chart-data').all()) await details.locator('summary').click();
    expect(await seriousA11yViolations(page)).toEqual([]);
  });

  it('does not offer the switch without test mode', async () => {
    expect((await suite.server.bapi('PATCH', '/v1/instance', { test_mode: 'disabled' })).statusCode).toBe(200);
    try {
      const page = await open();
      await expect.poll(() => page.getByText('No messages in this window').count()).toBe(1);
      // The instance settings have come: the switch would be there by now.
      await page.waitForLoadState('networkidle');
      expect(await page.getByRole('checkbox', { name: SWITCH }).count()).toBe(0);
    } finally {
      expect((await suite.server.bapi('PATCH', '/v1/instance', { test_mode: 'enabled' })).statusCode).toBe(200);
    }
  });
});
