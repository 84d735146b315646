/**
 * End-to-end SMS dispatch against the fake Twilio on loopback: messages are queued through the send engine
 * (100 per transaction, several transactions at once), the dispatcher sends them to the fake (its own process,
 * beside the server), the fake answers 201 and calls back `sent` then `delivered`, signed; the clock stops when
 * every message is `delivered`. Figures: messages per second end to end, and CPU time per message of the
 * server process (queueing, dispatching, callbacks), of the fake and, on PostgreSQL, of the database backends.
 * Beside them, the floor (bench/dispatch-floor.ts): the same messages with only their durable writes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { generateSecretKey } from '../../src/auth/secret-keys.js';
import { SYSTEM_ACTOR } from '../../src/audit/audit-log.js';
import { createTestDatabase, type TestDatabase } from '../../test/helpers/postgres.js';
import { freePort } from '../../test/fakes/common.js';
import { mainThreadCpuSeconds, processCpuSeconds } from '../proc.js';
import type { BenchRow } from '../run.js';

export const title = 'SMS dispatch, end to end (queued → fake Twilio → delivered callback)';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MESSAGES = Number(process.env.BENCH_SMS_MESSAGES ?? 10_000);
const WARMUP = 1_000;
/** `BENCH_SMS_STORES=sqlite` measures one store only. */
const STORES = (process.env.BENCH_SMS_STORES ?? 'sqlite,postgres').split(',') as ('sqlite' | 'postgres')[];
const QUEUERS = Number(process.env.BENCH_SMS_QUEUERS ?? 4);
const ACCOUNT = { accountSid: `AC${'0123456789abcdef'.repeat(2)}`, authToken: 'f'.repeat(32) };

/**
 * CPU seconds used so far by each PostgreSQL backend serving this database, by pid (when /proc shows them: the
 * database runs on this machine). A backend that ends between two readings is not counted.
 */
async function databaseCpuSeconds(server: RunningServer): Promise<Map<number, number>> {
  const { rows } = await sql<{ pid: number }>`select pid from pg_stat_activity where datname = current_database()`.execute(
    server.services.store.db,
  );
  const cpu = new Map<number, number>();
  for (const { pid } of rows) {
    try {
      cpu.set(pid, processCpuSeconds(pid));
    } catch {
      // Not on this machine, or not ours to read.
    }
  }
  return cpu;
}

async function startFake(): Promise<{ child: ChildProcess; url: string }> {
  const options = JSON.stringify({ ...ACCOUNT, callbacks: 'auto', selfCheck: false, keep: false });
  // BENCH_FAKE_NODE_OPTIONS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") passes node flags to the fake.
  const extra = (process.env.BENCH_FAKE_NODE_OPTIONS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...extra, '--import', 'tsx', 'test/fakes/serve.ts', 'twilio', options], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve((JSON.parse(String(d).split('\n')[0]!) as { url: string }).url));
    child.once('exit', () => reject(new Error('the fake carrier exited')));
  });
  return { child, url };
}

/**
 * Queues `count` messages, 100 per transaction, from `QUEUERS` transactions at a time, as request paths run them
 * (`services.transactions`: group commit on SQLite): a server queues from many concurrent requests, and on
 * PostgreSQL concurrent transactions run on separate pool connections.
 */
async function queue(server: RunningServer, count: number, offset: number): Promise<void> {
  const { sms, transactions } = server.services;
  let next = 0;
  const queuer = async () => {
    for (let done = next; done < count; done = next) {
      next += 100;
      await transactions.run(async (tx) => {
        for (let i = done; i < Math.min(count, done + 100); i++) {
          // Distinct, valid recipients: +1 415 2xx xxxx.
          await sms.send(
            {
              template: 'verification_code',
              to: `+1415${String(2_000_000 + offset + i)}`,
              variables: { code: '123456', expires_in_minutes: '10' },
            },
            tx,
          );
        }
      });
    }
  };
  await Promise.all(Array.from({ length: QUEUERS }, queuer));
}

