/**
 * Configure → Allowed origins in a real browser, confirmed through the API: the stored list shown one per line, a
 * new list saved, a refused entry explained beside the field (and nothing saved), and discarding a draft.
 */
import { describe, expect, it } from 'vitest';
import { dashboardSuite, expectFieldError, fieldInput, openSignedIn } from './browser.js';

describe('the allowed origins page', () => {
  const suite = dashboardSuite({ env: { AUTHN_ALLOWED_ORIGINS: 'https://app.example.com' } });
  const stored = async () => (await suite.server.bapi('GET', '/v1/instance')).json().allowed_origins;

  it('shows the stored origins, saves a new list, and explains a refused entry beside the field without saving anything', async () => {
    const tab = await suite.openTab();
    const { page } = tab;
    await openSignedIn(tab, suite.server, '/dashboard/configure/allowed-origins');
    const field = fieldInput(page, 'allowed_origins');
    await expect.poll(() => field.inputValue()).toBe('https://app.example.com');
    expect(await page.getByRole('link', { name: 'Allowed origins' }).count()).toBe(1);

    await field.fill('https://app.example.com\n\n  http://localhost:5173  \nhttps://admin.example.com');
    await expect.poll(() => page.locator('.save-state').textContent()).toBe('You have unsaved changes.');
    await page.getByRole('button', { name: 'Save allowed origins' }).click();
    await expect.poll(() => page.locator('.save-state').textContent()).toBe('Saved.');
    expect(await stored()).toEqual(['https://app.example.com', 'http://localhost:5173', 'https://admin.example.com']);
    expect(await field.inputValue()).toBe('https://app.example.com\nhttp://localhost:5173\nhttps://admin.example.com');

    // A refused entry: the API's words (naming the entry) beside the field, the summary focused, nothing saved.
    await field.fill('https://app.example.com\nhttps://admin.example.com/');
    await page.getByRole('button', { name: 'Save allowed origins' }).click();
    await expectFieldError(page, 'allowed_origins', 'Allowed origins entry 2 is not an origin', { summary: true });
    expect(await stored()).toEqual(['https://app.example.com', 'http://localhost:5173', 'https://admin.example.com']);

    await page.getByRole('button', { name: 'Discard changes' }).click();
    expect(await field.inputValue()).toBe('https://app.example.com\nhttp://localhost:5173\nhttps://admin.example.com');
  });
});
