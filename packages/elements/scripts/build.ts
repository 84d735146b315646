/**
 * Bundles the elements (with the SDK they are built on) into one minified ES module, `dist/index.js`: what a page
 * loads with `<script type="module">` and what the package ships. The tests and the bench build it the same way.
 * Beside it: `dist/styles.js` (the stylesheet and its CSP hash, for a server writing its Content-Security-Policy) and
 * the declarations under `dist/types/` (the SDK's with them, as the bundle holds the SDK).
 * `npx tsx packages/elements/scripts/build.ts`
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ELEMENTS_ENTRY = path.join(packageDir, 'src/index.ts');
const STYLES_ENTRY = path.join(packageDir, 'src/styles.ts');

/** The bundle's text (of the elements, or of another entry of the package). */
export async function bundleElements(entry = ELEMENTS_ENTRY): Promise<string> {
  const result = await build({
    entryPoints: [entry],
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

/** Declarations of the package's sources and of the SDK sources they import, under `dist/types/{elements,sdk}/src/`. */
function writeDeclarations(): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const options = [
    '--noEmit',
    'false',
    '--declaration',
    '--emitDeclarationOnly',
    '--rootDir',
    path.dirname(packageDir),
    '--outDir',
    path.join(packageDir, 'dist/types'),
  ];
  execFileSync(process.execPath, [tsc, '-p', path.join(packageDir, 'tsconfig.json'), ...options], { stdio: 'inherit' });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  fs.mkdirSync(path.join(packageDir, 'dist'), { recursive: true });
  fs.writeFileSync(path.join(packageDir, 'dist/index.js'), await bundleElements());
  fs.writeFileSync(path.join(packageDir, 'dist/styles.js'), await bundleElements(STYLES_ENTRY));
  writeDeclarations();
}
