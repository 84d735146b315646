/**
 * The floor the dispatch figures are measured against: what an SMS costs end to end at the very least *with the
 * durable writes the product promises* — the message (its code sealed at rest), its status history, its
 * attempt, the events `sms.queued`, `sms.sent` and `sms.delivered`, an audit entry per step, every carrier
 * report kept and checked for duplicates — on authn.sh's own schema (its migrations) and against the same fake
 * Twilio, and nothing else: bare node:http for the callbacks, undici for the carrier calls, statements prepared
 * once and run straight on better-sqlite3, every write of an event-loop turn in one commit, no framework, no
 * validation, no query builder, no retries, leases that are never checked, no metrics, no logs. No
 * implementation of the product can go below it on this machine; how far authn.sh is above it is what its
 * layers and its safety cost.
 *
 *   dispatch-floor <data dir> <fake url> <account sid> <auth token> <messages> <warm-up messages>
 *     → prints `measuring` once warmed up, then one JSON line: `{ seconds, cpuSeconds, mainThreadSeconds }` for
 *       `messages` messages
 *
 * Messages are queued 100 per transaction from four queuers at a time, as the authn.sh run queues them.
 */
import http from 'node:http';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';
import { newId } from '../src/ids.js';
import { openFloorStore } from './floor-store.js';
import { verifyTwilioSignature } from '../src/sms/drivers/twilio.js';
import { mainThreadCpuSeconds } from './proc.js';

const [dir, fakeUrl, accountSid, authToken, messagesArg, warmupArg] = process.argv.slice(2);
if (!dir || !fakeUrl || !accountSid || !authToken || !messagesArg || !warmupArg)
  throw new Error('usage: dispatch-floor <data dir> <fake url> <account sid> <auth token> <messages> <warm-up>');
const MESSAGES = Number(messagesArg);
const WARMUP = Number(warmupArg);
const CONCURRENCY = 64;
const BATCH = 100;

const db = await openFloorStore(dir);

const sql = {
  begin: db.prepare('BEGIN IMMEDIATE'),
  commit: db.prepare('COMMIT'),
  message: db.prepare(
    'INSERT INTO sms_messages (id, created_at, updated_at, template, to_number, from_number, body, encoding, segments, status, driver, test_number, delivered_by_us, expires_at, attempts, next_attempt_at, payload) ' +
      "VALUES (?, ?, ?, 'verification_code', ?, ?, ?, 'gsm7', 1, 'queued', 'twilio', 0, 1, ?, 0, ?, ?)",
  ),
  due: db.prepare(
    'SELECT id, to_number, from_number, payload, expires_at, attempts FROM sms_messages WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?',
  ),
  lease: db.prepare(
    "UPDATE sms_messages SET status = 'sending', lease_owner = 'floor', lease_expires_at = ?, next_attempt_at = ?, attempts = attempts + 1, updated_at = ? WHERE id = ?",
  ),
  sent: db.prepare(
    "UPDATE sms_messages SET status = 'sent', carrier_message_id = ?, carrier_status = ?, carrier_parts = ?, sent_at = ?, payload = NULL, lease_owner = NULL, lease_expires_at = NULL, next_attempt_at = NULL, updated_at = ? WHERE id = ? AND status = 'sending'",
  ),
  attempt: db.prepare(
    "INSERT INTO sms_message_attempts (id, message_id, attempt, driver, worker, started_at, finished_at, outcome, carrier_message_id, http_status) VALUES (?, ?, ?, 'twilio', 'floor', ?, ?, 'accepted', ?, 201)",
  ),
  current: db.prepare('SELECT status FROM sms_messages WHERE id = ?'),
  reported: db.prepare('SELECT 1 FROM sms_message_statuses WHERE message_id = ? AND dedupe_key = ?'),
  sentByCallback: db.prepare(
    "UPDATE sms_messages SET status = 'sent', carrier_message_id = ?, carrier_status = ?, sent_at = ?, payload = NULL, lease_owner = NULL, lease_expires_at = NULL, next_attempt_at = NULL, updated_at = ? WHERE id = ?",
  ),
  delivered: db.prepare(
    "UPDATE sms_messages SET status = 'delivered', carrier_status = ?, carrier_message_id = coalesce(carrier_message_id, ?), completed_at = ?, payload = NULL, lease_owner = NULL, lease_expires_at = NULL, next_attempt_at = NULL, updated_at = ? WHERE id = ?",
  ),
  status: db.prepare(
    'INSERT INTO sms_message_statuses (id, message_id, created_at, status, source, carrier_status, carrier_message_id, applied, dedupe_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  ),
  event: db.prepare('INSERT INTO events (id, type, created_at, data) VALUES (?, ?, ?, ?)'),
  audit: db.prepare(
    "INSERT INTO audit_logs (id, created_at, actor_type, actor_id, action, target_type, target_id, data) VALUES (?, ?, ?, ?, ?, 'sms_message', ?, ?)",
  ),
};

// The code is sealed at rest until it is sent (AES-256-GCM, the message id as associated data).
const key = randomBytes(32);
function seal(text: string, id: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(id));
  const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}
