/**
 * `npm pack` of @authn.sh/elements ships the one bundle (the SDK inside it), its README and package.json, and no
 * runtime dependency to install.
 */
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
  it('builds the bundle first and ships it with the README, nothing else', { timeout: 120_000 }, () => {
    fs.rmSync(path.join(elementsDir, 'dist'), { recursive: true, force: true });
    const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: elementsDir, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })) as { files: { path: string }[] }[];
    expect(packed[0]!.files.map((f) => f.path).sort()).toEqual(['README.md', 'dist/index.js', 'package.json']);
    const bundle = fs.readFileSync(path.join(elementsDir, 'dist/index.js'), 'utf8');
    for (const name of ['authn-sign-in', 'authn-sign-up', 'authn-user-profile']) expect(bundle).toContain(`"${name}"`);
    // The SDK is inside the bundle: no import of another module remains.
    expect(bundle).not.toMatch(/\bfrom\s*["']/);
    const pkg = JSON.parse(fs.readFileSync(path.join(elementsDir, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg.dependencies).toBeUndefined();
  });
});
