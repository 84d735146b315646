/**
 * The SDK's weight in a browser app: each entry bundled as an app's bundler would (esbuild, minified, ESM, browser
 * platform), gzipped, beside the budget (core ≤ 15 kB) and beside a peer's browser auth client,
 * `@supabase/auth-js` (measured when it is installed).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
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
  return rows;
}
