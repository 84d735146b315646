/**
 * Manage → Users in a real browser, confirmed through the API: users listed newest first and found by phone
 * number in international or national notation (a bad number explained beside the field), one user's numbers, a
 * password lockout shown and lifted (Unlock offered only then), and a deletion confirmed in a dialog.
 */
import { describe, expect, it } from 'vitest';
import { Fapi, patchSettings } from '../auth/helpers.js';
import { dashboardSuite, dashboardUrl, expectFieldError, fieldError, fieldInput, openSignedIn } from './browser.js';

const USERS_PAGE = '/dashboard/manage/users';
const [ALICE, BOB] = ['+12015550171', '+12015550172'];
const PASSWORD = 'correct horse battery';

describe('the users page', () => {
  const suite = dashboardSuite({
    async seed(server) {
      await patchSettings(server, { abuse: { password_lockout: { max_failures: 2 } } });
      const fapi = await new Fapi(server).start();
      await fapi.signedUpUser(ALICE, { password: PASSWORD });
      await fapi.signedUpUser(BOB);
    },
  });

  it('lists and finds users, lifts a password lockout, and deletes a user after confirming', async () => {
    const tab = await suite.openTab();
    await openSignedIn(tab, suite.server, USERS_PAGE);
    const { page } = tab;
    const rows = page.locator('.users-table tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    // Newest first.
    expect(await rows.nth(0).locator('td[data-label="Phone number"]').textContent()).toBe(BOB);
    expect(await rows.nth(1).locator('td[data-label="Sign-in"]').textContent()).toBe('Phone code or password');

    // A bad number is explained beside the field; a good one, in any notation, finds its user.
    await fieldInput(page, 'phone_number').fill('not a number');
    await page.getByRole('button', { name: 'Find' }).click();
    await expectFieldError(page, 'phone_number', 'Phone number ');
    expect(await fieldError(page, 'phone_number').textContent()).not.toContain('phone_number');
    expect(await page.locator('#field-phone_number-hint').textContent()).toContain(
      'or without it for a number of a country codes may go to',
    );
    await fieldInput(page, 'phone_number').fill('+1 (201) 555-0171');
    await page.getByRole('button', { name: 'Find' }).click();
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().locator('td[data-label="Phone number"]').textContent()).toBe(ALICE);
    await fieldInput(page, 'phone_number').fill('(201) 555-0172');
    await page.getByRole('button', { name: 'Find' }).click();
    await expect.poll(() => rows.first().locator('td[data-label="Phone number"]').textContent()).toBe(BOB);
    expect(await rows.count()).toBe(1);

    // Nobody is locked out: no user offers Unlock.
    await rows.first().getByRole('link', { name: BOB }).click();
    await expect.poll(() => page.locator('.user-view h2').textContent()).toBe(BOB);
    expect(await page.getByRole('button', { name: 'Delete user' }).count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Unlock password sign-in' }).count()).toBe(0);

    // Alice is locked out of password sign-in: the list and her page say so, until when; the operator lifts it.
    const fapi = await new Fapi(suite.server).start();
    for (let i = 0; i < 2; i++) await fapi.call('POST', '/v1/client/sign_ins', { identifier: ALICE, password: 'wrong password' });
    expect((await fapi.call('POST', '/v1/client/sign_ins', { identifier: ALICE, password: PASSWORD })).json().errors[0].code).toBe(
      'password_attempts_exceeded',
    );
    await page.goto(dashboardUrl(suite.server, USERS_PAGE));
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.nth(1).locator('td[data-label="Sign-in"]').textContent()).toBe('Phone code or password Password locked');
    expect(await rows.nth(0).locator('td[data-label="Sign-in"]').textContent()).toBe('Phone code');
    await rows.nth(1).getByRole('link', { name: ALICE }).click();
    await expect.poll(() => page.locator('.user-view h2').textContent()).toBe(ALICE);
    expect(await page.locator('.phone-numbers li').textContent()).toContain('Sign-in number');
    const lockedUntil = (await suite.server.bapi('GET', `/v1/users?phone_number=${encodeURIComponent(ALICE)}`)).json().data[0]
      .password_locked_until;
    const passwordFact = page.locator('.facts dt', { hasText: 'Password sign-in' }).locator('xpath=following-sibling::dd[1]');
    expect(await passwordFact.textContent()).toContain('Locked after too many wrong passwords, until');
    // The moment shown is the API's (to the second).
    expect(Date.parse((await passwordFact.locator('time').getAttribute('datetime'))!) / 1000).toBeCloseTo(lockedUntil / 1000, -1);
    await page.getByRole('button', { name: 'Unlock password sign-in' }).click();
    await expect.poll(() => page.locator('.user-view .save-state').textContent()).toContain('Password sign-in is unlocked');
    expect(await passwordFact.textContent()).toBe('Open');
    expect(await page.getByRole('button', { name: 'Unlock password sign-in' }).count()).toBe(0);
    // The button went with the lockout; the focus is on what happened rather than lost.
    expect(await page.evaluate(`document.activeElement?.classList.contains('save-state')`)).toBe(true);
    expect((await fapi.call('POST', '/v1/client/sign_ins', { identifier: ALICE, password: PASSWORD })).json().status).toBe('complete');

    // Deleting asks first; cancelling keeps the user.
    const userId = new URL(page.url()).searchParams.get('user')!;
    await page.getByRole('button', { name: 'Delete user' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    expect((await suite.server.bapi('GET', `/v1/users/${userId}`)).statusCode).toBe(200);
    await page.getByRole('button', { name: 'Delete user' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete user' }).click();
    await expect.poll(() => page.locator('.users .notice').textContent()).toBe(`User ${userId} was deleted.`);
    expect((await suite.server.bapi('GET', `/v1/users/${userId}`)).statusCode).toBe(404);
    await expect.poll(() => rows.count()).toBe(1);
  });
});
