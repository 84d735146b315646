/**
 * Keyboard focus is never hidden (WCAG 2.4.11): on every dashboard page with a form, at laptop and phone width, every
 * control reached by Tab shows its focus ring, lies inside the viewport, and nothing drawn on top of the page (the
 * sticky top bar, the sticky save bar) covers any part of it. The step links of the SMS wizard bring their step's
 * heading into view below the top bar, and on a phone the save bar stays out of the way while there is nothing to
 * save.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { webhookEnv } from '../webhooks/receiver.js';
import { dashboardSuite, fieldInput, openSignedIn, type ViewportName } from './browser.js';

const ACCOUNT_SID = `AC${'0123456789abcdef'.repeat(2)}`;

interface FocusStop {
  name: string;
  /** What is wrong with how it is shown; empty when its focus ring shows and the whole control is in view, on top. */
  hidden: string[];
}

/**
 * Where the focused element is, whether it shows a focus ring, and what covers it: its box must be inside the
 * viewport, and at its centre and the middle of each edge (2 px in: rounded corners are not the control's) the
 * topmost element must be the control itself or inside it. A control met a second time ends the tour (null).
 * Evaluated in the page.
 */
const FOCUS_STOP = `(() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  window.focusTour = window.focusTour || new WeakSet();
  if (window.focusTour.has(el)) return null;
  window.focusTour.add(el);
  const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' "' + (el.textContent || el.getAttribute('aria-label') || '').trim().slice(0, 40) + '"';
  const box = el.getClientRects()[0] || el.getBoundingClientRect();
  const hidden = [];
  const ring = getComputedStyle(el);
  if (ring.outlineStyle === 'none' || parseFloat(ring.outlineWidth) < 2) hidden.push('no focus ring');
  if (box.top < 0 || box.left < 0 || box.bottom > innerHeight || box.right > innerWidth) {
    hidden.push('outside the viewport: ' + [box.top, box.right, box.bottom, box.left].map(Math.round).join(' ') + ' in ' + innerWidth + 'x' + innerHeight);
  } else {
    const x = box.left + box.width / 2;
    const y = box.top + box.height / 2;
    const points = [[x, y], [x, box.top + 2], [x, box.bottom - 2], [box.left + 2, y], [box.right - 2, y]];
    for (const [x, y] of points) {
      const top = document.elementFromPoint(x, y);
      if (top && top !== el && !el.contains(top)) {
        const cover = top.closest('.topbar, .save-bar') || top;
        hidden.push('covered at ' + Math.round(x) + ',' + Math.round(y) + ' by ' + cover.tagName.toLowerCase() + '.' + cover.className);
        break;
      }
    }
  }
  return { name, hidden };
})()`;

/**
 * Tabs from the page's heading (the top of the page) through every control after it, until the focus leaves the page
 * or comes round again.
 */
async function tabThrough(page: Page): Promise<FocusStop[]> {
  await page.evaluate(`(() => { window.focusTour = new WeakSet(); document.querySelector('h1').focus(); window.scrollTo(0, 0); })()`);
  const stops: FocusStop[] = [];
  for (let presses = 0; presses < 250; presses++) {
    await page.keyboard.press('Tab');
    const stop = (await page.evaluate(FOCUS_STOP)) as FocusStop | null;
    if (stop === null) return stops;
    stops.push(stop);
  }
  throw new Error('the focus never left the page');
}

