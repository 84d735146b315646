/**
 * Browser tests drive Debian's chromium with playwright-core against a real listening server. Every page records
 * each response body it receives (for "this secret never comes back" checks) and every script error or CSP
 * violation (a test ends by asserting there were none).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import type { Clock } from '../../src/clock.js';
import { freePort } from '../fakes/common.js';
import type { FakeTwilio } from '../fakes/twilio.js';
import type { FakeVonage } from '../fakes/vonage.js';
import { FAST_DISPATCH } from '../sms/harness.js';
import { createTestStore, startTestServer, type TestServer, type TestStore } from '../helpers/server.js';
import { eventually } from '../helpers/eventually.js';

const CHROMIUM = '/usr/bin/chromium';
// The machine's network is closed: without these, chromium keeps trying to reach Google's services.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const SCREENSHOT_DIR = path.resolve('test-results/screenshots');

export const VIEWPORTS = {
  laptop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;
export type ViewportName = keyof typeof VIEWPORTS;

/** Each launch gets a fresh, empty profile (playwright makes a new user-data-dir and removes it on close). */
async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install it with "apt-get install -y chromium" (.ci/run does)`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
}

export interface DashboardTab {
  context: BrowserContext;
  page: Page;
  /** Every response body the page received so far (waits for the ones still arriving). */
  responseBodies(): Promise<string[]>;
  /** Uncaught errors, CSP violations and other console errors (HTTP error statuses excluded: the tests cause those). */
  problems: string[];
  close(): Promise<void>;
}

export interface TabOptions {
  viewport?: ViewportName;
  /** Lets the test add scripts of its own (axe-core), which the dashboard's Content-Security-Policy refuses. */
  bypassCSP?: boolean;
}

async function openTab(browser: Browser, options: TabOptions = {}): Promise<DashboardTab> {
  // UTC and a fixed locale make dates on screen and datetime-local values predictable.
  const context = await browser.newContext({
    viewport: VIEWPORTS[options.viewport ?? 'laptop'],
    timezoneId: 'UTC',
    locale: 'en-GB',
    bypassCSP: options.bypassCSP ?? false,
  });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const bodies: Promise<string>[] = [];
  const problems: string[] = [];
  page.on('response', (response) => bodies.push(response.text().catch(() => '')));
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(`console: ${message.text()}`);
  });
  return {
    context,
    page,
    responseBodies: () => Promise.all(bodies),
    problems,
    close: () => context.close(),
  };
}

export interface DashboardSuite {
  readonly server: TestServer;
  /** A new tab in its own browser context; closed after the test, which then fails if the page logged a problem. */
  openTab(options?: TabOptions): Promise<DashboardTab>;
}

/**
 * Registers a suite's hooks: one browser, and a real listening server (one for the suite, or a fresh one per test).
 * SQLite only: the dashboard is an HTTP client of the BAPI, whose behaviour on both stores the API suites cover.
 */
export interface DashboardSuiteOptions {
  clock?: Clock;
  /** The server's environment, or a function that makes it when the server starts (after the suite's own set-up). */
  env?: Record<string, string> | (() => Promise<Record<string, string>>);
  seed?(server: TestServer): Promise<void>;
  serverPerTest?: boolean;
}

export function dashboardSuite(options: DashboardSuiteOptions = {}): DashboardSuite {
  let browser: Browser | undefined;
  let running: { store: TestStore; server: TestServer } | undefined;
  const tabs: DashboardTab[] = [];
  const start = async () => {
    const store = await createTestStore('sqlite');
    const env = typeof options.env === 'function' ? await options.env() : options.env;
    running = { store, server: await startTestServer(store, { listen: true, clock: options.clock, env }) };
    await options.seed?.(running.server);
  };
  const stop = async () => {
    await running?.server.close();
    await running?.store.cleanup();
    running = undefined;
  };
  beforeAll(async () => {
    browser = await launchBrowser();
    if (!options.serverPerTest) await start();
  });
  if (options.serverPerTest) beforeEach(start);
  afterEach(async () => {
    const used = tabs.splice(0);
    for (const tab of used) await tab.close();
    if (options.serverPerTest) await stop();
    for (const tab of used) expect(tab.problems).toEqual([]);
  });
  afterAll(async () => {
    await stop();
    await browser?.close();
  });
  return {
    get server() {
      if (!running) throw new Error('the test server is not running');
      return running.server;
    },
    async openTab(tabOptions) {
      if (!browser) throw new Error('the browser is not running');
      const tab = await openTab(browser, tabOptions);
      tabs.push(tab);
      return tab;
    },
  };
}

/**
 * The environment of a server that sends through the carrier fakes and takes their callbacks: it listens on a port
 * known in advance, which `AUTHN_PUBLIC_URL` (the callbacks' base) names. Dispatch is quick.
 */
export async function carrierEnv(fakes: { twilio?: FakeTwilio; vonage?: FakeVonage }): Promise<Record<string, string>> {
  const port = await freePort();
  return {
    AUTHN_PORT: String(port),
    AUTHN_PUBLIC_URL: `http://127.0.0.1:${port}`,
    ...(fakes.twilio ? { AUTHN_TWILIO_API_URL: fakes.twilio.url } : {}),
    ...(fakes.vonage ? { AUTHN_VONAGE_API_URL: fakes.vonage.url } : {}),
    ...FAST_DISPATCH,
  };
}

/** Waits until the message log says `status` for message `id`. */
export async function messageReaches(server: TestServer, id: string, status: string): Promise<void> {
  await eventually(`message ${id} ${status}`, async () => (await server.bapi('GET', `/v1/sms_messages/${id}`)).json().status === status);
}

