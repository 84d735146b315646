/**
 * The FAPI from real pages in headless Chromium: a static page served on another origin of the same site
 * (http://localhost:<page port>, the server at http://localhost:<server port>). From the allowed origin, fetch with
 * `credentials: 'include'` works and the HttpOnly cookie carries the client, which no script can read; from a
 * disallowed origin nothing gets through (preflights refused, simple POSTs refused and changing nothing, even with
 * the cookie a same-site page makes the browser send); and no page reaches the BAPI.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { CLIENT_COOKIE } from '../../src/http/fapi/browser.js';
import { dashboardSuite, storageText, type DashboardTab } from './browser.js';
import { rowCount } from '../helpers/server.js';

/** A static page on its own port: the "app" whose origin the test allows, or another one. */
async function servePage(): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((_request, response) => {
    response
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end('<!doctype html><html lang="en"><title>App</title><h1>App</h1></html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const pages: { port: number; close(): Promise<void> }[] = [];
const TEST_NUMBER = '+15555550142';

/** What a page's fetch gave: the answer it could read, or the error the browser raised instead. */
type Outcome = { ok: true; status: number; body: unknown; retryAfter: string | null } | { ok: false; error: string };

/** Runs `fetch` in the page (the page's own origin, its cookies), as an app's script would. */
function pageFetch(
  page: Page,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown; mode?: 'cors' | 'no-cors' } = {},
): Promise<Outcome> {
  return page.evaluate(
    async ({ url, init }) => {
      try {
        const res = await fetch(url, {
          method: init.method ?? 'GET',
          credentials: 'include',
          mode: init.mode ?? 'cors',
          headers: { ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
          ...(init.body !== undefined ? { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) } : {}),
        });
        const text = await res.text();
        return { ok: true as const, status: res.status, body: text ? JSON.parse(text) : null, retryAfter: res.headers.get('retry-after') };
      } catch (error) {
        return { ok: false as const, error: String(error) };
      }
    },
    { url, init },
  );
}

// biome-ignore lint/suspicious/noExplicitAny: the FAPI's JSON answers, of many shapes: the tests read them field by field
type Json = any;

function answered(outcome: Outcome): { status: number; body: Json; retryAfter: string | null } {
  if (!outcome.ok) throw new Error(`the fetch failed: ${outcome.error}`);
  return outcome;
}

/** What the browser receives for requests under `prefix`, read at its network layer (whatever the page may see). */
async function networkAnswers(page: Page, prefix: string): Promise<{ url: string; status: number; body: string }[]> {
  const cdp = await page.context().newCDPSession(page);
  const answers: { url: string; status: number; body: string }[] = [];
  cdp.on('Fetch.requestPaused', async (event) => {
    const { body, base64Encoded } = await cdp.send('Fetch.getResponseBody', { requestId: event.requestId });
    answers.push({
      url: event.request.url,
      status: event.responseStatusCode ?? 0,
      body: base64Encoded ? Buffer.from(body, 'base64').toString() : body,
    });
    await cdp.send('Fetch.continueRequest', { requestId: event.requestId });
  });
  await cdp.send('Fetch.enable', { patterns: [{ urlPattern: `${prefix}*`, requestStage: 'Response' }] });
  return answers;
}

/** The browser's console errors for requests it blocked (expected here) are taken off the tab's problem list. */
function acceptCorsErrors(tab: DashboardTab): number {
  const blocked = tab.problems.filter((p) => p.includes('blocked by CORS policy'));
  tab.problems.splice(0, tab.problems.length, ...tab.problems.filter((p) => !p.includes('blocked by CORS policy')));
  return blocked.length;
}

describe('FAPI from pages in Chromium', () => {
  let allowed = 0;
  let other = 0;
  const suite = dashboardSuite({
    env: async () => {
      const app = await servePage();
      const elsewhere = await servePage();
      pages.push(app, elsewhere);
      allowed = app.port;
      other = elsewhere.port;
      return { AUTHN_ALLOWED_ORIGINS: `http://localhost:${allowed}`, AUTHN_TEST_MODE: 'enabled' };
    },
    seed: async (server) => {
      const res = await server.bapi('PATCH', '/v1/instance', {
        abuse: { creates_per_ip: { max: 1_000 }, sends_per_ip: { max: 1_000 }, attempts_per_ip: { max: 1_000 } },
      });
      expect(res.statusCode).toBe(200);
    },
  });
  afterAll(async () => {
    for (const page of pages) await page.close();
  });

  const fapi = (path: string) => `http://localhost:${new URL(suite.server.running.url!).port}${path}`;
  const countClients = () => rowCount(suite.server, 'clients');

  async function openPage(port: number): Promise<DashboardTab> {
    const tab = await suite.openTab();
    await tab.page.goto(`http://localhost:${port}/`);
    return tab;
  }

  /** Signs up with a test number from the page; returns the session id. */
  async function signUp(page: Page, phone: string): Promise<string> {
    const created = answered(await pageFetch(page, fapi('/v1/client/sign_ups'), { method: 'POST', body: { phone_number: phone } }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id;
    expect(
      answered(
        await pageFetch(page, fapi(`/v1/client/sign_ups/${id}/prepare_verification`), { method: 'POST', body: { strategy: 'phone_code' } }),
      ).status,
    ).toBe(200);
    const done = answered(
      await pageFetch(page, fapi(`/v1/client/sign_ups/${id}/attempt_verification`), {
        method: 'POST',
        body: { strategy: 'phone_code', code: '424242' },
      }),
    );
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    return done.body.created_session_id;
  }

  it('a page on the allowed origin signs up with the cookie carrying the client, and no script can read the token', async () => {
    const tab = await openPage(allowed);
    const { page, context } = tab;

    const created = answered(await pageFetch(page, fapi('/v1/client'), { method: 'POST' }));
    expect(created.status).toBe(201);
    expect(created.body).not.toHaveProperty('token');
    const [cookie, ...more] = await context.cookies(fapi('/'));
    expect(more).toEqual([]);
    expect(cookie).toMatchObject({ name: CLIENT_COOKIE, httpOnly: true, secure: true, sameSite: 'Strict', path: '/', domain: 'localhost' });
    expect(cookie!.value).toMatch(/^ct_/);

    const sessionId = await signUp(page, TEST_NUMBER);
    const client = answered(await pageFetch(page, fapi('/v1/client')));
    expect(client.body).toMatchObject({ id: created.body.id, sessions: [{ id: sessionId, status: 'active' }] });

    // The session token is the one credential a script holds; with it the page reads the user (a preflighted call).
    const token = answered(await pageFetch(page, fapi(`/v1/client/sessions/${sessionId}/tokens`), { method: 'POST' }));
    const me = answered(await pageFetch(page, fapi('/v1/me'), { headers: { authorization: `Bearer ${token.body.jwt}` } }));
    expect(me.status).toBe(200);
    expect(me.body.phone_numbers[0].phone_number).toBe(TEST_NUMBER);

    // Retry-After is exposed: a second code at once meets the resend cooldown.
    const signIn = answered(await pageFetch(page, fapi('/v1/client/sign_ins'), { method: 'POST', body: { identifier: TEST_NUMBER } }));
    const prepare = () =>
      pageFetch(page, fapi(`/v1/client/sign_ins/${signIn.body.id}/prepare_first_factor`), {
        method: 'POST',
        body: { strategy: 'phone_code' },
      });
    expect(answered(await prepare()).status).toBe(200);
    const cooldown = answered(await prepare());
    expect(cooldown.status).toBe(429);
    expect(cooldown.body.errors[0].code).toBe('phone_code_resend_cooldown');
    expect(Number(cooldown.retryAfter)).toBeGreaterThan(0);

    // Nothing of the client token within reach of the page.
    expect(await page.evaluate('document.cookie')).toBe('');
    const storage = await storageText(page);
    expect(storage.local + storage.session).not.toContain('ct_');
    const bodies = await tab.responseBodies();
    expect(bodies.join('\n')).not.toContain(cookie!.value);

    // Signing out of the last session makes the browser forget the cookie: the page is a stranger again.
    const end = answered(await pageFetch(page, fapi(`/v1/client/sessions/${sessionId}/end`), { method: 'POST' }));
    expect(end.body.status).toBe('ended');
    expect(await context.cookies(fapi('/'))).toEqual([]);
    const after = answered(await pageFetch(page, fapi('/v1/client')));
    expect(after.status).toBe(401);
    expect(after.body.errors[0].code).toBe('client_token_missing');
  });

  it('a page on another origin cannot call the FAPI: preflights fail, simple POSTs are refused and change nothing', async () => {
    // The allowed page signs in first, so the browser holds a cookie that a same-site page's requests carry too.
    const app = await openPage(allowed);
    expect(answered(await pageFetch(app.page, fapi('/v1/client'), { method: 'POST' })).status).toBe(201);
    const sessionId = await signUp(app.page, '+15555550143');
    const clients = await countClients();

    // The same browser (one cookie jar), another tab.
    const evil = { page: await app.context.newPage() };
    await evil.page.goto(`http://localhost:${other}/`);
    // A JSON POST needs a preflight, which is refused: the request itself never leaves the browser.
    const preflighted = await pageFetch(evil.page, fapi('/v1/client'), { method: 'POST', body: {} });
    expect(preflighted.ok).toBe(false);
    // Reads come back without CORS headers: the browser hides them (the client's sessions stay private).
    expect((await pageFetch(evil.page, fapi('/v1/client'))).ok).toBe(false);
    expect((await pageFetch(evil.page, fapi('/v1/environment'))).ok).toBe(false);
    // The two pages are one site, so the browser sends the cookie with this page's requests too: a read goes
    // through (200 in the network log) but the page only gets an opaque answer.
    const read = evil.page.waitForResponse((response) => response.url() === fapi('/v1/client') && response.request().method() === 'GET');
    expect(await pageFetch(evil.page, fapi('/v1/client'), { mode: 'no-cors' })).toMatchObject({ ok: true, status: 0, body: null });
    expect((await read).status()).toBe(200);
    // A simple POST goes out without a preflight, cookie and all: the server refuses it. The page only sees the
    // fetch fail (no CORS header); the browser's network layer shows what came back.
    const answers = await networkAnswers(evil.page, fapi('/v1/client'));
    const simple = await pageFetch(evil.page, fapi(`/v1/client/sessions/${sessionId}/end`), {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'x',
    });
    expect(simple.ok).toBe(false);
    expect((await pageFetch(evil.page, fapi('/v1/client'), { method: 'POST' })).ok).toBe(false);
    await expect.poll(() => answers.length).toBe(2);
    for (const answer of answers) {
      expect(answer.status, answer.url).toBe(403);
      expect(JSON.parse(answer.body).errors[0].code, answer.url).toBe('origin_not_allowed');
    }

    // Nothing changed: the session is live, no client was made.
    expect(await countClients()).toBe(clients);
    const session = (await suite.server.bapi('GET', `/v1/sessions/${sessionId}`)).json();
    expect(session.status).toBe('active');
    expect(answered(await pageFetch(app.page, fapi('/v1/client'))).body.sessions.map((s: { id: string }) => s.id)).toEqual([sessionId]);
  });

  it('no page reaches the BAPI, even on the allowed origin and holding the secret key', async () => {
    const tab = await openPage(allowed);
    const before = (await suite.server.bapi('GET', '/v1/instance')).json();
    const auth = { authorization: `Bearer ${suite.server.key}` };
    const attempts = [
      await pageFetch(tab.page, fapi('/v1/instance'), { headers: auth }),
      await pageFetch(tab.page, fapi('/v1/instance')),
      await pageFetch(tab.page, fapi('/v1/instance'), { method: 'PATCH', headers: auth, body: { test_mode: 'disabled' } }),
      await pageFetch(tab.page, fapi('/v1/users'), { headers: auth }),
      await pageFetch(tab.page, fapi('/metrics')),
    ];
    for (const attempt of attempts) expect(attempt.ok).toBe(false);
    expect((await suite.server.bapi('GET', '/v1/instance')).json()).toEqual(before);
    expect(acceptCorsErrors(tab)).toBeGreaterThan(0);
  });
});
