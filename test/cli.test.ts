/** The `authn` command as an operator uses it: real processes, real ports. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from './fakes/common.js';
import { runCli, spawnServer, type ServerProcess } from './helpers/cli.js';

describe('authn CLI', () => {
  const dirs: string[] = [];
  let server: ServerProcess | null = null;
  const freshEnv = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'authn-cli-'));
    dirs.push(dir);
    return { AUTHN_DATA_DIR: dir, AUTHN_ENCRYPTION_KEY: randomBytes(32).toString('base64') };
  };
  afterEach(async () => {
    if (server && server.child.exitCode === null) {
      server.child.kill('SIGKILL');
      await server.exited;
    }
    server = null;
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it('a bad variable stops the start with one line naming it', async () => {
    const { code, stderr, stdout } = await runCli(['serve'], { ...freshEnv(), AUTHN_PORT: 'eighty' });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('AUTHN_PORT');
  });

  it('prints a generated first key once, and it works', async () => {
    const env = freshEnv();
    server = await spawnServer(env);
    const key = /sk_live_[A-Za-z0-9]{43}/.exec(server.output())?.[0];
    expect(key).toBeDefined();
    const res = await fetch(`${server.url}/v1/instance`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);

    server = await spawnServer(env);
    expect(server.output()).not.toMatch(/sk_live_/);
  });

  it("names the dashboard's address at start", async () => {
    server = await spawnServer({ ...freshEnv(), AUTHN_SECRET_KEY: `sk_test_${'a'.repeat(40)}` });
    const line = `The dashboard is at ${server.url}/dashboard (sign in with a secret key).`;
    await expect.poll(() => server!.output().split('\n')).toContain(line);
  });

  it('names the dashboard at its public address when one is set', async () => {
    const port = await freePort();
    const env = {
      ...freshEnv(),
      AUTHN_SECRET_KEY: `sk_test_${'a'.repeat(40)}`,
      AUTHN_PORT: String(port),
      AUTHN_PUBLIC_URL: 'https://auth.example.com',
    };
    server = await spawnServer(env);
    await expect
      .poll(() => server!.output().split('\n'))
      .toContain('The dashboard is at https://auth.example.com/dashboard (sign in with a secret key).');
  });

  it('creates, lists and revokes keys beside a running server', async () => {
    const env = { ...freshEnv(), AUTHN_SECRET_KEY: `sk_test_${'a'.repeat(40)}` };
    server = await spawnServer(env);
    const created = await runCli(['keys', 'create', '--name', 'ci'], env);
    expect(created.code).toBe(0);
    const [id, key] = created.stdout.trim().split('\n');
    expect(id).toMatch(/^sk_[0-9A-Z]{26}$/);
    expect(key).toMatch(/^sk_live_[A-Za-z0-9]{43}$/);

    const get = () => fetch(`${server!.url}/v1/instance`, { headers: { authorization: `Bearer ${key}` } });
    expect((await get()).status).toBe(200);

    const listed = await runCli(['keys', 'list'], env);
    expect(listed.stdout).toContain(`${id}\tsk_live_…${key!.slice(-4)}\tactive\tci`);
    expect(listed.stdout).not.toContain(key);

    const revoked = await runCli(['keys', 'revoke', id!], env);
    expect(revoked.code).toBe(0);
    const res = await get();
    expect(res.status).toBe(401);
    expect(((await res.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe('secret_key_invalid');
    expect((await runCli(['keys', 'list'], env)).stdout).toMatch(new RegExp(`${id}\\t.*\\trevoked`));

    const unknown = await runCli(['keys', 'revoke', 'sk_00000000000000000000000000'], env);
    expect(unknown.code).toBe(1);
    // A server and six CLI processes, each compiling the sources with tsx (about 5 s of CPU apiece here).
  }, 90_000);

  it('migrate applies the schema and exits', async () => {
    const env = freshEnv();
    const { code, stdout } = await runCli(['migrate'], env);
    expect(code).toBe(0);
    expect(stdout).toContain('up to date');
    expect(fs.existsSync(path.join(env.AUTHN_DATA_DIR, 'authn.sqlite'))).toBe(true);
  });

  it('without AUTHN_ENCRYPTION_KEY, makes a 0600 key file and warns', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'authn-cli-'));
    dirs.push(dir);
    server = await spawnServer({ AUTHN_DATA_DIR: dir });
    expect(server.output()).toContain('DEVELOPMENT MODE');
    const stat = fs.statSync(path.join(dir, 'encryption.key'));
    expect(stat.mode & 0o777).toBe(0o600);
  });
});
