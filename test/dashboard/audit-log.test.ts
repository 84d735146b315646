/**
 * The audit log page against a log written at known times (a fake clock): newest first, "load older" paging,
 * quick and typed action filters (exact and `sms.*`), a target picked from an entry, a time range, and a range that
 * cannot hold anything refused beside its field.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { recordAudit, SYSTEM_ACTOR, type AuditAction } from '../../src/audit/audit-log.js';
import { dashboardSuite, openSignedIn } from './browser.js';

const AUDIT_PAGE = '/dashboard/activity/audit-log';
const START = Date.UTC(2026, 0, 15, 9, 0, 0);
const MINUTE = 60_000;

const rows = (page: Page) => page.locator('.data-table tbody tr');
const actions = (page: Page) => page.locator('.data-table tbody td[data-label="Action"]').allTextContents();
const times = (page: Page) => page.locator('.data-table tbody time').evaluateAll((els) => els.map((el) => el.getAttribute('datetime')));

describe('the audit log page', () => {
  let now = START;
  const clock = { now: () => now };
  let keyId: string;
  const suite = dashboardSuite({
    clock,
    async seed(server) {
      // 09:01 … 09:30: thirty settings changes by the test's key.
      for (let i = 0; i < 30; i++) {
        now += MINUTE;
        expect((await server.bapi('PATCH', '/v1/instance', { app_name: `App ${i}` })).statusCode).toBe(200);
      }
      // 09:31 … 09:35: five SMS entries, as the send engine writes them.
      for (let i = 0; i < 5; i++) {
        now += MINUTE;
        await recordAudit(server.running.services.store.db, clock, {
          actor: SYSTEM_ACTOR,
          action: 'sms.queued',
          target: { type: 'sms_message', id: `sms_${i}` },
          data: { template: 'verification_code' },
        });
      }
      // 09:36: a second key.
      now += MINUTE;
      await server.running.services.secretKeys.create({ kind: 'live', name: 'ci', actor: SYSTEM_ACTOR });
      keyId = (await server.bapi('GET', '/v1/audit_logs?action=instance.updated&limit=1')).json().data[0].actor.id;
    },
  });

  const open = async (path = AUDIT_PAGE) => {
    const tab = await suite.openTab();
    await openSignedIn(tab, suite.server, path);
    await expect.poll(() => tab.page.locator('.state-loading').count()).toBe(0);
    return tab.page;
  };

  it('lists the newest first and loads older entries until the end', async () => {
    const page = await open();
    await expect.poll(() => rows(page).count()).toBe(25);
    const first = rows(page).first();
    expect(await first.locator('td[data-label="Action"]').textContent()).toBe('secret_key.created');
    expect(await first.locator('time').getAttribute('datetime')).toBe(new Date(START + 36 * MINUTE).toISOString());
    expect(await first.locator('td[data-label="Time"]').textContent()).toBe('15 Jan 2026, 09:36:00');

    await page.getByRole('button', { name: 'Load older entries' }).click();
    // 30 changes + 5 SMS + 2 keys + the first start's bootstrap entry.
    await expect.poll(() => rows(page).count()).toBe(38);
    expect(await page.getByText('End of the audit log for these filters.').isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'Load older entries' }).count()).toBe(0);
    expect(await page.getByRole('status').filter({ hasText: 'older entries loaded' }).textContent()).toBe(
      '13 older entries loaded; 38 shown.',
    );
    const shown = await times(page);
    expect([...shown].sort().reverse()).toEqual(shown);
  });

  it("shows each entry's actor (the signed-in key marked), target and data", async () => {
    const page = await open();
    const change = rows(page).filter({ hasText: 'App 29' });
    await expect.poll(() => change.locator('td[data-label="Actor"]').textContent()).toBe(`secret key ${keyId} (this key)`);
    // The instance's settings are one target: its type is its name.
    expect(await change.locator('td[data-label="Target"]').textContent()).toBe('instance');
    expect(await change.locator('td[data-label="Details"]').textContent()).toBe('app_name: "App 28" → "App 29"');
    const sms = rows(page).filter({ hasText: 'sms_4' });
    expect(await sms.locator('td[data-label="Actor"]').textContent()).toBe('system');
    expect(await sms.locator('td[data-label="Details"]').textContent()).toContain('"template": "verification_code"');
  });

  it('matches the signed-in key to its entries: the top bar names its id and leads to them, the actor filter says it', async () => {
    const page = await open(`${AUDIT_PAGE}?action=sms.*`);
    const keyLink = page.getByRole('banner').getByRole('link', { name: `key ${keyId}` });
    await expect.poll(() => keyLink.count()).toBe(1);
    expect(await page.getByRole('banner').textContent()).toContain(
      `${suite.server.key.slice(0, 8)}…${suite.server.key.slice(-4)} key ${keyId}`,
    );
    expect(await page.locator('#field-actor_id-hint').textContent()).toBe(`A secret key id (sk_01…); yours is ${keyId}`);
    await keyLink.click();
    await expect.poll(() => page.getByLabel('Actor id').inputValue()).toBe(keyId);
    await expect.poll(() => rows(page).count()).toBe(25);
    expect(new Set(await actions(page))).toEqual(new Set(['instance.updated']));
  });

  it('filters by action: a quick filter for sms.*, and an exact action typed in', async () => {
    const page = await open();
    await page.getByRole('navigation', { name: 'Quick filters' }).getByRole('link', { name: 'SMS' }).click();
    await expect.poll(() => rows(page).count()).toBe(5);
    expect(new Set(await actions(page))).toEqual(new Set(['sms.queued']));
    expect(new URL(page.url()).searchParams.get('action')).toBe('sms.*');
    expect(
      await page.getByRole('navigation', { name: 'Quick filters' }).getByRole('link', { name: 'SMS' }).getAttribute('aria-current'),
    ).toBe('page');
    expect(await page.getByLabel('Action').inputValue()).toBe('sms.*');

    await page.getByLabel('Action').fill('instance.updated');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => rows(page).count()).toBe(25);
    await page.getByRole('button', { name: 'Load older entries' }).click();
    await expect.poll(() => rows(page).count()).toBe(30);
    expect(new Set(await actions(page))).toEqual(new Set(['instance.updated']));

    // The filter lives in the address: a reload shows the same view; "Clear filters" shows everything again.
    await page.reload();
    await expect.poll(() => rows(page).count()).toBe(25);
    expect(new Set(await actions(page))).toEqual(new Set(['instance.updated']));
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await expect.poll(() => actions(page).then((a) => a[0])).toBe('secret_key.created');
    expect(await page.getByLabel('Action').inputValue()).toBe('');
  });

  it('filters by a target picked from an entry', async () => {
    const page = await open(`${AUDIT_PAGE}?action=sms.*`);
    await page.getByRole('link', { name: 'sms message sms_2' }).click();
    await expect.poll(() => rows(page).count()).toBe(1);
    expect(await page.getByLabel('Target type').inputValue()).toBe('sms_message');
    expect(await page.getByLabel('Target id').inputValue()).toBe('sms_2');
    expect(await rows(page).locator('td[data-label="Target"]').textContent()).toBe('sms message sms_2');
  });

  it('filters by a time range (from inclusive, to exclusive)', async () => {
    const page = await open();
    await page.getByLabel('From', { exact: true }).fill('2026-01-15T09:10:00');
    await page.getByLabel('To', { exact: true }).fill('2026-01-15T09:20:00');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => rows(page).count()).toBe(10);
    const shown = await times(page);
    expect(shown[0]).toBe(new Date(START + 19 * MINUTE).toISOString());
    expect(shown[9]).toBe(new Date(START + 10 * MINUTE).toISOString());
    expect(await page.getByText('End of the audit log for these filters.').isVisible()).toBe(true);
  });

  it('refuses an empty time range beside the "To" field', async () => {
    const page = await open();
    await page.getByLabel('From', { exact: true }).fill('2026-01-15T09:20:00');
    await page.getByLabel('To', { exact: true }).fill('2026-01-15T09:10:00');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const error = page.locator('#field-created_before-error');
    await expect.poll(() => error.textContent()).toBe('Error: "To" must be later than "From".');
    expect(await page.getByLabel('To', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(await rows(page).count()).toBe(0);
  });

  it('says so when nothing matches, and reloads when the same filters are applied again', async () => {
    const page = await open(`${AUDIT_PAGE}?action=webhook.*`);
    await expect.poll(() => page.getByRole('heading', { name: 'No entries' }).isVisible()).toBe(true);
    expect(await page.getByText('No audit entries match these filters.').isVisible()).toBe(true);

    // Applying the same filters again loads afresh. (Last in this file: it adds an entry.)
    await recordAudit(suite.server.running.services.store.db, clock, {
      actor: SYSTEM_ACTOR,
      action: 'webhook.endpoint_created' as AuditAction,
      target: { type: 'webhook_endpoint', id: 'whe_1' },
    });
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => actions(page)).toEqual(['webhook.endpoint_created']);
  });
});
