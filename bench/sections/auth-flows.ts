/**
 * Sign-up code requests and code verifications per second, against the reference server in the same run (measured
 * before and after, the ratios taken to the mean) and against the floor server (`bench/floor-server.ts`: the same
 * requests with only their durable writes). All three are real child processes on loopback (the authn server
 * built and started as `npm start` starts it, SQLite store, null driver); autocannon drives 32 connections from
 * this process.
 *
 * - code request: `POST /v1/client/sign_ups/{id}/prepare_verification` on a sign-up of its own (each with its
 *   own number, so no cooldown or per-number limit applies; the per-IP limit and budget are raised, as all
 *   load comes from one address);
 * - verification: `POST …/attempt_verification` with the right code (read from the message log), which
 *   creates the user, the session and its first token.
 * BENCH_SECONDS (default 10) and BENCH_WARMUP_SECONDS (default 3) set the run lengths.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import BetterSqlite3 from 'better-sqlite3';
import { generateSecretKey } from '../../src/auth/secret-keys.js';
import { newId } from '../../src/ids.js';
import { machineCpuTicks, mainThreadCpuSeconds, peakRssMb, processCpuSeconds, processWrittenBytes } from '../proc.js';
import type { BenchRow } from '../run.js';

export const title = 'Auth flows: sign-up code requests and verifications (32 connections, loopback, SQLite, null driver)';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CONNECTIONS = 32;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
/** Sign-ups made ready for the code requests: more than the fastest run could use. */
const POOL = (SECONDS + WARMUP_SECONDS) * 12_000;

interface Load {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** The server's CPU time per answered request, in µs: steadier than req/s on a machine whose speed varies. */
  cpuUs: number;
  /** The part of `cpuUs` on the main thread; the rest ran on other threads (garbage collection, compiles, libuv). */
  mainThreadCpuUs: number;
  /**
   * KB the server wrote per answered request (the response, and the database pages in the WAL and at
   * checkpoints): what the durable writes cost, independent of the machine's speed.
   */
  writtenKb: number;
  /**
   * How busy the machine's cores were meanwhile, in %, everything counted (the server, the load generator):
   * well under 100 means the server's one thread, not the machine, set the rate.
   */
  machineBusy: number;
}

type NextRequest = () => { path: string; body: string } | null;

async function load(serverPid: number, url: string, headers: Record<string, string>, seconds: number, next: NextRequest): Promise<Load> {
  let instance: autocannon.Instance | null = null;
  const cpuBefore = processCpuSeconds(serverPid);
  const mainBefore = mainThreadCpuSeconds(serverPid);
  const writtenBefore = processWrittenBytes(serverPid);
  const machineBefore = machineCpuTicks();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        url,
        connections: CONNECTIONS,
        duration: seconds,
        requests: [
          {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...headers },
            setupRequest: (request) => {
              const item = next();
              if (!item) {
                instance?.stop();
                return request;
              }
              return { ...request, path: item.path, body: item.body };
            },
          },
        ],
      },
      (error, res) => (error ? reject(error) : resolve(res)),
    );
  });
  const cpuUs = ((processCpuSeconds(serverPid) - cpuBefore) * 1e6) / result.requests.total;
  const mainThreadCpuUs = ((mainThreadCpuSeconds(serverPid) - mainBefore) * 1e6) / result.requests.total;
  const writtenKb = (processWrittenBytes(serverPid) - writtenBefore) / 1024 / result.requests.total;
  const machineAfter = machineCpuTicks();
  const machineBusy = (100 * (machineAfter.busy - machineBefore.busy)) / (machineAfter.total - machineBefore.total);
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.non2xx + result.errors + result.timeouts,
    cpuUs,
    mainThreadCpuUs,
    writtenKb,
    machineBusy,
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

