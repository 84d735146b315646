/**
 * The drop-in web components (`packages/elements`) in headless Chromium, on an app page served from its own origin
 * (http://localhost:<page port>, allowed by `allowed_origins`) against a real authn.sh on another port: sign-up and
 * sign-in through the elements, a wrong code shown beside the code field, the resend countdown, keyboard-only use,
 * axe, a 390 px screen, the phone-MFA toggle following the SMS driver and the phone-MFA setting, and a password
 * sign-in asking for the second factor enrolled through the profile, and the delivery state of a code's SMS beside
 * the code input.
 * The bundle is built here, as `packages/elements/scripts/build.ts` builds it, so a fresh clone passes.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleElements } from '../../packages/elements/scripts/build.js';
import { FakeTwilio } from '../fakes/twilio.js';
import { carrierEnv, dashboardSuite, seriousA11yViolations, type DashboardTab } from './browser.js';

const ACCOUNT_SID = `AC${randomBytes(16).toString('hex')}`;
const TWILIO_TOKEN = randomBytes(16).toString('hex');
const FROM = '+14155550100';
const CODE = '424242';
/** Real-looking numbers whose SMS the fake Twilio reports undelivered (30003), or never reports on. */
const UNREACHABLE = '+14155552671';
const NO_RECEIPT = '+14155552672';

/** The app: one page per element set, loading the bundle from the same origin. */
async function serveApp(bundle: string, fapiUrl: () => string): Promise<{ port: number; close(): Promise<void> }> {
  const bodies: Record<string, string> = {
    '/sign-in': '<authn-sign-in url="{FAPI}"></authn-sign-in>',
    '/sign-up': '<authn-sign-up url="{FAPI}"></authn-sign-up>',
    '/profile': '<authn-sign-in url="{FAPI}"></authn-sign-in><authn-user-profile url="{FAPI}"></authn-user-profile>',
  };
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname === '/elements.js') return void response.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
    const body = bodies[url.pathname];
    if (!body) return void response.writeHead(404).end();
    response
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end(
        `<!doctype html><html lang="en"><meta name="viewport" content="width=device-width, initial-scale=1"><title>App</title><main><h1>App</h1>${body.replaceAll('{FAPI}', fapiUrl())}</main><script type="module" src="/elements.js"></script></html>`,
      );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Events the elements fired on the page, in order (recorded from the start of the page). */
async function recordEvents(page: Page): Promise<void> {
  await page.addInitScript(`
    window.authnEvents = [];
    for (const type of ['authn:ready', 'authn:signed-in', 'authn:signed-up', 'authn:signed-out', 'authn:mfa-changed'])
      document.addEventListener(type, (event) => window.authnEvents.push({ type, detail: event.detail }));
  `);
}
const eventTypes = (page: Page): Promise<string[]> => page.evaluate(`window.authnEvents.map((e) => e.type)`);

/** The few DOM members `fieldErrorOf` reads in the page (the test project has no DOM types). */
interface PageNode {
  getAttribute(name: string): string | null;
  parentElement: unknown;
  textContent: string | null;
}
interface PageInput extends PageNode {
  closest(selector: string): unknown;
  getRootNode(): { getElementById(id: string): PageNode | null };
}

/** The error shown for an input: its text, and that the input is marked invalid and described by it. */
async function fieldErrorOf(input: Locator): Promise<{ text: string; invalid: string | null }> {
  return input.evaluate((el: PageInput) => {
    const root = el.getRootNode();
    const error = (el.getAttribute('aria-describedby') ?? '')
      .split(' ')
      .map((id) => root.getElementById(id))
      .find((node) => node?.getAttribute('part') === 'field-error');
    // The error sits in the same field block as its input.
    const beside = error && error.parentElement === el.closest('.field');
    return { text: beside ? (error.textContent ?? '') : '', invalid: el.getAttribute('aria-invalid') };
  });
}

