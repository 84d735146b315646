/**
 * The webhooks page in a real browser, against a real receiver that verifies every POST with the `standardwebhooks`
 * library: an endpoint created (its URL refused first, beside the field), its secret shown once, copied and then
 * gone from the page and its memory; a test event's delivery seen arriving in the log with its attempt; a failing
 * delivery with a truncated answer, retried; disable / enable; a change; a rotated secret that signs; deletion.
 */
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { Receiver, webhookEnv } from '../webhooks/receiver.js';
import {
  dashboardSuite,
  expectFieldError,
  expectSecretGone,
  fieldInput,
  focused,
  heapHolds,
  inputValues,
  openSignedIn,
  type DashboardTab,
} from './browser.js';

const WEBHOOKS_PAGE = '/dashboard/configure/webhooks';

const delivery = (page: Page, eventType: string) =>
  page.locator('.deliveries > li').filter({ has: page.locator('.delivery-type', { hasText: eventType }) });
const secretBox = (page: Page) => page.getByLabel('Signing secret', { exact: true });

describe('the webhooks page', () => {
  // Retries come quickly, and the receiver is on loopback.
  const suite = dashboardSuite({
    serverPerTest: true,
    env: webhookEnv({ AUTHN_WEBHOOKS_RETRY_SCHEDULE: '50ms,50ms', AUTHN_WEBHOOKS_RESPONSE_BODY_LIMIT_BYTES: '1024' }),
  });
  const receivers: Receiver[] = [];
  afterEach(async () => {
    for (const receiver of receivers.splice(0)) await receiver.stop();
  });
  const receiver = async () => {
    const started = await new Receiver().start();
    receivers.push(started);
    return started;
  };
  const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown) => suite.server.bapi(method, url, body);

  const open = async (tab: DashboardTab, path = WEBHOOKS_PAGE) => {
    await openSignedIn(tab, suite.server, path);
    await expect.poll(() => tab.page.locator('.state-loading').count()).toBe(0);
    return tab.page;
  };

  it('creates an endpoint, shows its secret once, and shows a test delivery arriving with its attempt', async () => {
    const hook = await receiver();
    const tab = await suite.openTab();
    await tab.context.grantPermissions(['clipboard-read', 'clipboard-write']);
    const page = await open(tab);
    await expect.poll(() => page.getByRole('heading', { name: 'No endpoints yet' }).isVisible()).toBe(true);

    await page.getByRole('button', { name: 'Add an endpoint' }).click();
    await expect.poll(async () => (await focused(page)).id).toBe('field-url');
    await fieldInput(page, 'url').fill('ftp://example.com/hooks');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await expectFieldError(page, 'url', 'URL must use http or https (got ftp)', { summary: true });

    // Only some events, and none chosen: the API's refusal stands at the event types.
    await fieldInput(page, 'url').fill(hook.url);
    await page.getByLabel('Only the events I choose').check();
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await expect
      .poll(() => page.locator('#field-event_types-error').textContent())
      .toBe('Error: Choose at least one event, or All events.');
    expect((await api('GET', '/v1/webhooks/endpoints')).json().data).toEqual([]);

    await page.getByLabel('webhook.test').check();
    await page.getByLabel('sms.delivered').check();
    await fieldInput(page, 'description').fill('CI receiver');
    await page.getByRole('button', { name: 'Add endpoint' }).click();

    // The secret, once: in a read-only box that took the focus, with Copy.
    const box = page.locator('.one-time-secret');
    await expect.poll(() => box.isVisible()).toBe(true);
    await expect.poll(async () => (await focused(page)).tag).toBe('section');
    const secret = await secretBox(page).inputValue();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]{20,}$/);
    await page.getByRole('button', { name: 'Copy signing secret' }).click();
    await expect.poll(() => page.locator('.copy-state').textContent()).toBe('Copied to the clipboard.');
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(secret);
    // Until dismissed the page holds it (which shows that the memory check below can see it).
    expect(await heapHolds(page, secret)).toBe(true);

    const [endpoint] = (await api('GET', '/v1/webhooks/endpoints')).json().data;
    expect(endpoint).toMatchObject({
      url: hook.url,
      description: 'CI receiver',
      event_types: ['sms.delivered', 'webhook.test'],
      enabled: true,
    });
    expect(endpoint.secret).toBeUndefined();
    const row = page.locator(`tr[data-endpoint="${endpoint.id}"]`);
    expect(await row.locator('td[data-label="Events"]').textContent()).toBe('sms.deliveredwebhook.test');

    // Dismissed: gone from the page, its inputs, its storage, its memory; no later answer carries it.
    await page.getByRole('button', { name: 'I have stored it, hide it' }).click();
    await expect.poll(() => box.count()).toBe(0);
    await expect.poll(async () => (await focused(page)).text).toBe(hook.url);
    await page.reload();
    await expect.poll(() => row.isVisible()).toBe(true);
    await expectSecretGone(tab, secret, { revealedOnce: true });

    // The endpoint's own view: a test event, delivered and signed with the secret that was shown.
    await row.getByRole('link').click();
    await expect.poll(() => page.locator('.endpoint-title').textContent()).toContain(hook.url);
    await expect.poll(() => page.getByRole('heading', { name: 'No deliveries' }).isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Send a test event' }).click();
    await expect.poll(() => page.locator('.save-state').textContent()).toContain('A webhook.test event is on its way');
    // The log refreshes itself: the delivery turns to Succeeded without a reload.
    const test = delivery(page, 'webhook.test');
    await expect.poll(() => test.getAttribute('data-status'), { timeout: 15_000 }).toBe('succeeded');
    await test.getByText('1 attempt').click();
    const attempt = test.locator('.attempts-table tbody tr');
    expect(await attempt.locator('td[data-label="Result"]').textContent()).toBe('HTTP 200');
    expect(await attempt.locator('td[data-label="Latency"]').textContent()).toMatch(/^\d+ ms$/);
    expect(await attempt.locator('td[data-label="Response"]').textContent()).toBe('{"received":true}');

    const [received] = hook.verified(secret);
    expect(received).toMatchObject({ type: 'webhook.test', data: { object: 'webhook_test', endpoint_id: endpoint.id } });
    expect(await test.locator('summary').textContent()).toContain(received!.id);
    await expectSecretGone(tab, secret, { revealedOnce: true });
  });

  it('retries a failed delivery, disables and enables, changes the endpoint, rotates its secret and deletes it', async () => {
    const hook = await receiver();
    const created = (await api('POST', '/v1/webhooks/endpoints', { url: hook.url })).json();
    const tab = await suite.openTab();
    const page = await open(tab, `${WEBHOOKS_PAGE}?endpoint=${created.id}`);
    await expect.poll(() => page.locator('.endpoint-title').textContent()).toContain(hook.url);

    // A receiver answering 500 with a long body: three attempts, then failed; the answer kept is cut short.
    hook.answer = 'big';
    await page.getByRole('button', { name: 'Send a test event' }).click();
    const test = delivery(page, 'webhook.test');
    await expect.poll(() => test.getAttribute('data-status'), { timeout: 15_000 }).toBe('failed');
    // The endpoint, read again, says since when every attempt has failed.
    await page.reload();
    const failing = page.getByRole('status').filter({ hasText: 'Every attempt has failed since' });
    await expect.poll(() => failing.count()).toBe(1);
    expect(await failing.locator('time').getAttribute('datetime')).toBe(
      new Date((await api('GET', `/v1/webhooks/endpoints/${created.id}`)).json().failing_since).toISOString(),
    );
    await test.getByText('3 attempts').click();
    const attempts = test.locator('.attempts-table tbody tr');
    expect(await attempts.count()).toBe(3);
    expect(await attempts.first().locator('td[data-label="Result"]').textContent()).toBe('HTTP 500');
    expect(await attempts.first().locator('.response-body').textContent()).toBe('x'.repeat(1024));
    expect(await attempts.first().locator('td[data-label="Response"]').textContent()).toContain(
      'Truncated: only the start of the answer is kept.',
    );

    // The failed filter shows it; a retry against a mended receiver succeeds.
    await page.getByRole('navigation', { name: 'Filter deliveries' }).getByRole('link', { name: 'Failed' }).click();
    await expect.poll(() => page.locator('.deliveries > li').count()).toBe(1);
    hook.answer = 'ok';
    await test.getByRole('button', { name: 'Retry the webhook.test delivery' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'No deliveries' }).isVisible(), { timeout: 15_000 }).toBe(true);
    await page.getByRole('navigation', { name: 'Filter deliveries' }).getByRole('link', { name: 'All' }).click();
    await expect.poll(() => test.getAttribute('data-status')).toBe('succeeded');
    expect((await api('GET', `/v1/webhooks/endpoints/${created.id}`)).json().failing_since).toBeNull();
    await test.getByText('4 attempts').click();
    expect(await attempts.nth(3).locator('td[data-label="Time"]').textContent()).toContain('(retry)');
    expect(await attempts.nth(3).locator('td[data-label="Result"]').textContent()).toBe('HTTP 200');

    // Disabled: no test events; enabled again.
    await page.getByRole('button', { name: 'Disable' }).click();
    await expect.poll(() => page.locator('.endpoint-title .badge').textContent()).toBe('Disabled');
    expect(await page.getByRole('button', { name: 'Send a test event' }).isDisabled()).toBe(true);
    expect((await api('GET', `/v1/webhooks/endpoints/${created.id}`)).json().enabled).toBe(false);
    await page.getByRole('button', { name: 'Enable' }).click();
    await expect.poll(() => page.locator('.endpoint-title .badge').textContent()).toBe('Enabled');

    // A change: a description and a narrower subscription.
    await page.getByRole('button', { name: 'Change' }).click();
    await fieldInput(page, 'description').fill('Only failures');
    await page.getByLabel('Only the events I choose').check();
    await page.getByLabel('sms.failed').check();
    await page.getByLabel('webhook.test').check();
    await page.getByRole('button', { name: 'Save endpoint' }).click();
    await expect.poll(() => page.locator('.save-state').textContent()).toBe('Saved.');
    expect((await api('GET', `/v1/webhooks/endpoints/${created.id}`)).json()).toMatchObject({
      description: 'Only failures',
      event_types: ['sms.failed', 'webhook.test'],
    });

    // Rotation asks first (Escape cancels), then shows the new secret once; it signs the next delivery.
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    const dialog = page.getByRole('dialog', { name: 'Rotate the signing secret?' });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.count()).toBe(0);
    expect((await api('GET', '/v1/audit_logs?action=webhook_endpoint.secret_rotated')).json().data).toEqual([]);
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await dialog.getByRole('button', { name: 'Rotate' }).click();
    await expect.poll(() => page.locator('.one-time-secret').isVisible()).toBe(true);
    const rotated = await secretBox(page).inputValue();
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(created.secret);
    await page.getByRole('button', { name: 'I have stored it, hide it' }).click();
    await expect.poll(() => page.locator('.one-time-secret').count()).toBe(0);
    await expect.poll(async () => (await focused(page)).text).toBe('Rotate secret');
    expect(await inputValues(page)).not.toContain(rotated);

    const before = hook.received.length;
    await page.getByRole('button', { name: 'Send a test event' }).click();
    await expect.poll(() => hook.received.length, { timeout: 15_000 }).toBe(before + 1);
    hook.received.splice(0, before);
    expect(hook.verified(rotated)[0]).toMatchObject({ type: 'webhook.test' });
    await expectSecretGone(tab, rotated, { revealedOnce: true });
    await expectSecretGone(tab, created.secret);

    // Deletion asks first, then goes back to the list, saying so.
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog', { name: 'Delete this endpoint?' }).getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => page.locator('.notice').textContent()).toBe(`The endpoint ${hook.url} was deleted, with its delivery log.`);
    expect(new URL(page.url()).search).toBe('');
    expect((await api('GET', `/v1/webhooks/endpoints/${created.id}`)).statusCode).toBe(404);
    await expect.poll(() => page.getByRole('heading', { name: 'No endpoints yet' }).isVisible()).toBe(true);
  });

  it('says so when an endpoint does not exist', async () => {
    const tab = await suite.openTab();
    const page = await open(tab, `${WEBHOOKS_PAGE}?endpoint=whe_nothing`);
    await expect.poll(() => page.getByRole('heading', { name: 'No such endpoint' }).isVisible()).toBe(true);
  });
});
