/**
 * The example app (`examples/phone-sign-in`) end to end in Chromium: its page on its own origin
 * (http://localhost:<example port>) signs users up and in through the web components (driven through their open
 * shadow roots, which playwright's locators pierce) and the SDK against the server on another
 * (http://localhost:<server port>), and its backend route checks the session tokens. The server's clock and the
 * example backend's are one fake clock that follows real time until a test moves it; the page's is playwright's.
 */
import type { Locator, Page, Request } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { startExampleServer, type ExampleServer } from '../../examples/phone-sign-in/server.js';
import { freePort } from '../fakes/common.js';
import { dashboardSuite, seriousA11yViolations, storageText, type DashboardTab, type TabOptions } from './browser.js';

/** Real time plus what the tests added: both servers' clock. */
const clock = { offsetMs: 0, now: () => Date.now() + clock.offsetMs };

// A Twilio set-up that never sends: the tests that use it send only to the test range, which no driver sees.
const TWILIO = {
  driver: 'twilio',
  from_number: '+15555550100',
  twilio: { account_sid: `AC${'a'.repeat(32)}`, auth_token: 'b'.repeat(32) },
};

let example: ExampleServer | undefined;

describe('the example app in Chromium', () => {
  const suite = dashboardSuite({
    clock,
    env: async () => {
      const port = await freePort();
      const authnUrl = `http://localhost:${port}`;
      example = await startExampleServer({ authnUrl, port: 0, host: '127.0.0.1', now: clock.now });
      return { AUTHN_PORT: String(port), AUTHN_PUBLIC_URL: authnUrl, AUTHN_ALLOWED_ORIGINS: example.url, AUTHN_TEST_MODE: 'enabled' };
    },
    seed: async (server) => {
      const res = await server.bapi('PATCH', '/v1/instance', {
        abuse: { creates_per_ip: { max: 1_000 }, sends_per_ip: { max: 1_000 }, attempts_per_ip: { max: 1_000 } },
      });
      expect(res.statusCode).toBe(200);
    },
  });
  afterAll(async () => {
    await example?.close();
  });

  const setDriver = async (sms: Record<string, unknown>) =>
    expect((await suite.server.bapi('PATCH', '/v1/instance', { sms })).statusCode).toBe(200);
  const status = (page: Page) => page.locator('#status').textContent();

  async function openExample(options: { fakeClock?: boolean } & TabOptions = {}): Promise<DashboardTab> {
    const tab = await suite.openTab(options);
    if (options.fakeClock) await tab.page.clock.install({ time: clock.now() });
    await tab.page.goto(example!.url);
    await expect.poll(() => status(tab.page)).toBe('Signed out.');
    return tab;
  }

  /** The latest code the null driver "sent" to `phone`: under the null driver the message log keeps the body. */
  async function codeSentTo(phone: string, count: number): Promise<string> {
    const res = await suite.server.bapi('GET', `/v1/sms_messages?to=${encodeURIComponent(phone)}`);
    const messages: { status: string; body: string }[] = res.json().data;
    expect(messages).toHaveLength(count);
    expect(messages[0]!.status).toBe('dropped');
    return /\b(\d{6})\b/.exec(messages[0]!.body)![1]!;
  }

  /** The code input of an element's current step (the elements name their inputs by the FAPI's params). */
  const codeInput = (element: Locator) => element.locator('input[name="code"]');
  const phoneInput = (element: Locator) => element.locator('input[name="phone_number"]');
  /** The numbers the profile lists for the signed-in user. */
  const accountPhones = (page: Page) => page.locator('authn-user-profile').getByRole('list', { name: 'Your phone numbers' }).textContent();

  async function enterCode(element: Locator, code: string): Promise<void> {
    await codeInput(element).fill(code);
    await element.getByRole('button', { name: 'Verify' }).click();
  }

  async function signUp(page: Page, phone: string, options: { password?: string; code?: string } = {}): Promise<void> {
    const signUpElement = page.locator('authn-sign-up');
    await phoneInput(signUpElement).fill(phone);
    if (options.password) await signUpElement.locator('input[name="password"]').fill(options.password);
    await signUpElement.getByRole('button', { name: 'Send code' }).click();
    await expect.poll(() => codeInput(signUpElement).isVisible()).toBe(true);
    await enterCode(signUpElement, options.code ?? (await codeSentTo(phone, 1)));
    await expect.poll(() => status(page)).toBe('Signed in.');
    await expect.poll(() => accountPhones(page)).toBe(phone);
  }

  async function signOut(page: Page): Promise<void> {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => status(page)).toBe('Signed out.');
  }

  /** Clicks "Call GET /api/me" and returns what the example's backend answered (status and body). */
  async function callBackend(page: Page): Promise<{ status: number; body: { user_id?: string; errors?: { code: string }[] } }> {
    await page.locator('#api-result').evaluate((el) => {
      el.textContent = '';
    });
    await page.getByRole('button', { name: 'Call GET /api/me' }).click();
    await expect.poll(() => page.locator('#api-result').textContent()).not.toBe('');
    const text = (await page.locator('#api-result').textContent())!;
    const space = text.indexOf(' ');
    return { status: Number(text.slice(0, space)), body: JSON.parse(text.slice(space + 1)) };
  }

  /** Nothing a script could steal: no readable cookie, no client token or session token in web storage. */
  async function expectNothingReadable(tab: DashboardTab): Promise<void> {
    expect(await tab.page.evaluate('document.cookie')).toBe('');
    const storage = await storageText(tab.page);
    expect(storage.local + storage.session).not.toMatch(/ct_|eyJ/);
  }

  /** No answer the browser got holds a credential: no client token, no password or secret, no code the user was sent. */
  async function expectNoCredentialReached(tab: DashboardTab, secrets: string[]): Promise<void> {
    const bodies = await tab.responseBodies();
    expect(bodies.length).toBeGreaterThan(0);
    const credentialKeys = /^(token|client_token|password|password_digest|secret|secret_key|auth_token|api_secret|signature_secret)$/;
    // Keys holding a value (the environment's `password` is the policy object, not a password).
    const keysOf = (value: unknown): string[] =>
      Array.isArray(value)
        ? value.flatMap(keysOf)
        : value && typeof value === 'object'
          ? Object.entries(value).flatMap(([key, inner]) => (typeof inner === 'string' ? [key] : keysOf(inner)))
          : [];
    for (const body of bodies) {
      expect(body).not.toMatch(/ct_[A-Za-z0-9]|sk_(live|test)_/);
      for (const secret of secrets) expect(body).not.toContain(secret);
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        continue; // the page, its script and stylesheet
      }
      expect(keysOf(json).filter((key) => credentialKeys.test(key))).toEqual([]);
    }
  }

  it('signs up with a test number and 424242 under test_mode; the backend route takes the token, and refuses it after sign-out', async () => {
    const tab = await openExample();
    const { page, context } = tab;
    const phone = '+15555550150';
    await signUp(page, phone, { code: '424242' });
    const user = (await suite.server.bapi('GET', `/v1/users?phone_number=${encodeURIComponent(phone)}`)).json().data[0];
    expect(user.phone_numbers[0].phone_number).toBe(phone);
    // The client lives in the FAPI's HttpOnly cookie, out of the page's reach.
    const [cookie] = await context.cookies(suite.server.running.url!.replace('127.0.0.1', 'localhost'));
    expect(cookie).toMatchObject({ httpOnly: true, secure: true });
    await expectNothingReadable(tab);

    const sent: Request[] = [];
    page.on('request', (request) => {
      if (request.url() === `${example!.url}/api/me`) sent.push(request);
    });
    const accepted = await callBackend(page);
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ user_id: user.id });
    const token = (await sent[0]!.headerValue('authorization'))!.replace(/^Bearer /, '');

    await signOut(page);
    // Both forms are back, the sign-up's from its first step (not "Your account is ready").
    await expect.poll(() => phoneInput(page.locator('authn-sign-up')).isVisible()).toBe(true);
    await expect.poll(() => phoneInput(page.locator('authn-sign-in')).isVisible()).toBe(true);
    expect(await context.cookies(suite.server.running.url!.replace('127.0.0.1', 'localhost'))).toEqual([]);
    const sessions = (await suite.server.bapi('GET', `/v1/sessions?user_id=${user.id}`)).json().data;
    expect(sessions.map((s: { status: string }) => s.status)).toEqual(['ended']);
    // Signed out, the page has no token to send: the route refuses the call.
    const refused = await callBackend(page);
    expect(refused.status).toBe(401);
    expect(refused.body.errors![0]!.code).toBe('token_missing');
    // The token from before sign-out is checked offline, so it counts until it expires (60 s at most), never after
    // (the session is ended: the SDK signed out of it and the FAPI issues it no new token).
    const replay = () => fetch(`${example!.url}/api/me`, { headers: { authorization: `Bearer ${token}` } });
    expect((await replay()).status).toBe(200);
    // Past its 60 s and the verifier's 5 s of tolerance for clocks that differ.
    clock.offsetMs += 66_000;
    try {
      const expired = await replay();
      expect(expired.status).toBe(401);
      expect(((await expired.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe('token_expired');
    } finally {
      clock.offsetMs -= 66_000;
    }
    await expectNoCredentialReached(tab, []);
  });

  it('signs up, then in, with a real-looking number under the null driver (codes read through the BAPI): a wrong code is refused, the resend button counts down', async () => {
    await setDriver({ driver: null });
    const tab = await openExample({ fakeClock: true });
    const { page } = tab;
    const phone = '+14155550123';
    await signUp(page, phone);
    await signOut(page);

    const signIn = page.locator('authn-sign-in');
    await phoneInput(signIn).fill(phone);
    await signIn.getByRole('button', { name: 'Send code' }).click();
    await expect.poll(() => codeInput(signIn).isVisible()).toBe(true);
    const code = await codeSentTo(phone, 2);
    const resend = signIn.getByRole('button', { name: /^Resend code/ });
    expect(await resend.isDisabled()).toBe(true);
    // The server's 30 s cooldown, counted on the page's clock (which may lag the server's by a second).
    const secondsShown = async () => Number(/^Resend code in (\d+) s$/.exec((await resend.textContent()) ?? '')?.[1]);
    const first = await secondsShown();
    expect(first).toBeGreaterThanOrEqual(29);
    expect(first).toBeLessThanOrEqual(31);

    // A wrong code: refused (the FAPI's code) beside the code field, nothing signed in.
    const wrong = code === '000000' ? '111111' : '000000';
    const refusal = page.waitForResponse((response) => response.request().method() === 'POST' && response.status() >= 400);
    await enterCode(signIn, wrong);
    expect(((await (await refusal).json()) as { errors: { code: string }[] }).errors[0]!.code).toBe('form_code_incorrect');
    await expect.poll(() => codeInput(signIn).getAttribute('aria-invalid')).toBe('true');
    const fieldError = signIn.locator('.field-error:not([hidden])');
    expect(await fieldError.count()).toBe(1);
    expect(await fieldError.textContent()).not.toBe('');
    // The error sits in the code field's block, and the input is described by it.
    expect(await codeInput(signIn).getAttribute('aria-describedby')).toContain((await fieldError.getAttribute('id'))!);
    expect(await status(page)).toBe('Signed out.');

    // The countdown runs on the page's clock; once the cooldown (and the wait after a wrong code) is over on both
    // clocks, a new code can be asked for, and that one signs in.
    await page.clock.fastForward(10_000);
    const later = await secondsShown();
    expect(first - later).toBeGreaterThanOrEqual(10);
    // The page's clock also runs in real time between the two reads: a second or two on a loaded machine.
    expect(first - later).toBeLessThanOrEqual(13);
    const waitMs = 61_000;
    clock.offsetMs += waitMs;
    await page.clock.fastForward(waitMs);
    await expect.poll(() => resend.isDisabled()).toBe(false);
    expect(await resend.textContent()).toBe('Resend code');
    await resend.click();
    await expect.poll(() => signIn.getByRole('status').textContent()).toBe('We sent a new code.');
    expect(await resend.isDisabled()).toBe(true);
    const second = await codeSentTo(phone, 3);
    await enterCode(signIn, second);
    await expect.poll(() => status(page)).toBe('Signed in.');
    await expect.poll(() => accountPhones(page)).toBe(phone);
    // Under the null driver the profile offers no phone second factor.
    expect(await page.locator('authn-user-profile').getByRole('switch').count()).toBe(0);
    expect(await page.locator('authn-user-profile').getByRole('heading', { name: 'Two-step verification' }).count()).toBe(0);

    await expectNothingReadable(tab);
    await expectNoCredentialReached(tab, [code, second]);
  });

  it('enrols a phone second factor through <authn-user-profile>, then a password sign-in through <authn-sign-in> asks for it', async () => {
    await setDriver(TWILIO);
    const tab = await openExample();
    const { page } = tab;
    const phone = '+15555550160';
    const factor = '+15555550161';
    const password = 'correct horse battery';
    await signUp(page, phone, { password, code: '424242' });

    const profile = page.locator('authn-user-profile');
    const toggle = profile.getByRole('switch');
    await expect.poll(() => toggle.isVisible()).toBe(true);
    expect(await toggle.getAttribute('aria-checked')).toBe('false');
    await toggle.click();
    await phoneInput(profile).fill(factor);
    await profile.getByRole('button', { name: 'Send code' }).click();
    await expect.poll(() => codeInput(profile).isVisible()).toBe(true);
    expect(await codeInput(profile).getAttribute('autocomplete')).toBe('one-time-code');
    expect(await codeInput(profile).getAttribute('inputmode')).toBe('numeric');
    await enterCode(profile, '424242');
    await expect.poll(() => status(page)).toBe('Second factor added.');
    await expect.poll(() => profile.getByRole('list', { name: 'Second-factor numbers' }).textContent()).toContain(factor);
    expect(await toggle.getAttribute('aria-checked')).toBe('true');
    await signOut(page);

    const signIn = page.locator('authn-sign-in');
    await signIn.getByRole('button', { name: 'Use your password instead' }).click();
    await phoneInput(signIn).fill(phone);
    await signIn.locator('input[name="password"]').fill(password);
    await signIn.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect.poll(() => signIn.getByRole('heading').textContent()).toBe('Enter the code of your second step');
    expect(await status(page)).toBe('Signed out.');
    expect(await codeInput(signIn).getAttribute('autocomplete')).toBe('one-time-code');
    expect(await codeInput(signIn).getAttribute('inputmode')).toBe('numeric');
    await enterCode(signIn, '424242');
    await expect.poll(() => status(page)).toBe('Signed in.');
    expect((await callBackend(page)).status).toBe(200);

    await expectNothingReadable(tab);
    await expectNoCredentialReached(tab, [password]);
    await setDriver({ driver: null });
  });

  it('refreshes the session token across its 60 s expiry, with one request, and the backend takes the new one', async () => {
    const tab = await openExample({ fakeClock: true });
    const { page } = tab;
    await signUp(page, '+15555550170', { code: '424242' });
    const tokenRequests: Request[] = [];
    const backendCalls: Request[] = [];
    page.on('request', (request) => {
      if (/\/v1\/client\/sessions\/[^/]+\/tokens$/.test(request.url()) && request.method() === 'POST') tokenRequests.push(request);
      if (request.url() === `${example!.url}/api/me`) backendCalls.push(request);
    });
    // The sign-up's own token serves the first call.
    expect((await callBackend(page)).status).toBe(200);
    expect(tokenRequests).toHaveLength(0);

    clock.offsetMs += 70_000;
    await page.clock.fastForward(70_000);
    expect((await callBackend(page)).status).toBe(200);
    expect(tokenRequests).toHaveLength(1);
    const claims = async (request: Request) =>
      JSON.parse(Buffer.from((await request.headerValue('authorization'))!.split('.')[1]!, 'base64url').toString());
    const [before, after] = [await claims(backendCalls[0]!), await claims(backendCalls[1]!)];
    expect(after.sid).toBe(before.sid);
    expect(after.iat - before.iat).toBeGreaterThanOrEqual(70);
    expect(after.exp).toBeGreaterThan(before.exp + 60);
    await expectNothingReadable(tab);
  });

  // The sign-in's and the profile's code inputs are checked where the MFA test reaches them.
  it('is usable at phone width: no serious accessibility violation, code inputs that take one-time-code autofill', async () => {
    const { page } = await openExample({ viewport: 'phone', bypassCSP: true });
    expect(await seriousA11yViolations(page)).toEqual([]);
    const signUpElement = page.locator('authn-sign-up');
    await phoneInput(signUpElement).fill('+15555550180');
    await signUpElement.getByRole('button', { name: 'Send code' }).click();
    await expect.poll(() => codeInput(signUpElement).isVisible()).toBe(true);
    expect(await codeInput(signUpElement).getAttribute('autocomplete')).toBe('one-time-code');
    expect(await codeInput(signUpElement).getAttribute('inputmode')).toBe('numeric');
    expect(await seriousA11yViolations(page)).toEqual([]);
  });
});