/** Nothing wider than the screen: the page does not scroll sideways, and no element inside the shadow roots overflows. */
async function horizontalOverflow(page: Page): Promise<string[]> {
  return page.evaluate(`(() => {
    const wide = [];
    const width = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth > width) wide.push('document ' + document.documentElement.scrollWidth);
    const visit = (root) => {
      for (const el of root.querySelectorAll('*')) {
        const rect = el.getBoundingClientRect();
        if (rect.right > width + 0.5 || rect.left < -0.5) wide.push(el.tagName + '.' + el.className + ' ' + Math.round(rect.left) + '..' + Math.round(rect.right));
        if (el.shadowRoot) visit(el.shadowRoot);
      }
    };
    visit(document);
    return wide;
  })()`);
}

describe('web components (@authn.sh/elements)', () => {
  let bundle = '';
  let app: { port: number; close(): Promise<void> } | undefined;
  let twilio: FakeTwilio;
  beforeAll(async () => {
    bundle = await bundleElements();
    twilio = await FakeTwilio.start({
      accountSid: ACCOUNT_SID,
      authToken: TWILIO_TOKEN,
      callbacks: 'auto',
      sequence: (message) =>
        message.to === UNREACHABLE
          ? [{ status: 'sent' }, { status: 'undelivered', errorCode: '30003' }]
          : message.to === NO_RECEIPT
            ? [{ status: 'sent' }]
            : [{ status: 'sent' }, { status: 'delivered' }],
    });
  });
  afterAll(async () => {
    await app?.close();
    await twilio?.close();
  });

  const suite = dashboardSuite({
    serverPerTest: true,
    env: async () => {
      app ??= await serveApp(bundle, () => fapiUrl());
      return { ...(await carrierEnv({ twilio })), AUTHN_ALLOWED_ORIGINS: `http://localhost:${app.port}`, AUTHN_TEST_MODE: 'enabled' };
    },
    seed: async (server) => {
      const res = await server.bapi('PATCH', '/v1/instance', {
        abuse: { creates_per_ip: { max: 1_000 }, sends_per_ip: { max: 1_000 }, attempts_per_ip: { max: 1_000 } },
      });
      expect(res.statusCode).toBe(200);
    },
  });
  // The page and the server are on one site (localhost) and two origins.
  const fapiUrl = () => `http://localhost:${new URL(suite.server.running.url!).port}`;

  async function open(path: string, options: { viewport?: 'phone' | 'laptop'; bypassCSP?: boolean } = {}): Promise<DashboardTab> {
    const tab = await suite.openTab(options);
    await recordEvents(tab.page);
    await tab.page.goto(`http://localhost:${app!.port}${path}`);
    await expect.poll(() => eventTypes(tab.page)).toContain('authn:ready');
    return tab;
  }

  const patchInstance = async (body: unknown) => expect((await suite.server.bapi('PATCH', '/v1/instance', body)).statusCode).toBe(200);
  const userCount = async () => (await suite.server.bapi('GET', '/v1/users')).json().data.length as number;

  async function signUp(page: Page, phone: string): Promise<void> {
    await page.getByLabel('Phone number', { exact: true }).fill(phone);
    await page.getByRole('button', { name: 'Send code' }).click();
    await page.getByLabel('Verification code').fill(CODE);
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect.poll(() => eventTypes(page)).toContain('authn:signed-in');
  }

  it('signs up with a test number and 424242, then signs in: a wrong code beside the code field, the resend countdown', async () => {
    const phone = '+15555550142';
    const tab = await open('/sign-up');
    const { page } = tab;
    // The country choice offers the instance's countries only (the default allow list).
    expect(
      await page
        .locator('authn-sign-up select option')
        .evaluateAll((options) => options.map((o) => (o as unknown as { value: string }).value)),
    ).toEqual(['US', 'CA']);
    expect(await page.getByRole('heading', { name: /Create your .+ account/ }).isVisible()).toBe(true);
    await signUp(page, phone);
    expect(await eventTypes(page)).toEqual(['authn:ready', 'authn:signed-up', 'authn:signed-in']);
    expect(await page.getByRole('status').textContent()).toBe('Signed up and signed in.');
    expect(await userCount()).toBe(1);
    await tab.close();

    const signIn = await open('/sign-in');
    const p = signIn.page;
    // Typed as a national number with punctuation, kept in E.164 as typed.
    await p.getByLabel('Phone number', { exact: true }).pressSequentially('(555) 555-0142');
    expect(await p.getByLabel('Phone number', { exact: true }).inputValue()).toBe(phone);
    await p.getByRole('button', { name: 'Send code' }).click();
    const code = p.getByLabel('Verification code');
    expect(await code.getAttribute('autocomplete')).toBe('one-time-code');
    expect(await code.getAttribute('inputmode')).toBe('numeric');
    // The code was just sent: resending waits, counting down.
    const resend = p.getByRole('button', { name: /^Resend code in \d+ s$/ });
    expect(await resend.isDisabled()).toBe(true);
    const first = Number((await resend.textContent())!.match(/\d+/)![0]);
    expect(first).toBeGreaterThan(20);
    await expect
      .poll(async () => Number(((await p.locator('authn-sign-in .resend').textContent()) ?? '').match(/\d+/)?.[0]), { timeout: 5_000 })
      .toBeLessThan(first);

    await code.fill('000000');
    await p.getByRole('button', { name: 'Verify' }).click();
    await expect.poll(async () => (await fieldErrorOf(code)).text).not.toBe('');
    expect(await fieldErrorOf(code)).toMatchObject({ invalid: 'true' });
    expect(await p.evaluate(`document.querySelector('authn-sign-in').shadowRoot.activeElement?.getAttribute('name')`)).toBe('code');
    expect(await eventTypes(p)).toEqual(['authn:ready']);

    // Typing again clears the error; the right code signs in.
    await code.fill(CODE);
    expect(await fieldErrorOf(code)).toEqual({ text: '', invalid: null });
    await p.getByRole('button', { name: 'Verify' }).click();
    await expect.poll(() => eventTypes(p)).toEqual(['authn:ready', 'authn:signed-in']);
    const detail = await p.evaluate(`window.authnEvents[1].detail.session`);
    expect(detail).toMatchObject({ status: 'active' });
    expect(JSON.stringify(detail)).not.toMatch(/eyJ/);
  });

  it('shows a refused number beside the phone field, and changes nothing', async () => {
    const { page } = await open('/sign-up');
    await page.getByLabel('Phone number', { exact: true }).fill('+1 12');
    await page.getByRole('button', { name: 'Send code' }).click();
    const input = page.getByLabel('Phone number', { exact: true });
    await expect.poll(async () => (await fieldErrorOf(input)).text).not.toBe('');
    expect((await fieldErrorOf(input)).invalid).toBe('true');
    expect(await userCount()).toBe(0);
    expect(await page.getByLabel('Verification code').count()).toBe(0);
  });

  it('takes the theme of the page through custom properties and parts', async () => {
    const { page } = await open('/sign-up');
    const style = (selector: string, property: string) =>
      page.evaluate(`getComputedStyle(document.querySelector('authn-sign-up').shadowRoot.querySelector('${selector}')).${property}`);
    const background = () => style('button[type=submit]', 'backgroundColor');
    const spacing = () => style('h2', 'letterSpacing');
    expect([await background(), await spacing()]).not.toEqual(['rgb(1, 2, 3)', '3px']);
    await page.addStyleTag({
      content: 'authn-sign-up { --authn-color-primary: rgb(1, 2, 3) } authn-sign-up::part(heading) { letter-spacing: 3px }',
    });
    expect([await background(), await spacing()]).toEqual(['rgb(1, 2, 3)', '3px']);
  });

  it('is usable with the keyboard alone', async () => {
    const { page } = await open('/sign-up');
    const inside = (name: string) =>
      page.evaluate(
        `(() => { const el = document.querySelector('${name}').shadowRoot.activeElement; return el && (el.getAttribute('name') || el.tagName.toLowerCase()); })()`,
      );
    await page.keyboard.press('Tab');
    expect(await inside('authn-sign-up')).toBe('select');
    await page.keyboard.press('Tab');
    expect(await inside('authn-sign-up')).toBe('phone_number');
    await page.keyboard.type('5555550143');
    await page.keyboard.press('Tab');
    expect(await inside('authn-sign-up')).toBe('password');
    await page.keyboard.press('Enter');
    // The code step takes the focus to the code.
    await expect.poll(() => inside('authn-sign-up')).toBe('code');
    await page.keyboard.type(CODE);
    await page.keyboard.press('Enter');
    await expect.poll(() => eventTypes(page)).toContain('authn:signed-in');
    expect(await userCount()).toBe(1);
  });

  it('passes axe and fits a 390 px screen, at each step', async () => {
    await patchInstance({ sms: { driver: 'twilio', from_number: FROM, twilio: { account_sid: ACCOUNT_SID, auth_token: TWILIO_TOKEN } } });
    const { page } = await open('/sign-up', { viewport: 'phone', bypassCSP: true });
    const check = async (step: string) => {
      expect(await seriousA11yViolations(page), step).toEqual([]);
      expect(await horizontalOverflow(page), step).toEqual([]);
    };
    const phone = page.getByLabel('Phone number', { exact: true });
    await check('phone step');
    await phone.fill('+1 12');
    await page.getByRole('button', { name: 'Send code' }).click();
    await expect.poll(async () => (await fieldErrorOf(phone)).text).not.toBe('');
    await check('phone error');
    await phone.fill('+15555550144');
    await page.getByRole('button', { name: 'Send code' }).click();
    await page.getByLabel('Verification code').fill('000000');
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect.poll(async () => (await fieldErrorOf(page.getByLabel('Verification code'))).text).not.toBe('');
    await check('code error');
    await page.getByLabel('Verification code').fill(CODE);
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect.poll(() => eventTypes(page)).toContain('authn:signed-in');

    await page.goto(`http://localhost:${app!.port}/profile`);
    const profile = page.locator('authn-user-profile');
    await expect.poll(() => profile.getByRole('switch').count()).toBe(1);
    await check('profile');
    await profile.getByRole('switch').click();
    await check('adding a second factor');
  });

  it('shows the phone-MFA toggle only with an SMS driver and phone MFA on, following both as they change', async () => {
    const { page } = await open('/sign-up');
    await signUp(page, '+15555550145');
    await page.goto(`http://localhost:${app!.port}/profile`);
    const profile = page.locator('authn-user-profile');
    const toggle = profile.getByRole('switch');
    const refresh = () => profile.evaluate((el) => (el as unknown as { refresh(): Promise<void> }).refresh());
    await expect.poll(() => profile.getByText('+15555550145').count()).toBe(1);
    // The sign-in element on the same page shares the client: it knows the user is signed in.
    expect(await page.locator('authn-sign-in').getByRole('heading').textContent()).toBe('You are signed in');

    // The null driver (the default), phone MFA on (the default): no toggle.
    expect((await suite.server.bapi('GET', '/v1/instance')).json()).toMatchObject({
      sms: { driver: null },
      multi_factor: { phone_code: { enabled: true } },
    });
    expect(await toggle.count()).toBe(0);

    await patchInstance({ sms: { driver: 'twilio', from_number: FROM, twilio: { account_sid: ACCOUNT_SID, auth_token: TWILIO_TOKEN } } });
    await refresh();
    await expect.poll(() => toggle.count()).toBe(1);
    expect(await toggle.getAttribute('aria-checked')).toBe('false');

    await patchInstance({ multi_factor: { phone_code: { enabled: false } } });
    await refresh();
    await expect.poll(() => toggle.count()).toBe(0);

    // The page coming back into view reads the environment again, without a call from the app.
    await patchInstance({ multi_factor: { phone_code: { enabled: true } } });
    await page.evaluate(`document.dispatchEvent(new Event('visibilitychange'))`);
    await expect.poll(() => toggle.count()).toBe(1);

    // Enrolling: the number, a wrong code beside the code field, then the right one.
    await toggle.click();
    const number = profile.getByLabel('Number for sign-in codes', { exact: true });
    await number.fill('+15555550146');
    await profile.getByRole('button', { name: 'Send code' }).click();
    const code = profile.getByLabel('Verification code');
    await code.fill('000000');
    await profile.getByRole('button', { name: 'Verify' }).click();
    await expect.poll(async () => (await fieldErrorOf(code)).text).not.toBe('');
    expect(await toggle.getAttribute('aria-checked')).toBe('false');
    await code.fill(CODE);
    await profile.getByRole('button', { name: 'Verify' }).click();
    await expect.poll(() => toggle.getAttribute('aria-checked')).toBe('true');
    expect(await profile.getByRole('button', { name: 'Remove +15555550146' }).count()).toBe(1);
    expect(await eventTypes(page)).toContain('authn:mfa-changed');
    const userId = (await suite.server.bapi('GET', '/v1/users')).json().data[0].id as string;
    const factors = async () =>
      (
        (await suite.server.bapi('GET', `/v1/users/${userId}`)).json().phone_numbers as {
          phone_number: string;
          reserved_for_second_factor: boolean;
        }[]
      )
        .filter((n) => n.reserved_for_second_factor)
        .map((n) => n.phone_number);
    expect(await factors()).toEqual(['+15555550146']);

    // Back to the null driver: the toggle goes.
    await patchInstance({ sms: { driver: null } });
    await refresh();
    await expect.poll(() => toggle.count()).toBe(0);

    // And with the driver again, turning the switch off removes the second factor.
    await patchInstance({ sms: { driver: 'twilio' } });
    await refresh();
    await expect.poll(() => toggle.getAttribute('aria-checked')).toBe('true');
    await toggle.click();
    await expect.poll(() => toggle.getAttribute('aria-checked')).toBe('false');
    expect(await factors()).toEqual([]);

    await profile.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => eventTypes(page)).toContain('authn:signed-out');
    expect(await profile.getByText('You are signed out.').count()).toBe(1);
    expect(await page.locator('authn-sign-in').getByRole('button', { name: 'Send code' }).count()).toBe(1);
  });

  it('signs in with a password and then the phone second factor enrolled through the profile', async () => {
    await patchInstance({ sms: { driver: 'twilio', from_number: FROM, twilio: { account_sid: ACCOUNT_SID, auth_token: TWILIO_TOKEN } } });
    const phone = '+15555550147';
    const password = 'correct horse battery';
    const { page } = await open('/sign-up');
    await page.getByLabel('Phone number', { exact: true }).fill(phone);
    await page.getByLabel('Password (optional)').fill(password);
    await page.getByRole('button', { name: 'Send code' }).click();
    await page.getByLabel('Verification code').fill(CODE);
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect.poll(() => eventTypes(page)).toContain('authn:signed-in');

    await page.goto(`http://localhost:${app!.port}/profile`);
    const profile = page.locator('authn-user-profile');
    const numbersOfUser = async () => {
      const users = (await suite.server.bapi('GET', '/v1/users')).json().data as { phone_numbers: { phone_number: string }[] }[];
      return users.flatMap((u) => u.phone_numbers.map((n) => n.phone_number));
    };
    // A number whose enrolment is cancelled at its code is removed again.
    await profile.getByRole('switch').click();
    await profile.getByLabel('Number for sign-in codes', { exact: true }).fill('+15555550149');
    await profile.getByRole('button', { name: 'Send code' }).click();
    await expect.poll(() => profile.getByLabel('Verification code').count()).toBe(1);
    expect(await numbersOfUser()).toContain('+15555550149');
    await profile.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => profile.getByLabel('Verification code').count()).toBe(0);
    expect(await profile.getByRole('switch').getAttribute('aria-checked')).toBe('false');
    expect(await numbersOfUser()).not.toContain('+15555550149');

    await profile.getByRole('switch').click();
    await profile.getByLabel('Number for sign-in codes', { exact: true }).fill('+15555550148');
    await profile.getByRole('button', { name: 'Send code' }).click();
    await profile.getByLabel('Verification code').fill(CODE);
    await profile.getByRole('button', { name: 'Verify' }).click();
    await expect.poll(() => profile.getByRole('switch').getAttribute('aria-checked')).toBe('true');
    await profile.getByRole('button', { name: 'Sign out' }).click();

    const signIn = page.locator('authn-sign-in');
    await signIn.getByRole('button', { name: 'Use your password instead' }).click();
    await signIn.getByLabel('Phone number', { exact: true }).fill(phone);
    await signIn.getByLabel('Password').fill(password);
    await signIn.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => signIn.getByRole('heading').textContent()).toBe('Enter the code of your second step');
    const code = signIn.getByLabel('Verification code');
    await code.fill('000000');
    await signIn.getByRole('button', { name: 'Verify' }).click();
    await expect.poll(async () => (await fieldErrorOf(code)).text).not.toBe('');
    await code.fill(CODE);
    await signIn.getByRole('button', { name: 'Verify' }).click();
    await expect.poll(() => signIn.getByRole('heading').textContent()).toBe('You are signed in');
    expect(await eventTypes(page)).toContain('authn:signed-in');
    await expect.poll(() => profile.getByText(phone).count()).toBe(1);
  });

  it("shows the code's delivery state beside the code input, following it while it is on its way and no longer", async () => {
    await patchInstance({ sms: { driver: 'twilio', from_number: FROM, twilio: { account_sid: ACCOUNT_SID, auth_token: TWILIO_TOKEN } } });
    const { page } = await open('/sign-up');
    const reads: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'GET' && /\/v1\/client\/sign_ups\//.test(request.url())) reads.push(request.url());
    });
    const element = page.locator('authn-sign-up');
    await element.getByLabel('Phone number', { exact: true }).fill(UNREACHABLE);
    await element.getByRole('button', { name: 'Send code' }).click();
    const line = element.locator('[part="delivery"]');
    // Beside the code input, in its own live region, worded for the person waiting: no carrier, no carrier code.
    await expect
      .poll(() => line.textContent(), { timeout: 20_000 })
      .toMatch(/^The message could not be delivered — try again in \d+ s or use another number\.$/);
    expect(await line.getAttribute('aria-live')).toBe('polite');
    expect(
      await element
        .locator('form')
        .evaluate((form: PageNode & { contains(node: unknown): boolean }, node) => form.contains(node), await line.elementHandle()),
    ).toBe(true);
    expect(await line.textContent()).not.toMatch(/30003|twilio/i);
    // A final state: nothing more is read.
    const afterFinal = reads.length;
    expect(afterFinal).toBeGreaterThan(0);
    await page.waitForTimeout(4_500);
    expect(reads.length).toBe(afterFinal);

    // A message with no receipt yet is followed while the element is on the page, and no longer once it is removed.
    await element.getByRole('button', { name: 'Use another number' }).click();
    await element.getByLabel('Phone number', { exact: true }).fill(NO_RECEIPT);
    await element.getByRole('button', { name: 'Send code' }).click();
    await expect.poll(() => line.textContent(), { timeout: 20_000 }).toBe('The message is on its way.');
    const whileShown = reads.length;
    await expect.poll(() => reads.length, { timeout: 10_000 }).toBeGreaterThan(whileShown);
    await page.evaluate(`document.querySelector('authn-sign-up').remove()`);
    await page.waitForTimeout(500);
    const afterRemoval = reads.length;
    await page.waitForTimeout(4_500);
    expect(reads.length).toBe(afterRemoval);
  });
});
