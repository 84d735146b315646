/**
 * Configure → Abuse defences in a real browser, confirmed through the API: the limits shown as stored, a change
 * saved, a refused value explained beside its field (and nothing saved), and discarding a draft.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { dashboardSuite, expectFieldError, fieldInput, openSignedIn, type DashboardTab } from './browser.js';

const ABUSE_PAGE = '/dashboard/configure/abuse';

describe('the abuse defences page', () => {
  const suite = dashboardSuite();
  let tab: DashboardTab;
  const abuse = async () => (await suite.server.bapi('GET', '/v1/instance')).json().abuse;

  beforeEach(async () => {
    tab = await suite.openTab();
    await openSignedIn(tab, suite.server, ABUSE_PAGE);
    await expect
      .poll(() => fieldInput(tab.page, 'abuse.sends_per_phone_number.max').inputValue())
      .toBe(String((await abuse()).sends_per_phone_number.max));
  });

  it('shows the stored limits, saves a change, and explains a refused value beside its field without saving anything', async () => {
    const { page } = tab;
    expect(await fieldInput(page, 'abuse.sms_countries.countries').inputValue()).toBe('US, CA');
    expect(await page.getByLabel('Only the countries listed').isChecked()).toBe(true);

    await fieldInput(page, 'abuse.sends_per_phone_number.max').fill('3');
    await fieldInput(page, 'abuse.creates_per_ip.window_seconds').fill('120');
    await page.getByLabel('Every country but those listed').check();
    await fieldInput(page, 'abuse.sms_countries.countries').fill('ru, ng');
    await expect.poll(() => page.locator('.save-state').textContent()).toBe('You have unsaved changes.');
    await page.getByRole('button', { name: 'Save abuse defences' }).click();
    await expect.poll(() => page.locator('.save-state').textContent()).toBe('Saved.');
    expect(await abuse()).toMatchObject({
      sends_per_phone_number: { max: 3, window_seconds: 600 },
      creates_per_ip: { max: 30, window_seconds: 120 },
      sms_countries: { mode: 'deny', countries: ['RU', 'NG'] },
    });
    expect(await fieldInput(page, 'abuse.sms_countries.countries').inputValue()).toBe('RU, NG');

    // Refused values: the reasons beside the fields, the summary focused, nothing saved.
    const before = await abuse();
    await fieldInput(page, 'abuse.attempts_per_challenge').fill('11');
    await fieldInput(page, 'abuse.sends_per_ip.max').fill('50');
    await fieldInput(page, 'abuse.hourly_send_budget').fill('');
    await page.getByRole('button', { name: 'Save abuse defences' }).click();
    await expectFieldError(page, 'abuse.attempts_per_challenge', 'Wrong codes per challenge must be at most 10', { summary: true });
    // An empty box is a number that is missing, said in the page's words, and in the page's order.
    await expectFieldError(page, 'abuse.hourly_send_budget', 'Codes sent per hour must be a whole number.');
    expect(await page.locator('.error-summary li a').allTextContents()).toEqual([
      'Codes sent per hour must be a whole number.',
      'Wrong codes per challenge must be at most 10',
    ]);
    expect(await abuse()).toEqual(before);

    // The code lifetime and the wait after wrong codes: saved, and a longest wait under the first one refused.
    await page.getByRole('button', { name: 'Discard changes' }).click();
    expect(await fieldInput(page, 'abuse.code_lifetime_minutes').inputValue()).toBe('10');
    await fieldInput(page, 'abuse.code_lifetime_minutes').fill('1');
    await fieldInput(page, 'abuse.wrong_code_backoff.initial_seconds').fill('30');
    await page.getByRole('button', { name: 'Save abuse defences' }).click();
    await expect.poll(() => page.locator('.save-state').textContent()).toBe('Saved.');
    expect(await abuse()).toMatchObject({ code_lifetime_minutes: 1, wrong_code_backoff: { initial_seconds: 30, max_seconds: 1_920 } });
    const saved = await abuse();
    await fieldInput(page, 'abuse.wrong_code_backoff.max_seconds').fill('10');
    await page.getByRole('button', { name: 'Save abuse defences' }).click();
    await expectFieldError(
      page,
      'abuse.wrong_code_backoff.max_seconds',
      'must not be less than First wait in seconds for a new code after wrong codes',
      { summary: true },
    );
    expect(await abuse()).toEqual(saved);
    await fieldInput(page, 'abuse.attempts_per_challenge').fill('11');
    await fieldInput(page, 'abuse.sends_per_ip.max').fill('50');

    // Discarded: the inputs show what is stored again.
    await page.getByRole('button', { name: 'Discard changes' }).click();
    expect(await fieldInput(page, 'abuse.attempts_per_challenge').inputValue()).toBe('5');
    expect(await fieldInput(page, 'abuse.sends_per_ip.max').inputValue()).toBe('20');
    await expect.poll(() => page.locator('.save-state').textContent()).toBe('All changes saved.');
  });
});
