/** Runs the real `authn` command (TypeScript sources through tsx) as a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = ['--import', 'tsx', 'src/cli.ts'];

function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  // Only what the test gives, plus what Node needs: no AUTHN_* from the developer's shell.
  return { PATH: process.env.PATH, HOME: process.env.HOME, ...env };
}

export async function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [...CLI, ...args], { cwd: ROOT, env: childEnv(env) });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, stdout, stderr };
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string | null>;
}

/** Starts `authn serve` and waits for its "listening" line. */
export async function spawnServer(env: Record<string, string>, timeoutMs = 20_000): Promise<ServerProcess> {
  return untilListening(spawn(process.execPath, [...CLI, 'serve'], { cwd: ROOT, env: childEnv({ AUTHN_PORT: '0', ...env }) }), timeoutMs);
}

/**
 * Starts `count` servers on one environment at the same moment: each process loads first, then all begin
 * `authn serve`'s start-up on one signal. Settles with each one listening, or why it did not.
 */
export async function spawnServersTogether(
  count: number,
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<PromiseSettledResult<ServerProcess>[]> {
  let signal!: () => void;
  const signalled = new Promise<void>((resolve) => (signal = resolve));
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, ['--import', 'tsx', 'test/helpers/serve-on-signal.ts'], {
      cwd: ROOT,
      env: childEnv({ AUTHN_PORT: '0', ...env }),
    }),
  );
  const listening = children.map((child) => untilListening(child, timeoutMs, signalled));
  // Each says "ready" once loaded (or exits, and its `listening` tells why).
  await Promise.all(
    children.map(
      (child) =>
        new Promise((resolve) => {
          child.stdout!.once('data', resolve);
          child.once('exit', resolve);
        }),
    ),
  );
  for (const child of children) {
    child.stdin!.on('error', () => undefined);
    if (child.exitCode === null) child.stdin!.write('go\n');
  }
  signal();
  const settled = await Promise.allSettled(listening);
  // One that did not start is not left behind.
  for (const [i, child] of children.entries()) if (settled[i]!.status === 'rejected' && child.exitCode === null) child.kill('SIGKILL');
  return settled;
}

/** Waits for the "listening" line, for `timeoutMs` from when `from` resolves. */
function untilListening(child: ChildProcess, timeoutMs: number, from: Promise<void> = Promise.resolve()): Promise<ServerProcess> {
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  return new Promise<ServerProcess>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const settle = (fn: () => void) => {
      settled = true;
      clearTimeout(timer);
      fn();
    };
    void from.then(() => {
      if (!settled) timer = setTimeout(() => settle(() => reject(new Error(`server did not start:\n${out}`))), timeoutMs);
    });
    const check = () => {
      const match = /"url":"(http:\/\/[^"]+)","store"/.exec(out);
      if (match) settle(() => resolve({ child, url: match[1]!, output: () => out, exited }));
    };
    child.stdout!.on('data', check);
    void exited.then(() => settle(() => reject(new Error(`server exited:\n${out}`))));
  });
}
