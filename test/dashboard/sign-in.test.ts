/** Signing in with a secret key: refusals in the API's words, a key kept for the tab only, sign-out, a revoked key. */
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateSecretKey } from '../../src/auth/secret-keys.js';
import { SYSTEM_ACTOR } from '../../src/audit/audit-log.js';
import { createTestStore, startTestServer, type TestServer, type TestStore } from '../helpers/server.js';
import { dashboardUrl, heading, launchBrowser, openTab, signIn, storageText, type DashboardTab } from './browser.js';

describe('sign-in', () => {
  let store: TestStore;
  let server: TestServer;
  let browser: Browser;
  let tab: DashboardTab;
  beforeAll(async () => {
    store = await createTestStore('sqlite');
    server = await startTestServer(store, { listen: true });
    browser = await launchBrowser();
  });
  afterEach(async () => {
    expect(tab.problems).toEqual([]);
    await tab.close();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await store?.cleanup();
  });

  const attempt = async (key: string) => {
    await tab.page.getByLabel('Secret key').fill(key);
    await tab.page.getByRole('button', { name: 'Sign in' }).click();
  };

  it('refuses a wrong key with the reason and the API code, and keeps nothing', async () => {
    tab = await openTab(browser);
    await tab.page.goto(dashboardUrl(server));
    expect(await tab.page.title()).toBe('Sign in · authn.sh dashboard');

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
    tab = await openTab(browser);
    await tab.page.goto(dashboardUrl(server, '/dashboard/activity/audit-log'));
    await signIn(tab.page, server.key);
    expect(await heading(tab.page)).toBe('Audit log');
    expect(tab.page.url()).toBe(dashboardUrl(server, '/dashboard/activity/audit-log'));
    // Only a hint of the key is on screen.
    expect(await tab.page.locator('.key-hint').textContent()).toContain(`${server.key.slice(0, 8)}…${server.key.slice(-4)}`);
    expect(await tab.page.content()).not.toContain(server.key);

    const storage = await storageText(tab.page);
    expect(storage.session).toContain(server.key);
    expect(storage.local).toBe('{}');
    expect(await tab.context.cookies()).toEqual([]);

    // A reload keeps the tab signed in; another tab starts signed out.
    await tab.page.reload();
    await expect.poll(() => heading(tab.page)).toBe('Audit log');
    const other = await tab.context.newPage();
    await other.goto(dashboardUrl(server));
    await expect.poll(() => other.getByLabel('Secret key').isVisible()).toBe(true);
    await other.close();
  });

  it('signs out, forgetting the key', async () => {
    tab = await openTab(browser);
    await tab.page.goto(dashboardUrl(server));
    await signIn(tab.page, server.key);
    await tab.page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => tab.page.getByRole('status').textContent()).toBe('You are signed out.');
    expect(await storageText(tab.page)).toEqual({ session: '{}', local: '{}' });
    await tab.page.reload();
    await expect.poll(() => tab.page.getByLabel('Secret key').isVisible()).toBe(true);
  });

  it('goes back to sign-in, saying why, when the key is revoked mid-session', async () => {
    const { key, secretKey } = await server.running.services.secretKeys.create({ kind: 'live', name: 'doomed', actor: SYSTEM_ACTOR });
    tab = await openTab(browser);
    await tab.page.goto(dashboardUrl(server));
    await signIn(tab.page, key);
    await server.running.services.secretKeys.revoke(secretKey.id, SYSTEM_ACTOR);
    await tab.page.getByRole('link', { name: 'Audit log' }).click();
    await expect.poll(() => tab.page.getByRole('status').first().textContent()).toContain('Your secret key no longer works (secret_key_invalid)');
    expect(await storageText(tab.page)).toEqual({ session: '{}', local: '{}' });
  });

  it('shows "page not found" for an unknown dashboard address', async () => {
    tab = await openTab(browser);
    await tab.page.goto(dashboardUrl(server, '/dashboard/nowhere'));
    await signIn(tab.page, server.key);
    expect(await heading(tab.page)).toBe('Page not found');
    await tab.page.getByRole('link', { name: 'Go to the SMS settings' }).click();
    await expect.poll(() => heading(tab.page)).toBe('SMS');
  });
});