function spawnUntil(args: string[], env: NodeJS.ProcessEnv, ready: (output: string) => boolean): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env });
  let output = '';
  return new Promise((resolve, reject) => {
    const check = () => ready(output) && resolve(child);
    child.stdout!.on('data', (d) => {
      output += d;
      check();
    });
    child.stderr!.on('data', (d) => (output += d));
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited (${code}):\n${output}`)));
  });
}

async function waitForHealth(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the server did not become healthy');
}

async function referenceRun(dir: string): Promise<Load & { rssMb: number }> {
  let port = 0;
  const child = await spawnUntil(['--import', 'tsx', 'bench/reference-server.ts', dir], process.env, (out) => {
    const match = /listening (\d+)/.exec(out);
    if (match) port = Number(match[1]);
    return match !== null;
  });
  try {
    let n = 0;
    const next = () => ({ path: '/', body: JSON.stringify({ phone_number: `+1201${2_000_000 + (n++ % 7_000_000)}` }) });
    const url = `http://127.0.0.1:${port}`;
    await load(child.pid!, url, {}, WARMUP_SECONDS, next);
    const measured = await load(child.pid!, url, {}, SECONDS, next);
    return { ...measured, rssMb: peakRssMb(child.pid!) };
  } finally {
    await stop(child);
  }
}

async function json(url: string, method: string, body: unknown, authorization: string): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${authorization}`,
    ...(body === undefined ? {} : { 'content-type': 'application/json' }),
  };
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

/**
 * The two loads on a server whose store is the SQLite file `dbFile`: code requests on sign-ups of their own (written
 * straight into the store: making them is not what is measured), then verifications with the codes the null
 * driver kept in the message log.
 */
async function flowLoads(
  pid: number,
  url: string,
  token: string,
  clientId: string,
  dbFile: string,
): Promise<{ prepare: Load; verify: Load }> {
  const db = new BetterSqlite3(dbFile);
  db.pragma('busy_timeout = 5000');
  const ids: string[] = [];
  const insert = db.prepare(
    "INSERT INTO sign_ups (id, client_id, phone_number, password_hash, status, challenge_id, created_user_id, created_session_id, created_at, updated_at) VALUES (?, ?, ?, NULL, 'missing_requirements', NULL, NULL, NULL, ?, ?)",
  );
  db.transaction(() => {
    for (let i = 0; i < POOL; i++) {
      const id = newId('sua');
      ids.push(id);
      insert.run(id, clientId, `+1201${2_000_000 + i}`, Date.now(), Date.now());
    }
  })();

  const headers = { authorization: `Bearer ${token}` };
  const prepareBody = JSON.stringify({ strategy: 'phone_code' });
  let p = 0;
  const nextPrepare: NextRequest = () =>
    p < ids.length ? { path: `/v1/client/sign_ups/${ids[p++]}/prepare_verification`, body: prepareBody } : null;
  await load(pid, url, headers, WARMUP_SECONDS, nextPrepare);
  const prepare = await load(pid, url, headers, SECONDS, nextPrepare);

  const codes = db
    .prepare(
      "SELECT s.id AS id, m.body AS body FROM sign_ups s JOIN sms_messages m ON m.challenge_id = s.challenge_id WHERE s.status = 'missing_requirements' ORDER BY s.id",
    )
    .all() as { id: string; body: string }[];
  db.close();
  let v = 0;
  const nextVerify: NextRequest = () => {
    const item = codes[v++];
    return item
      ? {
          path: `/v1/client/sign_ups/${item.id}/attempt_verification`,
          body: JSON.stringify({ strategy: 'phone_code', code: /(\d{6})/.exec(item.body)![1] }),
        }
      : null;
  };
  await load(pid, url, headers, WARMUP_SECONDS, nextVerify);
  const verify = await load(pid, url, headers, SECONDS, nextVerify);
  return { prepare, verify };
}

async function authnRun(dir: string): Promise<{ prepare: Load; verify: Load; rssMb: number }> {
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  const port = await freePort();
  const secretKey = generateSecretKey('live');
  const env = {
    PATH: process.env.PATH,
    AUTHN_PORT: String(port),
    AUTHN_HOST: '127.0.0.1',
    AUTHN_DATA_DIR: dir,
    AUTHN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    AUTHN_SECRET_KEY: secretKey,
    AUTHN_LOG_LEVEL: 'warn',
  };
  const url = `http://127.0.0.1:${port}`;
  // Started as `npm start` starts it (its node flags included); BENCH_NODE_OPTIONS (e.g. "--cpu-prof
  // --cpu-prof-dir=/tmp/prof") adds flags.
  const start = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start
    .split(' ')
    .slice(1);
  const extra = (process.env.BENCH_NODE_OPTIONS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...extra, ...start], { cwd: ROOT, env, stdio: 'ignore' });
  try {
    await waitForHealth(url);
    // All load comes from 127.0.0.1: the per-IP limit and the budget are raised for the run.
    await json(
      `${url}/v1/instance`,
      'PATCH',
      { abuse: { sends_per_ip: { max: 1_000_000 }, attempts_per_ip: { max: 1_000_000 }, hourly_send_budget: 10_000_000 } },
      secretKey,
    );
    const client = await json(`${url}/v1/client`, 'POST', undefined, '');
    const loads = await flowLoads(child.pid!, url, String(client.token), String(client.id), path.join(dir, 'authn.sqlite'));
    return { ...loads, rssMb: peakRssMb(child.pid!) };
  } finally {
    await stop(child);
  }
}