function open(envelope: string, id: string): string {
  const raw = Buffer.from(envelope, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12)).setAAD(Buffer.from(id));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
}

/** Group commit: every write handed in during one event-loop turn runs in one transaction. */
let pending: (() => void)[] = [];
let waiting: (() => void)[] = [];
function write(work: () => void): Promise<void> {
  pending.push(work);
  if (pending.length === 1) setImmediate(flush);
  return new Promise((resolve) => waiting.push(resolve));
}
function flush(): void {
  const [works, done] = [pending, waiting];
  [pending, waiting] = [[], []];
  sql.begin.run();
  for (const work of works) work();
  sql.commit.run();
  for (const resolve of done) resolve();
}

function trail(
  id: string,
  now: number,
  status: string,
  source: string,
  actor: [string, string | null],
  event: string | null,
  carrier: [string, string, string] | null,
  applied = true,
): void {
  sql.status.run(
    newId('mst', now),
    id,
    now,
    status,
    source,
    carrier?.[0] ?? null,
    carrier?.[1] ?? null,
    applied ? 1 : 0,
    carrier?.[2] ?? null,
  );
  if (!applied) return;
  const data = JSON.stringify({ id, object: 'sms_message', template: 'verification_code', status });
  if (event) sql.event.run(newId('evt', now), event, now, data);
  sql.audit.run(newId('aud', now), now, actor[0], actor[1], `sms.${status}`, id, JSON.stringify({ status }));
}

// Carrier callbacks: authenticate (X-Twilio-Signature), then apply under the forward-only rule.
let deliveredCount = 0;
let port = 0;
const callbackUrl = (id: string) => `http://127.0.0.1:${port}/twilio/${id}`;
const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const id = (req.url ?? '').slice('/twilio/'.length);
    const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
    if (!verifyTwilioSignature(authToken, req.headers['x-twilio-signature'] as string | undefined, callbackUrl(id), params)) {
      res.writeHead(403).end();
      return;
    }
    const status = params.MessageStatus!;
    const sid = params.MessageSid!;
    let counted = false;
    void write(() => {
      const now = Date.now();
      const row = sql.current.get(id) as { status: string } | undefined;
      const dedupeKey = `twilio:${sid}:${status}`;
      if (!row || sql.reported.get(id, dedupeKey)) return;
      const carrier: [string, string, string] = [status, sid, dedupeKey];
      if (status === 'delivered' && row.status !== 'delivered') {
        sql.delivered.run(status, sid, now, now, id);
        trail(id, now, 'delivered', 'twilio', ['carrier', 'twilio'], 'sms.delivered', carrier);
        counted = true;
      } else if (status === 'sent' && row.status === 'sending') {
        // The callback got here before the dispatcher recorded the carrier's answer.
        sql.sentByCallback.run(sid, status, now, now, id);
        trail(id, now, 'sent', 'twilio', ['carrier', 'twilio'], 'sms.sent', carrier);
      } else {
        trail(id, now, row.status, 'twilio', ['carrier', 'twilio'], null, carrier, false);
      }
    }).then(() => {
      if (counted) deliveredCount++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"result":"ok"}');
    });
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
port = (server.address() as { port: number }).port;