export function dashboardUrl(server: TestServer, path = '/dashboard'): string {
  return `${server.running.url}${path}`;
}

export async function signIn(page: Page, key: string): Promise<void> {
  await page.getByLabel('Secret key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect.poll(() => page.getByRole('button', { name: 'Sign out' }).isVisible()).toBe(true);
}

/** Opens a dashboard page signed in: the sign-in form appears on any page, and the page stays where it is. */
export async function openSignedIn(tab: DashboardTab, server: TestServer, path: string): Promise<void> {
  await tab.page.goto(dashboardUrl(server, path));
  await signIn(tab.page, server.key);
}

export async function heading(page: Page): Promise<string> {
  return (await page.getByRole('heading', { level: 1 }).textContent()) ?? '';
}

export interface FocusedElement {
  tag: string;
  id: string;
  text: string;
  outlineStyle: string;
  outlineWidth: number;
  /** False when the focus is on a browser-drawn part inside a native control (a date input's picker button). */
  ownFocus: boolean;
}

/** What the focused element is and how its focus is drawn (evaluated in the page, so no DOM types here). */
export async function focused(page: Page): Promise<FocusedElement> {
  return page.evaluate(`(() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    return { tag: el.tagName.toLowerCase(), id: el.id, text: (el.textContent || '').trim(), outlineStyle: style.outlineStyle,
             outlineWidth: parseFloat(style.outlineWidth) || 0, ownFocus: el.matches(':focus') };
  })()`);
}

/** Every input's current value (values typed into inputs are not in `page.content()`). */
export async function inputValues(page: Page): Promise<string[]> {
  return page.evaluate(`[...document.querySelectorAll('input, textarea, select')].map((el) => el.value)`);
}

/** Both web storages of the page, as text. */
export async function storageText(page: Page): Promise<{ session: string; local: string }> {
  return page.evaluate(`({ session: JSON.stringify({ ...sessionStorage }), local: JSON.stringify({ ...localStorage }) })`);
}

/**
 * Whether the page's JavaScript heap holds `text`, after a full garbage collection: what the app still keeps (state,
 * closures, caches) rather than what it has let go of.
 */
export async function heapHolds(page: Page, text: string): Promise<boolean> {
  const cdp = await page.context().newCDPSession(page);
  try {
    let snapshot = '';
    cdp.on('HeapProfiler.addHeapSnapshotChunk', ({ chunk }) => {
      snapshot += chunk;
    });
    await cdp.send('HeapProfiler.enable');
    await cdp.send('HeapProfiler.collectGarbage');
    await cdp.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    return snapshot.includes(text);
  } finally {
    await cdp.detach();
  }
}

/**
 * Asserts that `secret` is nowhere the page can show or has received: the DOM, inputs, storage, responses, and the
 * JavaScript heap. `revealedOnce`: a secret the API shows once (a webhook signing secret) is in exactly one
 * response, as that answer's `secret`, and in no other.
 */
export async function expectSecretGone(tab: DashboardTab, secret: string, options: { revealedOnce?: boolean } = {}): Promise<void> {
  expect(await tab.page.content()).not.toContain(secret);
  for (const value of await inputValues(tab.page)) expect(value).not.toContain(secret);
  const storage = await storageText(tab.page);
  expect(storage.session + storage.local).not.toContain(secret);
  const bodies = await tab.responseBodies();
  expect(bodies.length).toBeGreaterThan(0);
  const revealing = bodies.filter((body) => body.includes(secret));
  if (options.revealedOnce) {
    expect(revealing).toHaveLength(1);
    expect(JSON.parse(revealing[0]!).secret).toBe(secret);
  } else {
    expect(revealing).toEqual([]);
  }
  expect(await heapHolds(tab.page, secret)).toBe(false);
}

/** The id the page gives the input of an API parameter: `field-` + the dotted path with dashes. */
export const fieldIdOf = (param: string) => `field-${param.replace(/\./g, '-')}`;
export const fieldInput = (page: Page, param: string) => page.locator(`#${fieldIdOf(param)}`);
export const fieldError = (page: Page, param: string) => page.locator(`#${fieldIdOf(param)}-error`);

/**
 * The field error shown, and that it sits beside its input: same field block, input described by it, marked invalid.
 * With `summary`, a refused save: the summary at the top took the focus and links to the field.
 */
export async function expectFieldError(page: Page, param: string, text: string, options: { summary?: boolean } = {}): Promise<void> {
  await expect.poll(() => fieldError(page, param).textContent()).toContain(text);
  const field = fieldInput(page, param);
  expect(await field.getAttribute('aria-invalid')).toBe('true');
  expect((await field.getAttribute('aria-describedby'))?.split(' ')).toContain(`${fieldIdOf(param)}-error`);
  expect(await page.locator('.field-invalid', { has: field }).locator('.field-error').textContent()).toContain(text);
  if (!options.summary) return;
  await expect.poll(() => page.evaluate(`document.activeElement?.className`)).toBe('error-summary');
  expect(await page.locator(`.error-summary a[href="#${fieldIdOf(param)}"]`).count()).toBe(1);
}

const AXE_SCRIPT = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/**
 * axe-core's serious and critical violations on the page as it is now, one line each (rule, impact, the elements).
 * The tab must be opened with `bypassCSP` (axe is added as a script of the page).
 */
export async function seriousA11yViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(`typeof window.axe !== 'undefined'`))) await page.addScriptTag({ path: AXE_SCRIPT });
  const violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] = await page.evaluate(
    `axe.run(document, { resultTypes: ['violations'] }).then((results) => results.violations.map(({ id, impact, help, nodes }) => ({ id, impact, help, nodes: nodes.map(({ target }) => ({ target })) })))`,
  );
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}
