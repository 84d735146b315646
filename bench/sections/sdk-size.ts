/**
 * The SDK's weight in a browser app: each entry bundled as an app's bundler would (esbuild, minified, ESM, browser
 * platform), gzipped, beside the budget (core ≤ 15 kB) and beside a peer's browser auth client,
 * `@supabase/auth-js` (measured when it is installed). Then the web components (`@authn.sh/elements`, SDK
 * included, ≤ 40 kB) and how long `<authn-sign-in>` takes to render once the environment has arrived, in headless
 * Chromium against a real server (≤ 100 ms).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { bundleElements } from '../../packages/elements/scripts/build.js';
import { createTestStore, startTestServer } from '../../test/helpers/server.js';
import type { BenchRow } from '../run.js';

export const title = 'SDK size (browser bundle, minified + gzip)';

/** The SDK core's budget, gzipped (issue 18). */
export const SDK_CORE_BUDGET_BYTES = 15 * 1024;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Bytes of `source` (an ES module importing what an app would) once bundled and minified, raw and gzipped. */
export async function bundledSize(source: string): Promise<{ minified: number; gzipped: number }> {
  const result = await build({
    stdin: { contents: source, resolveDir: root, loader: 'ts' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.contents;
  return { minified: code.byteLength, gzipped: gzipSync(code, { level: 9 }).byteLength };
}

/** The web components' budget, gzipped, SDK included (issue 18). */
export const ELEMENTS_BUDGET_BYTES = 40 * 1024;
/** First render of `<authn-sign-in>` after the environment arrives (issue 18). */
export const FIRST_RENDER_BUDGET_MS = 100;

/** The elements' bundle (`packages/elements/scripts/build.ts`), raw and gzipped. */
export async function elementsSize(): Promise<{ minified: number; gzipped: number }> {
  const code = Buffer.from(await bundleElements());
  return { minified: code.byteLength, gzipped: gzipSync(code, { level: 9 }).byteLength };
}

/**
 * Milliseconds from the environment's arrival to the sign-in form painted: a page on its own origin (the bundle
 * loaded) adds `<authn-sign-in>` with a new client, which asks a real server for the environment; the arrival is
 * the environment response's end in the page's resource timing, the render the next frame after the form is in
 * place. The first element (nothing warm) and the median of 20 more.
 */
async function firstRenderMs(): Promise<{ first: number; median: number }> {
  const bundle = await bundleElements();
  const page = http.createServer((request, response) => {
    if (request.url === '/elements.js') return void response.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
    response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><html lang="en"><title>App</title><main></main></html>');
  });
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
  const pagePort = (page.address() as AddressInfo).port;
  const store = await createTestStore('sqlite');
  const server = await startTestServer(store, { listen: true, env: { AUTHN_ALLOWED_ORIGINS: `http://localhost:${pagePort}` } });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    const tab = await browser.newPage();
    await tab.goto(`http://localhost:${pagePort}/`);
    const times: number[] = await tab.evaluate(
      `(async () => {
        const { createAuthn } = await import('/elements.js');
        const url = ${JSON.stringify(`http://localhost:${new URL(server.running.url!).port}`)};
        const times = [];
        for (let i = 0; i < 21; i++) {
          performance.clearResourceTimings();
          const element = document.createElement('authn-sign-in');
          element.authn = createAuthn({ url });
          document.querySelector('main').replaceChildren(element);
          while (!element.shadowRoot.querySelector('form')) await new Promise((resolve) => setTimeout(resolve, 0));
          await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
          const painted = performance.now();
          const arrived = performance.getEntriesByType('resource').find((entry) => entry.name.endsWith('/v1/environment')).responseEnd;
          times.push(painted - arrived);
        }
        return times;
      })()`,
    );
    const rest = times.slice(1).sort((a, b) => a - b);
    return { first: times[0]!, median: rest[Math.floor(rest.length / 2)]! };
  } finally {
    await browser.close();
    await server.close();
    await store.cleanup();
    await new Promise((resolve) => page.close(resolve));
  }
}

/** Everything the core exports, so nothing is tree-shaken away. */
export const SDK_CORE_SOURCE = "export * from './packages/sdk/src/index.ts';";

const row = (name: string, size: { minified: number; gzipped: number }, budget?: number): BenchRow => ({
  name,
  figures: {
    'gzip kB': size.gzipped / 1024,
    'min kB': size.minified / 1024,
    ...(budget !== undefined ? { 'budget kB': budget / 1024, within: size.gzipped <= budget ? 'yes' : 'NO' } : {}),
  },
});

export async function run(): Promise<BenchRow[]> {
  const rows = [
    row('@authn.sh/js core (createAuthn and all flows)', await bundledSize(SDK_CORE_SOURCE), SDK_CORE_BUDGET_BYTES),
    row('@authn.sh/js/server (verifyToken + middleware)', await bundledSize("export * from './packages/sdk/src/server.ts';")),
  ];
  const require = createRequire(import.meta.url);
  let peer: string | null = null;
  try {
    peer = (require('@supabase/auth-js/package.json') as { version: string }).version;
  } catch {
    rows.push({ name: 'peer @supabase/auth-js', figures: { 'gzip kB': 'not installed' } });
  }
  if (peer) rows.push(row(`peer @supabase/auth-js ${peer} (its whole client)`, await bundledSize("export * from '@supabase/auth-js';")));
  rows.push(row('@authn.sh/elements (the three components, SDK included)', await elementsSize(), ELEMENTS_BUDGET_BYTES));
  const render = await firstRenderMs();
  rows.push({
    name: '<authn-sign-in> first render after the environment arrives (Chromium)',
    figures: {
      'first ms': render.first,
      'median of 20 ms': render.median,
      'budget ms': FIRST_RENDER_BUDGET_MS,
      within: render.first <= FIRST_RENDER_BUDGET_MS ? 'yes' : 'NO',
    },
  });
  return rows;
}