// The dispatcher: claim due messages, send each, record the outcome.
const agent = new Agent({ connections: 128, keepAliveTimeout: 30_000 });
const messagesUrl = `${fakeUrl}/2010-04-01/Accounts/${accountSid}/Messages.json`;
const authorization = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
type Due = { id: string; to_number: string; from_number: string; payload: string; expires_at: number; attempts: number };
let inFlight = 0;
let claiming = false;
let queuedSinceClaim = true;

async function claim(): Promise<void> {
  if (claiming || CONCURRENCY - inFlight < CONCURRENCY / 2) return;
  claiming = true;
  queuedSinceClaim = false;
  let rows: Due[] = [];
  await write(() => {
    const now = Date.now();
    rows = sql.due.all(now, CONCURRENCY - inFlight) as Due[];
    for (const row of rows) sql.lease.run(now + 60_000, now + 60_000, now, row.id);
  });
  claiming = false;
  inFlight += rows.length;
  for (const row of rows) void send(row);
  if (rows.length > 0 || queuedSinceClaim) void claim();
}

async function send(row: Due): Promise<void> {
  const startedAt = Date.now();
  const validity = Math.floor((row.expires_at - startedAt) / 1000);
  const form = new URLSearchParams({
    To: row.to_number,
    From: row.from_number,
    Body: open(row.payload, row.id),
    StatusCallback: callbackUrl(row.id),
    ValidityPeriod: String(validity),
  });
  const res = await request(messagesUrl, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: form.toString(),
    dispatcher: agent,
  });
  const answer = (await res.body.json()) as { sid: string; status: string; num_segments: string };
  if (res.statusCode !== 201) throw new Error(`the fake answered ${res.statusCode}`);
  await write(() => {
    const now = Date.now();
    sql.attempt.run(newId('att', now), row.id, row.attempts + 1, startedAt, now, answer.sid);
    if (sql.sent.run(answer.sid, answer.status, Number(answer.num_segments), now, now, row.id).changes === 1) {
      trail(row.id, now, 'sent', 'dispatcher', ['dispatcher', null], 'sms.sent', null);
    }
  });
  inFlight--;
  void claim();
}

// The engine's side: queue messages, 100 per transaction, four transactions at a time.
async function queue(count: number, offset: number): Promise<void> {
  let next = 0;
  const queuer = async () => {
    for (let done = next; done < count; done = next) {
      next += BATCH;
      await write(() => {
        for (let i = done; i < Math.min(count, done + BATCH); i++) {
          const now = Date.now();
          const id = newId('sms', now);
          const body = 'Your verification code is 123456. It expires in 10 minutes.';
          sql.message.run(
            id,
            now,
            now,
            `+1415${2_000_000 + offset + i}`,
            '+14155550100',
            body.replace('123456', '******'),
            now + 600_000,
            now,
            seal(body, id),
          );
          trail(id, now, 'queued', 'engine', ['system', null], 'sms.queued', null);
        }
      });
      queuedSinceClaim = true;
      void claim();
    }
  };
  await Promise.all(Array.from({ length: 4 }, queuer));
}

async function deliveredAll(target: number): Promise<void> {
  while (deliveredCount < target) await new Promise((resolve) => setTimeout(resolve, 10));
}

await queue(WARMUP, 0);
await deliveredAll(WARMUP);
process.stdout.write('measuring\n');
const cpuBefore = process.cpuUsage();
const mainBefore = mainThreadCpuSeconds(process.pid);
const started = process.hrtime.bigint();
await queue(MESSAGES, WARMUP);
await deliveredAll(WARMUP + MESSAGES);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const cpu = process.cpuUsage(cpuBefore);
process.stdout.write(
  `${JSON.stringify({ seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, mainThreadSeconds: mainThreadCpuSeconds(process.pid) - mainBefore })}\n`,
);
server.close();
await agent.close();
db.close();
