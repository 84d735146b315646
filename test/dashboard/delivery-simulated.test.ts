/**
 * Activity → Delivery & cost in Chromium for simulated messages (docs/sms.md, "Simulated outcomes"): under
 * test_mode enabled with the null driver, a code is sent to each simulated digit, 0 to 9, and each reaches its outcome
 * in real time (receipts 3 s after acceptance, 20 s for the slow digit 6; digit 3 never has a receipt and moves to
 * the failover driver after a 10 s receipt wait), and the page's "Simulated messages (test mode)" switch shows their
 * figures — by the carrier played, failovers, times to delivery, error codes with their meaning — as the BAPI answers
 * them with `simulated=true`, marked as simulated and kept in the address. Without test mode the switch is not offered.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { SIMULATED_SLOW_RECEIPT_MS } from '../../src/sms/drivers/simulated.js';
import { isTerminal } from '../../src/sms/transitions.js';
import type { SmsStatus } from '../../src/sms/statuses.js';
import { eventually } from '../helpers/eventually.js';
import { formatDuration, percent } from '../../src/dashboard/app/figures.js';
import { FAST_DISPATCH, deliveryStats, sendCode } from '../sms/harness.js';
import { dashboardSuite, dashboardUrl, openSignedIn, seriousA11yViolations } from './browser.js';

const DELIVERY_PAGE = '/dashboard/activity/delivery';
const DIGITS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] as const;
/** Digit 3's receipt never comes: the shortest wait lets it move to Vonage soon. */
const RECEIPT_WAIT_SECONDS = 10;
const SWITCH = 'Simulated messages (test mode)';

const column = (page: Page, table: string, label: string) => page.locator(`${table} tbody td[data-label="${label}"]`).allTextContents();

/** Each digit's outcome with the null driver (Twilio played first, Vonage as failover) and a 10 s receipt wait. */
const OUTCOMES: Record<(typeof DIGITS)[number], { status: SmsStatus; driver: 'twilio' | 'vonage'; failover: string | null }> = {
  0: { status: 'delivered', driver: 'twilio', failover: null },
  1: { status: 'undelivered', driver: 'twilio', failover: null },
  2: { status: 'failed', driver: 'vonage', failover: 'carrier_refused' },
  3: { status: 'sent', driver: 'vonage', failover: 'no_receipt' },
  4: { status: 'delivered', driver: 'vonage', failover: 'carrier_refused' },
  5: { status: 'delivered', driver: 'twilio', failover: null },
  6: { status: 'delivered', driver: 'vonage', failover: 'no_receipt' },
  7: { status: 'failed', driver: 'twilio', failover: null },
  8: { status: 'failed', driver: 'vonage', failover: 'carrier_refused' },
  9: { status: 'failed', driver: 'vonage', failover: 'transient_failures' },
};

