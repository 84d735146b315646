/** Signing in with a secret key: refusals in the API's words, a key kept for the tab only, sign-out, a revoked key. */
import { describe, expect, it } from 'vitest';
import { generateSecretKey } from '../../src/auth/secret-keys.js';
import { SYSTEM_ACTOR } from '../../src/audit/audit-log.js';
import { dashboardSuite, dashboardUrl, heading, signIn, storageText, type DashboardTab } from './browser.js';

describe('sign-in', () => {
  const suite = dashboardSuite();
  let tab: DashboardTab;

  const attempt = async (key: string) => {
    await tab.page.getByLabel('Secret key').fill(key);
    await tab.page.getByRole('button', { name: 'Sign in' }).click();
  };

  it('refuses a wrong key with the reason and the API code, and keeps nothing', async () => {
    tab = await suite.openTab();
    await tab.page.goto(dashboardUrl(suite.server));
    await expect.poll(() => tab.page.title()).toBe('Sign in · authn.sh dashboard');

    await attempt(generateSecretKey('live'));
    const error = tab.page.locator('#secret-key-error');
    await expect.poll(() => error.textContent()).toContain('This secret key is unknown or has been revoked.');
    expect(await error.textContent()).toContain('secret_key_invalid');
    expect(await tab.page.getByLabel('Secret key').getAttribute('aria-invalid')).toBe('true');

    await attempt('not-a-key');
    await expect.poll(() => error.textContent()).toContain('authorization_header_malformed');
    expect(await error.textContent()).toContain('Keys start with sk_live_ or sk_test_');

    await attempt('');
    await expect.poll(() => error.textContent()).toContain('Enter your secret key.');

    expect(await storageText(tab.page)).toEqual({ session: '{}', local: '{}' });
    expect(await tab.page.getByRole('button', { name: 'Sign out' }).count()).toBe(0);
  });

  it('signs in with the right key, lands on the page asked for, and keeps the key for this tab only', async () => {
    tab = await suite.openTab();
    await tab.page.goto(dashboardUrl(suite.server, '/dashboard/activity/audit-log'));
    await signIn(tab.page, suite.server.key);
    expect(await heading(tab.page)).toBe('Audit log');
    expect(tab.page.url()).toBe(dashboardUrl(suite.server, '/dashboard/activity/audit-log'));
    // Only a hint of the key is on screen.
    expect(await tab.page.locator('.key-hint').textContent()).toContain(`${suite.server.key.slice(0, 8)}…${suite.server.key.slice(-4)}`);
    expect(await tab.page.content()).not.toContain(suite.server.key);

    const storage = await storageText(tab.page);
    expect(storage.session).toContain(suite.server.key);
    expect(storage.local).toBe('{}');
    expect(await tab.context.cookies()).toEqual([]);

    // A reload keeps the tab signed in; another tab starts signed out.
    await tab.page.reload();
    await expect.poll(() => heading(tab.page)).toBe('Audit log');
    const other = await tab.context.newPage();
    await other.goto(dashboardUrl(suite.server));
    await expect.poll(() => other.getByLabel('Secret key').isVisible()).toBe(true);
    await other.close();
  });

  it('signs out, forgetting the key', async () => {
    tab = await suite.openTab();
    await tab.page.goto(dashboardUrl(suite.server));
    await signIn(tab.page, suite.server.key);
    await tab.page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => tab.page.getByRole('status').textContent()).toBe('You are signed out.');
    expect(await storageText(tab.page)).toEqual({ session: '{}', local: '{}' });
    await tab.page.reload();
    await expect.poll(() => tab.page.getByLabel('Secret key').isVisible()).toBe(true);
  });

  it('goes back to sign-in, saying why, when the key is revoked mid-session', async () => {
    const { key, secretKey } = await suite.server.running.services.secretKeys.create({ kind: 'live', name: 'doomed', actor: SYSTEM_ACTOR });
    tab = await suite.openTab();
    await tab.page.goto(dashboardUrl(suite.server));
    await signIn(tab.page, key);
    // The first page has loaded with the key (else its own request could be the one refused).
    await expect.poll(() => tab.page.getByLabel('Null driver').isChecked()).toBe(true);
    await suite.server.running.services.secretKeys.revoke(secretKey.id, SYSTEM_ACTOR);
    await tab.page.getByRole('link', { name: 'Audit log' }).click();
    await expect
      .poll(() => tab.page.getByRole('status').first().textContent())
      .toContain('Your secret key no longer works (secret_key_invalid)');
    expect(await storageText(tab.page)).toEqual({ session: '{}', local: '{}' });
  });

  it('shows "page not found" for an unknown dashboard address', async () => {
    tab = await suite.openTab();
    await tab.page.goto(dashboardUrl(suite.server, '/dashboard/nowhere'));
    await signIn(tab.page, suite.server.key);
    expect(await heading(tab.page)).toBe('Page not found');
    await tab.page.getByRole('link', { name: 'Go to the SMS settings' }).click();
    await expect.poll(() => heading(tab.page)).toBe('SMS');
  });
});