/**
 * Messages delivered so far, from the server's own counter (incremented once the callback's transaction has
 * committed): polling it costs nothing, where counting rows would load the store being measured.
 */
async function delivered(server: RunningServer): Promise<number> {
  const { values } = await server.services.smsMetrics.messages.get();
  return values.filter((v) => v.labels.status === 'delivered').reduce((sum, v) => sum + v.value, 0);
}

/** Waits until `target` messages are delivered; gives up (with where they stand) after 20 s without progress. */
async function waitDelivered(server: RunningServer, target: number): Promise<void> {
  let last = -1;
  let since = Date.now();
  for (let now = await delivered(server); now < target; now = await delivered(server)) {
    if (now !== last) [last, since] = [now, Date.now()];
    if (Date.now() - since > 20_000) {
      const statuses = await server.services.store.db
        .selectFrom('sms_messages')
        .select(['status', 'error_code', (eb) => eb.fn.countAll<number>().as('n')])
        .groupBy(['status', 'error_code'])
        .execute();
      throw new Error(`stuck at ${now} of ${target} delivered: ${JSON.stringify(statuses)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** `failover`: Vonage is configured as the failover driver (never needed: Twilio accepts every message). */
async function measure(kind: 'sqlite' | 'postgres', failover = false): Promise<BenchRow> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'authn-bench-'));
  const database: TestDatabase | null = kind === 'postgres' ? await createTestDatabase() : null;
  const fake = await startFake();
  const port = await freePort();
  let server: RunningServer | null = null;
  try {
    server = await startServer(
      loadConfig({
        AUTHN_DATA_DIR: dataDir,
        AUTHN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        AUTHN_SECRET_KEY: generateSecretKey('test'),
        AUTHN_PORT: String(port),
        AUTHN_PUBLIC_URL: `http://127.0.0.1:${port}`,
        AUTHN_LOG_LEVEL: 'warn',
        AUTHN_TWILIO_API_URL: fake.url,
        AUTHN_SMS_DRIVER: 'twilio',
        AUTHN_SMS_FROM_NUMBER: '+14155550100',
        AUTHN_SMS_TWILIO_ACCOUNT_SID: ACCOUNT.accountSid,
        AUTHN_SMS_TWILIO_AUTH_TOKEN: ACCOUNT.authToken,
        AUTHN_SMS_DISPATCH_POLL_MS: '20',
        AUTHN_SMS_DISPATCH_CONCURRENCY: process.env.BENCH_SMS_CONCURRENCY ?? '64',
        ...(database ? { AUTHN_DATABASE_URL: database.url } : {}),
        ...(failover ? { AUTHN_SMS_VONAGE_API_KEY: 'abcd1234', AUTHN_SMS_VONAGE_API_SECRET: 'secretValue42' } : {}),
      }),
      { print: () => undefined },
    );
    // Each message waits for its receipt with its sealed body kept (receipt_wait_seconds, default 60).
    if (failover) await server.services.instance.patch({ sms: { failover: { driver: 'vonage' } } }, SYSTEM_ACTOR);
    await queue(server, WARMUP, 0);
    await waitDelivered(server, WARMUP);

    const cpuBefore = process.cpuUsage();
    const mainBefore = mainThreadCpuSeconds(process.pid);
    const fakeBefore = processCpuSeconds(fake.child.pid!);
    const databaseBefore = database ? await databaseCpuSeconds(server) : null;
    const started = process.hrtime.bigint();
    await queue(server, MESSAGES, WARMUP);
    await waitDelivered(server, WARMUP + MESSAGES);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const cpu = process.cpuUsage(cpuBefore);
    const mainSeconds = mainThreadCpuSeconds(process.pid) - mainBefore;
    const fakeSeconds = processCpuSeconds(fake.child.pid!) - fakeBefore;
    let databaseSeconds = 0;
    for (const [pid, now] of databaseBefore ? await databaseCpuSeconds(server) : [])
      databaseSeconds += now - (databaseBefore!.get(pid) ?? 0);
    return {
      name: `${MESSAGES} messages (${kind === 'sqlite' ? 'SQLite' : 'PostgreSQL'}${failover ? ', failover configured' : ''})`,
      figures: {
        'messages/s': MESSAGES / seconds,
        'server CPU ms/msg': (cpu.user + cpu.system) / 1000 / MESSAGES,
        'main thread ms/msg': (mainSeconds * 1000) / MESSAGES,
        'fake CPU ms/msg': (fakeSeconds * 1000) / MESSAGES,
        ...(databaseBefore?.size ? { 'database CPU ms/msg': (databaseSeconds * 1000) / MESSAGES } : {}),
        seconds,
      },
    };
  } finally {
    await server?.close();
    fake.child.kill('SIGTERM');
    await new Promise((resolve) => fake.child.once('exit', resolve));
    await database?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * The floor (bench/dispatch-floor.ts, its own process) against a fake of its own: the same messages, the same
 * durable writes on SQLite, none of authn.sh's layers.
 */
async function measureFloor(): Promise<BenchRow> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'authn-floor-'));
  const fake = await startFake();
  try {
    const floor = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/dispatch-floor.ts',
        dataDir,
        fake.url,
        ACCOUNT.accountSid,
        ACCOUNT.authToken,
        String(MESSAGES),
        String(WARMUP),
      ],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let fakeBefore = 0;
    let output = '';
    const figures = await new Promise<{ seconds: number; cpuSeconds: number; mainThreadSeconds: number }>((resolve, reject) => {
      floor.stdout!.on('data', (data: Buffer) => {
        output += String(data);
        if (fakeBefore === 0 && output.startsWith('measuring\n')) fakeBefore = processCpuSeconds(fake.child.pid!);
        const line = output.split('\n')[1];
        if (line) resolve(JSON.parse(line) as { seconds: number; cpuSeconds: number; mainThreadSeconds: number });
      });
      floor.once('exit', (code) => reject(new Error(`the floor exited (${code}) before its figures`)));
    });
    const fakeSeconds = processCpuSeconds(fake.child.pid!) - fakeBefore;
    await new Promise((resolve) => (floor.exitCode === null ? floor.once('exit', resolve) : resolve(null)));
    return {
      name: `${MESSAGES} messages (the floor, SQLite)`,
      figures: {
        'messages/s': MESSAGES / figures.seconds,
        'server CPU ms/msg': (figures.cpuSeconds * 1000) / MESSAGES,
        'main thread ms/msg': (figures.mainThreadSeconds * 1000) / MESSAGES,
        'fake CPU ms/msg': (fakeSeconds * 1000) / MESSAGES,
        seconds: figures.seconds,
      },
    };
  } finally {
    fake.child.kill('SIGTERM');
    await new Promise((resolve) => fake.child.once('exit', resolve));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const kind of STORES) {
    const row = await measure(kind);
    rows.push(row);
    if (kind !== 'sqlite') continue;
    // Right after the SQLite run, as the machine's speed drifts (BENCH_SMS_FAILOVER=0 leaves it out).
    if (process.env.BENCH_SMS_FAILOVER !== '0') {
      const withFailover = await measure(kind, true);
      rows.push(withFailover);
      withFailover.figures['of without'] =
        `${Math.round((100 * Number(withFailover.figures['messages/s'])) / Number(row.figures['messages/s']))} %`;
    }
    // BENCH_SMS_FLOOR=0 leaves the floor out.
    if (process.env.BENCH_SMS_FLOOR === '0') continue;
    const floor = await measureFloor();
    rows.push(floor);
    row.figures['of floor'] = `${Math.round((100 * Number(row.figures['messages/s'])) / Number(floor.figures['messages/s']))} %`;
  }
  return rows;
}