describe('the delivery & cost page with simulated messages', () => {
  /** The message sent to each digit. */
  const ids = new Map<number, string>();
  const suite = dashboardSuite({
    env: FAST_DISPATCH,
    async seed(server) {
      const patched = await server.bapi('PATCH', '/v1/instance', {
        test_mode: 'enabled',
        sms: { failover: { receipt_wait_seconds: RECEIPT_WAIT_SECONDS } },
      });
      expect(patched.statusCode, patched.body).toBe(200);
      for (const digit of DIGITS) {
        const queued = await sendCode(server, `+1555555019${digit}`);
        ids.set(digit, queued.id);
      }
      // A real number with the null driver is dropped: the real figures stay empty.
      await sendCode(server, '+14155550123');
      for (const [digit, id] of ids) {
        await eventually(
          `message to digit ${digit} (${id}) at its outcome`,
          async () => {
            const message = (await server.bapi('GET', `/v1/sms_messages/${id}`)).json();
            // Digit 3 stays `sent` for ever; its outcome is the move.
            return digit === 3
              ? message.driver === 'vonage' && message.failover?.from === 'twilio'
              : isTerminal(message.status as SmsStatus);
          },
          45_000,
        );
      }
    },
  });

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
    await expect.poll(() => page.locator('[data-stat="messages"]').textContent()).toBe(String(DIGITS.length));
    expect(await toggle.isChecked()).toBe(true);
    expect(await page.locator('[data-simulated-note]').textContent()).toContain('Simulated figures.');

    // Another window keeps the simulated figures.
    await page.getByRole('link', { name: 'Last hour' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('window')).toBe('hour');
    expect(new URL(page.url()).searchParams.get('simulated')).toBe('true');
    await expect.poll(() => page.locator('[data-stat="messages"]').textContent()).toBe(String(DIGITS.length));

    // And back to the real ones.
    await page.getByRole('checkbox', { name: SWITCH }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('simulated')).toBeNull();
    await expect.poll(() => page.getByText('No messages in this window').count()).toBe(1);
    expect(await page.locator('[data-simulated-note]').count()).toBe(0);
  });

  it('shows what the BAPI answers with simulated=true: outcomes by the carrier played, failovers, error codes and their meaning', async () => {
    const page = await open(`${DELIVERY_PAGE}?simulated=true`);
    const stats = await deliveryStats(suite.server, 'simulated=true');
    expect(stats.simulated).toBe(true);
    // Accepted by a carrier: 0, 1, 3, 4, 5, 6 and 8. Delivered: 0, 4 (by Vonage, after the move), 5 (after a timeout
    // and a retry) and 6 (slowly). Undelivered: 1. Failed: 2 (refused by both), 7 (invalid), 8 (filtered by Twilio's
    // receipt, moved, and refused by Vonage) and 9 (every attempt timed out). 3 is still `sent`, with Vonage.
    expect(stats.totals).toMatchObject({ messages: 10, sent: 7, delivered: 4, undelivered: 1, failed: 4 });
    // 2, 3, 4, 8 and 9 moved from Twilio to Vonage, and so did 6: its receipt is slower than the 10 s wait.
    expect(stats.totals.failovers).toBe(6);
    // Digit 6 was delivered 20 s after a carrier accepted it: the slowest delivery of its driver.
    expect(Math.max(...stats.by_driver.map((d) => d.time_to_delivery?.p90_ms ?? 0))).toBeGreaterThanOrEqual(SIMULATED_SLOW_RECEIPT_MS);

    expect(await page.locator('[data-stat="messages"]').textContent()).toBe(String(stats.totals.messages));
    expect(await page.locator('[data-stat="failovers"]').textContent()).toBe(String(stats.totals.failovers));
    expect(await page.locator('[data-stat="delivery_rate"]').textContent()).toBe(percent(stats.totals.delivery_rate));

    const drivers = '.figures-table:has(caption:text("Delivery by driver"))';
    expect(await column(page, drivers, 'Driver')).toEqual(stats.by_driver.map((d) => ({ twilio: 'Twilio', vonage: 'Vonage' })[d.driver]));
    expect(new Set(await column(page, drivers, 'Driver'))).toEqual(new Set(['Twilio', 'Vonage']));
    for (const label of ['Messages', 'Delivered', 'Undelivered', 'Failed', 'Failovers'] as const) {
      const field = label.toLowerCase() as 'messages' | 'delivered' | 'undelivered' | 'failed' | 'failovers';
      expect(await column(page, drivers, label)).toEqual(stats.by_driver.map((d) => String(d[field])));
    }
    expect(await column(page, drivers, 'Time to delivery (median / p90)')).toEqual(
      stats.by_driver.map((d) =>
        d.time_to_delivery ? `${formatDuration(d.time_to_delivery.median_ms)} / ${formatDuration(d.time_to_delivery.p90_ms)}` : '–',
      ),
    );

    // Why they moved: refused (2, 4 and 8), no receipt within the wait (3 and 6), timeouts (9).
    expect(stats.failover_reasons).toEqual([
      { from: 'twilio', to: 'vonage', reason: 'carrier_refused', count: 3 },
      { from: 'twilio', to: 'vonage', reason: 'no_receipt', count: 2 },
      { from: 'twilio', to: 'vonage', reason: 'transient_failures', count: 1 },
    ]);
    expect(await page.locator('.failovers-table tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-failover')))).toEqual(
      stats.failover_reasons.map((f) => `${f.from}-${f.to}-${f.reason}`),
    );
    expect(await column(page, '.failovers-table', 'From')).toEqual(['Twilio', 'Twilio', 'Twilio']);
    expect(await column(page, '.failovers-table', 'To')).toEqual(['Vonage', 'Vonage', 'Vonage']);
    expect(await column(page, '.failovers-table', 'Messages')).toEqual(['3', '2', '1']);
    expect(await column(page, '.failovers-table', 'Why')).toEqual([
      'The first carrier refused it for a reason another carrier may not share',
      'The first carrier sent no delivery report within the wait',
      'The first carrier kept failing to answer',
    ]);

    expect(await column(page, '.error-codes-table', 'Code')).toEqual(stats.error_codes.map((e) => e.code));
    expect(await column(page, '.error-codes-table', 'Meaning')).toEqual(stats.error_codes.map((e) => e.meaning));
    const shown = new Map((await column(page, '.error-codes-table', 'Code')).map((code, i) => [code, i]));
    const meanings = await column(page, '.error-codes-table', 'Meaning');
    for (const [code, meaning] of [
      ['30003', 'Unreachable destination handset'],
      ['21408', 'Region not permitted by geo permissions'],
      ['21211', "Invalid 'To' number"],
      ['30007', 'Message filtered by the carrier'],
      // Digits 5 and 9.
      ['timeout', 'The carrier did not answer in time'],
    ] as const) {
      expect(shown.has(code), code).toBe(true);
      expect(meanings[shown.get(code)!]).toBe(meaning);
    }
    expect(await page.locator('[data-stat="cost"]').textContent()).toBe('Not reported');
  });

  it('shows each simulated message at its outcome in the message log, with its move to Vonage and why', async () => {
    const tab = await suite.openTab();
    await openSignedIn(tab, suite.server, '/dashboard/activity/messages');
    for (const digit of DIGITS) {
      const row = tab.page.locator(`.messages-table tr[data-message="${ids.get(digit)}"]`);
      const { status, failover } = OUTCOMES[digit];
      await expect.poll(() => row.locator('[data-sms-status]').getAttribute('data-sms-status'), { message: `digit ${digit}` }).toBe(status);
      expect(await row.locator('[data-failover]').count(), `digit ${digit}`).toBe(failover === null ? 0 : 1);
      if (failover !== null) expect(await row.locator('[data-failover]').textContent()).toBe(' moved to vonage');
    }

    for (const digit of DIGITS) {
      const { status, driver, failover } = OUTCOMES[digit];
      await tab.page.goto(dashboardUrl(suite.server, `/dashboard/activity/messages?message=${ids.get(digit)}`));
      const view = tab.page.locator('.message-view');
      await expect
        .poll(() => view.locator('.message-title [data-sms-status]').getAttribute('data-sms-status'), { message: `digit ${digit}` })
        .toBe(status);
      const facts = view.locator('dl.facts');
      expect(await facts.locator('dt:text-is("Driver") + dd').textContent(), `digit ${digit}`).toBe(driver);
      const attempts = await view.locator('.sms-attempts-table td[data-label="Attempt"]').allTextContents();
      if (failover === null) {
        expect(await facts.locator('[data-failover-reason]').count(), `digit ${digit}`).toBe(0);
        expect(
          attempts.every((a) => a.endsWith('(twilio)')),
          `digit ${digit}: ${attempts}`,
        ).toBe(true);
      } else {
        expect(await facts.locator('[data-failover-reason]').getAttribute('data-failover-reason'), `digit ${digit}`).toBe(failover);
        expect(await facts.locator('[data-failover-reason]').textContent()).toMatch(
          /^Moved from twilio to vonage at .+: the first carrier /,
        );
        // Each attempt keeps its driver: Twilio's first, then Vonage's.
        expect(attempts[0], `digit ${digit}`).toMatch(/\(twilio\)$/);
        expect(attempts.at(-1), `digit ${digit}`).toMatch(/\(vonage\)$/);
      }
    }
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
