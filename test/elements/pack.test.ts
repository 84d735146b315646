/**
 * `npm pack` of @authn.sh/elements ships the one bundle (the SDK inside it), the stylesheet entry, the declarations,
 * its README and package.json, and no runtime dependency to install; installed into an empty folder, its types
 * check an app's use of it and its stylesheet entry imports in Node.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const elementsDir = path.join(root, 'packages/elements');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'authn-elements-pack-'));
// npm's own settings from an outer `npm test` must not steer the pack under test.
const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_')));

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('npm pack of @authn.sh/elements', () => {
  it('builds the bundle, the stylesheet entry and the declarations first and ships them with the README, nothing else', {
    timeout: 180_000,
  }, async () => {
    fs.rmSync(path.join(elementsDir, 'dist'), { recursive: true, force: true });
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--pack-destination', work], {
        cwd: elementsDir,
        env,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    ) as { filename: string; files: { path: string }[] }[];
    const files = packed[0]!.files.map((f) => f.path);
    expect(files.filter((f) => !f.startsWith('dist/types/')).sort()).toEqual([
      'README.md',
      'dist/index.js',
      'dist/styles.js',
      'package.json',
    ]);
    // Declarations only under dist/types: the elements' and those of the SDK they expose.
    expect(files.filter((f) => f.startsWith('dist/types/')).every((f) => f.endsWith('.d.ts'))).toBe(true);
    expect(files).toEqual(
      expect.arrayContaining([
        'dist/types/elements/src/index.d.ts',
        'dist/types/elements/src/styles.d.ts',
        'dist/types/sdk/src/index.d.ts',
      ]),
    );
    const bundle = fs.readFileSync(path.join(elementsDir, 'dist/index.js'), 'utf8');
    for (const name of ['authn-sign-in', 'authn-sign-up', 'authn-user-profile']) expect(bundle).toContain(`"${name}"`);
    // The SDK is inside the bundle: no import of another module remains.
    expect(bundle).not.toMatch(/\bfrom\s*["']/);
    const pkg = JSON.parse(fs.readFileSync(path.join(elementsDir, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg.dependencies).toBeUndefined();

    // An app installs the tarball (nothing else: no registry needed) and type-checks its use of the elements.
    const app = path.join(work, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', path.join(work, packed[0]!.filename)], {
      cwd: app,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    fs.writeFileSync(
      path.join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2022', 'DOM'],
          types: [],
          strict: true,
          noEmit: true,
        },
        include: ['*.ts'],
      }),
    );
    fs.writeFileSync(
      path.join(app, 'app.ts'),
      [
        "import { createAuthn, type AuthnClient, AuthnSignInElement } from '@authn.sh/elements';",
        "import { STYLES, STYLES_CSP_HASH } from '@authn.sh/elements/styles';",
        "const signIn: AuthnSignInElement = document.createElement('authn-sign-in');",
        "const client: AuthnClient = createAuthn({ url: 'https://auth.example.com' });",
        'signIn.authn = client;',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: this line is the packed app's source, a template literal there
        'export const policy: string = `style-src ${STYLES_CSP_HASH}`;',
        'export const size: number = STYLES.length;',
        '',
      ].join('\n'),
    );
    // A wrong use fails the check, so a passing one proves the types are read, not skipped as `any`.
    fs.writeFileSync(
      path.join(app, 'wrong.ts'),
      "import { STYLES_CSP_HASH } from '@authn.sh/elements/styles';\nexport const n: number = STYLES_CSP_HASH;\n",
    );
    const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
    const check = (): string => {
      try {
        return execFileSync(process.execPath, [tsc, '-p', app], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (error) {
        return (error as { stdout: string }).stdout;
      }
    };
    const errors = check().split('\n').filter(Boolean);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/\bwrong\.ts\(2,14\): error TS2322/);

    const styles = (await import(path.join(app, 'node_modules/@authn.sh/elements/dist/styles.js'))) as {
      STYLES: string;
      STYLES_CSP_HASH: string;
    };
    expect(styles.STYLES_CSP_HASH).toBe(`'sha256-${createHash('sha256').update(styles.STYLES).digest('base64')}'`);
  });
});