describe('keyboard focus is never hidden', () => {
  const suite = dashboardSuite({
    env: webhookEnv(),
    async seed(server) {
      const saved = await server.bapi('PATCH', '/v1/instance', {
        sms: { driver: 'twilio', from_number: '+14155550100', twilio: { account_sid: ACCOUNT_SID, auth_token: 'f'.repeat(32) } },
      });
      expect(saved.statusCode).toBe(200);
      expect(
        (await server.bapi('POST', '/v1/webhooks/endpoints', { url: 'http://127.0.0.1:9/hooks', description: 'Focus test' })).statusCode,
      ).toBe(200);
      expect((await server.bapi('POST', '/v1/sms_messages/test', { to: '+15555550142' })).statusCode).toBe(202);
    },
  });

  const open = async (viewport: ViewportName, path: string) => {
    const tab = await suite.openTab({ viewport });
    await openSignedIn(tab, suite.server, path);
    await expect.poll(() => tab.page.locator('.state-loading').count()).toBe(0);
    return tab.page;
  };

  /** Every stop of the tour, and none hidden. */
  const expectAllInView = async (page: Page, reached: string[]) => {
    const stops = await tabThrough(page);
    const names = stops.map((stop) => stop.name);
    for (const name of reached)
      expect(
        names.some((stopName) => stopName.startsWith(name)),
        `${name} reached in ${names.join(', ')}`,
      ).toBe(true);
    expect(stops.filter((stop) => stop.hidden.length > 0)).toEqual([]);
  };

  const endpointId = async () => (await suite.server.bapi('GET', '/v1/webhooks/endpoints')).json().data[0].id as string;

  for (const viewport of ['laptop', 'phone'] as const) {
    describe(`at ${viewport} width`, () => {
      it('the SMS wizard, with Twilio saved', async () => {
        const page = await open(viewport, '/dashboard/configure/messaging/sms');
        await expectAllInView(page, [
          'input#driver-twilio',
          'input#field-sms-twilio-account_sid',
          'input#field-sms-from_number',
          'input#field-multi_factor-phone_code-enabled',
          'input#field-to',
        ]);
      });

      it('the SMS wizard, with unsaved Vonage settings', async () => {
        const page = await open(viewport, '/dashboard/configure/messaging/sms');
        await page.getByLabel('Vonage', { exact: true }).check();
        await fieldInput(page, 'sms.vonage.api_key').fill('abcd1234');
        await expectAllInView(page, [
          'input#field-sms-vonage-api_key',
          'input#field-sms-vonage-api_secret',
          'select#field-sms-vonage-signature_method',
          'button "Discard changes"',
        ]);
      });

      it('the SMS template editor, its messages handed to the operator', async () => {
        const page = await open(viewport, '/dashboard/configure/messaging/sms-templates?template=verification_code');
        await page.getByLabel('authn.sh sends this message').uncheck();
        await expectAllInView(page, [
          'textarea#field-body',
          'input#field-from_number_override',
          'input#field-delivered_by_us',
          'a "http://127.0.0.1:9/hooks"',
          'button "Save template"',
        ]);
      });

      it('the form that adds a webhook endpoint', async () => {
        const page = await open(viewport, '/dashboard/configure/webhooks');
        await page.getByRole('button', { name: 'Add an endpoint' }).click();
        await page.getByLabel('Only the events I choose').check();
        await expectAllInView(page, [
          'input#field-url',
          'input#field-description',
          'input#event-type-sms-queued',
          'input#field-enabled',
          'button "Add endpoint"',
        ]);
      });

      it('the form that changes a webhook endpoint', async () => {
        const page = await open(viewport, `/dashboard/configure/webhooks?endpoint=${await endpointId()}`);
        await page.getByRole('button', { name: 'Change' }).click();
        await expectAllInView(page, ['input#field-url', 'button "Save endpoint"']);
      });

      it('the abuse defences', async () => {
        const page = await open(viewport, '/dashboard/configure/abuse');
        await expectAllInView(page, [
          'input#field-abuse-sends_per_phone_number-max',
          'input#field-abuse-sms_countries-countries',
          'button "Save abuse defences"',
        ]);
      });

      for (const [title, path] of [
        ['users', '/dashboard/manage/users'],
        ['messages', '/dashboard/activity/messages'],
        ['audit log', '/dashboard/activity/audit-log'],
      ] as const) {
        it(`the ${title} filters`, async () => {
          const page = await open(viewport, path);
          await expectAllInView(page, ['input#field-']);
        });
      }
    });
  }

  it('a step link brings its step into view below the top bar', async () => {
    for (const viewport of ['laptop', 'phone'] as const) {
      const page = await open(viewport, '/dashboard/configure/messaging/sms');
      for (const step of ['Test numbers', 'Credentials', 'Phone second factor']) {
        await page.getByRole('navigation', { name: 'Steps' }).getByRole('link', { name: step }).click();
        await expect
          .poll(() =>
            page.evaluate(`(() => {
              const heading = document.querySelector('${step === 'Credentials' ? '#step-credentials-title' : step === 'Test numbers' ? '#step-test-numbers-title' : '#step-mfa-title'}').getBoundingClientRect();
              const bar = document.querySelector('.topbar').getBoundingClientRect();
              return heading.top >= bar.bottom && heading.bottom <= innerHeight;
            })()`),
          )
          .toBe(true);
      }
    }
  });

  it('on a phone, the save bar takes no room while there is nothing to save, and little while there is', async () => {
    const page = await open('phone', '/dashboard/configure/messaging/sms');
    const pinnedHeight = `(() => {
      const bar = document.querySelector('.save-bar').getBoundingClientRect();
      return bar.top < innerHeight && bar.bottom <= innerHeight + 1 && bar.bottom >= innerHeight - 1 ? Math.round(bar.height) : 0;
    })()`;
    // At the top of a long form, with nothing to save, the bar is where the form ends, out of sight.
    expect(await page.evaluate(pinnedHeight)).toBe(0);
    await fieldInput(page, 'app_name').fill('Focus');
    await page.evaluate('window.scrollTo(0, 0)');
    // Unsaved changes: the bar stays in sight at the bottom, and takes at most an eighth of the screen.
    const height = (await page.evaluate(pinnedHeight)) as number;
    expect(height).toBeGreaterThan(0);
    expect(height).toBeLessThanOrEqual(844 / 8);
  });
});
