/**
 * Bundles the elements (with the SDK they are built on) into one minified ES module, `dist/index.js`: what a page
 * loads with `<script type="module">` and what the package ships. The tests and the bench build it the same way.
 * `npx tsx packages/elements/scripts/build.ts`
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ELEMENTS_ENTRY = path.join(packageDir, 'src/index.ts');

/** The bundle's text. */
export async function bundleElements(): Promise<string> {
  const result = await build({
    entryPoints: [ELEMENTS_ENTRY],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  fs.mkdirSync(path.join(packageDir, 'dist'), { recursive: true });
  fs.writeFileSync(path.join(packageDir, 'dist/index.js'), await bundleElements());
}