/** The same loads on the floor server (`bench/floor-server.ts`), in a data folder of its own. */
async function floorRun(dir: string): Promise<{ prepare: Load; verify: Load }> {
  let port = 0;
  let token = '';
  let clientId = '';
  const child = await spawnUntil(['--import', 'tsx', 'bench/floor-server.ts', dir], process.env, (out) => {
    const match = /listening (\d+) (\S+) (\S+)/.exec(out);
    if (match) [port, token, clientId] = [Number(match[1]), match[2]!, match[3]!];
    return match !== null;
  });
  try {
    return await flowLoads(child.pid!, `http://127.0.0.1:${port}`, token, clientId, path.join(dir, 'authn.sqlite'));
  } finally {
    await stop(child);
  }
}

export async function run(): Promise<BenchRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'authn-bench-'));
  const floorDir = path.join(dir, 'floor');
  try {
    // The reference runs before and after: the machine's speed can drift within a run, and the ratios are taken
    // to the mean of the two.
    const before = await referenceRun(dir);
    const authn = await authnRun(dir);
    const floor = await floorRun(floorDir);
    const after = await referenceRun(dir);
    const mean = (of: (run: Load) => number) => (of(before) + of(after)) / 2;
    const referenceRps = mean((run) => run.rps);
    const percent = (rps: number, of: number) => `${Math.round((rps / of) * 100)} %`;
    const figures = (run: Load) => ({
      'req/s': run.rps,
      'of reference': percent(run.rps, referenceRps),
      'CPU µs/req': run.cpuUs,
      'main thread µs/req': run.mainThreadCpuUs,
      'KB written/req': run.writtenKb,
      'machine busy %': run.machineBusy,
      'p50 ms': run.p50,
      'p99 ms': run.p99,
      errors: run.errors,
    });
    return [
      {
        name: 'reference (node:http + HMAC + one better-sqlite3 insert; mean of a run before and one after)',
        figures: {
          'req/s': referenceRps,
          'before / after': `${Math.round(before.rps)} / ${Math.round(after.rps)}`,
          'CPU µs/req': mean((run) => run.cpuUs),
          'main thread µs/req': mean((run) => run.mainThreadCpuUs),
          'KB written/req': mean((run) => run.writtenKb),
          'machine busy %': mean((run) => run.machineBusy),
          'p50 ms': Math.max(before.p50, after.p50),
          'p99 ms': Math.max(before.p99, after.p99),
          errors: before.errors + after.errors,
          'peak RSS MB': Math.max(before.rssMb, after.rssMb),
        },
      },
      { name: 'floor: code requests with only their durable writes (bench/floor-server.ts)', figures: figures(floor.prepare) },
      { name: 'floor: verifications with only their durable writes and the token', figures: figures(floor.verify) },
      {
        name: 'sign-up code requests (prepare_verification)',
        figures: {
          ...figures(authn.prepare),
          'of floor': percent(authn.prepare.rps, floor.prepare.rps),
          target: '≥ 50 % of reference, p99 ≤ 25 ms',
        },
      },
      {
        name: 'code verifications creating user + session (attempt_verification)',
        figures: {
          ...figures(authn.verify),
          'of floor': percent(authn.verify.rps, floor.verify.rps),
          target: '≥ 30 % of reference, p99 ≤ 25 ms',
        },
      },
      { name: 'authn server peak RSS', figures: { MB: authn.rssMb, target: '≤ 150 MB' } },
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
