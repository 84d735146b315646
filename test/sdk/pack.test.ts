/**
 * The SDK as a user gets it: built, packed with `npm pack`, installed offline into an empty folder (it has no
 * runtime dependency, so nothing else is fetched), then imported from Node and type-checked from TypeScript.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const sdkDir = path.join(root, 'packages/sdk');
const tsc = path.join(root, 'node_modules/.bin/tsc');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'authn-sdk-pack-'));
// npm's own settings from an outer `npm test` (its cache, its prefix) must not steer the install under test.
const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_')));
function run(command: string, args: string[], cwd: string): string {
  try {
    return execFileSync(command, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('npm pack of @authn.sh/js', () => {
  it('installs offline into an empty folder, imports in Node, and its types resolve', { timeout: 180_000 }, () => {
    fs.rmSync(path.join(sdkDir, 'dist'), { recursive: true, force: true });
    run(tsc, ['-p', 'tsconfig.json'], sdkDir);
    const packed = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], sdkDir)) as {
      filename: string;
      files: { path: string }[];
    }[];
    const files = packed[0]!.files.map((f) => f.path).sort();
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/server.d.ts');
    expect(files.filter((f) => !f.startsWith('dist/'))).toEqual(['README.md', 'package.json']);

    const pkg = JSON.parse(fs.readFileSync(path.join(sdkDir, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg.dependencies).toBeUndefined();

    const app = path.join(work, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'empty-app', private: true, type: 'module' }));
    run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', path.join(work, packed[0]!.filename)], app);

    fs.writeFileSync(
      path.join(app, 'check.mjs'),
      [
        "import { createAuthn, AuthnError, memoryTokenStore } from '@authn.sh/js';",
        "import { createTokenVerifier, requireSession, withSession, verifyToken } from '@authn.sh/js/server';",
        "const authn = createAuthn({ url: 'http://127.0.0.1:9' });",
        "const verifier = createTokenVerifier({ issuer: 'https://auth.example.test' });",
        'const missing = await verifier.verify(null);',
        'console.log(JSON.stringify({ mode: authn.mode, error: typeof AuthnError, store: typeof memoryTokenStore, middleware: [typeof requireSession, typeof withSession, typeof verifyToken], missing: missing.error.code }));',
      ].join('\n'),
    );
    expect(JSON.parse(run('node', ['check.mjs'], app))).toEqual({
      mode: 'native',
      error: 'function',
      store: 'function',
      middleware: ['function', 'function', 'function'],
      missing: 'token_missing',
    });

    // A TypeScript user of the installed package: the exports' types resolve and the results are typed.
    fs.writeFileSync(
      path.join(app, 'check.ts'),
      [
        "import { createAuthn, type SignIn } from '@authn.sh/js';",
        "import { createTokenVerifier, type SessionClaims } from '@authn.sh/js/server';",
        "const authn = createAuthn({ url: 'https://auth.example.test', mode: 'native' });",
        "export async function f(): Promise<SignIn['status'] | undefined> { const { data, error } = await authn.signIn.phoneCode.sendCode({ phoneNumber: '+14155550123', channel: 'sms' }); if (error) return error.code as never; return data.status; }",
        "export async function g(token: string): Promise<SessionClaims | null> { return (await createTokenVerifier({ issuer: 'x' }).verify(token)).data; }",
      ].join('\n'),
    );
    const compilerOptions = {
      noEmit: true,
      strict: true,
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      target: 'ES2022',
      lib: ['ES2022', 'DOM'],
      types: [],
    };
    fs.writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['check.ts'] }));
    run(tsc, ['-p', '.'], app);
  });
});
