/**
 * The floor the auth-flow figures are measured against, beside the reference: what a code request and a
 * verification cost at the very least *with the durable writes the product promises* — the challenge, the
 * message, the events, the audit entries, the abuse counters, the user, the session — on authn.sh's own schema
 * (its migrations), and nothing else: bare node:http, no framework, no validation, no query builder, statements
 * prepared once and run straight on better-sqlite3, the requests of an event-loop turn committed together (as
 * authn.sh's group commit does), the null driver's drop written at once. No implementation of the product can
 * go below it on this machine; how far authn.sh is above it is what its layers cost.
 *
 *   floor-server <data dir>   →  prints `listening <port> <client token> <client id>`
 *
 * Routes: `POST /v1/client/sign_ups/{id}/prepare_verification` and `…/attempt_verification` (`{ "code" }`),
 * `Authorization: Bearer <client token>`. Sign-ups are written into the store by the caller, as the bench does
 * for authn.sh.
 */
import http from 'node:http';
import { createHash, createHmac, generateKeyPairSync, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { createSigner } from 'fast-jwt';
import { newId } from '../src/ids.js';
import { openFloorStore } from './floor-store.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: floor-server <data dir>');
const db = await openFloorStore(dir);

const UPSERT_COUNTER =
  'INSERT INTO rate_limits (key, points, expire) VALUES (?, 1, ?) ON CONFLICT(key) DO UPDATE SET ' +
  'points = CASE WHEN expire > ? THEN points + 1 ELSE 1 END, expire = CASE WHEN expire > ? THEN expire ELSE excluded.expire END RETURNING points';
const sql = {
  begin: db.prepare('BEGIN IMMEDIATE'),
  commit: db.prepare('COMMIT'),
  savepoint: db.prepare('SAVEPOINT job'),
  release: db.prepare('RELEASE job'),
  rollback: db.prepare('ROLLBACK TO job'),
  counter: db.prepare(UPSERT_COUNTER),
  signUp: db.prepare('SELECT * FROM sign_ups WHERE id = ? AND client_id = ?'),
  setSignUpChallenge: db.prepare('UPDATE sign_ups SET challenge_id = ?, updated_at = ? WHERE id = ?'),
  completeSignUp: db.prepare(
    "UPDATE sign_ups SET status = 'complete', created_user_id = ?, created_session_id = ?, updated_at = ? WHERE id = ?",
  ),
  pending: db.prepare("SELECT id, resend_at FROM challenges WHERE purpose = ? AND phone_number = ? AND status = 'pending'"),
  replace: db.prepare("UPDATE challenges SET status = 'replaced', updated_at = ? WHERE id = ? AND status = 'pending'"),
  challenge: db.prepare(
    'INSERT INTO challenges (id, purpose, phone_number, code_hash, test_number, status, attempts, max_attempts, expires_at, resend_at, created_at, updated_at) VALUES (?, ?, ?, ?, 0, ?, 0, 5, ?, ?, ?, ?)',
  ),
  challengeById: db.prepare('SELECT * FROM challenges WHERE id = ?'),
  countAttempt: db.prepare(
    "UPDATE challenges SET attempts = attempts + 1, updated_at = ? WHERE id = ? AND status = 'pending' AND attempts < max_attempts RETURNING attempts",
  ),
  settle: db.prepare("UPDATE challenges SET status = ?, updated_at = ? WHERE id = ? AND status = 'pending'"),
  message: db.prepare(
    'INSERT INTO sms_messages (id, created_at, updated_at, template, to_number, body, encoding, segments, status, driver, test_number, delivered_by_us, challenge_id, expires_at, attempts, completed_at) ' +
      "VALUES (?, ?, ?, 'verification_code', ?, ?, 'gsm7', 1, 'dropped', 'null', 0, 1, ?, ?, 1, ?)",
  ),
  messageStatus: db.prepare(
    "INSERT INTO sms_message_statuses (id, message_id, created_at, status, source, applied) VALUES (?, ?, ?, 'dropped', 'dispatcher', 1)",
  ),
  event: db.prepare('INSERT INTO events (id, type, created_at, data) VALUES (?, ?, ?, ?)'),
  audit: db.prepare(
    'INSERT INTO audit_logs (id, created_at, actor_type, actor_id, action, target_type, target_id, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  ),
  numberTaken: db.prepare('SELECT id FROM phone_numbers WHERE phone_number = ? AND verified_at IS NOT NULL'),
  user: db.prepare('INSERT INTO users (id, password_hash, created_at, updated_at, last_sign_in_at) VALUES (?, ?, ?, ?, ?)'),
  phoneNumber: db.prepare(
    'INSERT INTO phone_numbers (id, user_id, phone_number, is_primary, verified_at, reserved_for_second_factor, challenge_id, created_at, updated_at) VALUES (?, ?, ?, 1, ?, 0, ?, ?, ?)',
  ),
  session: db.prepare(
    "INSERT INTO sessions (id, client_id, user_id, status, expire_at, last_active_at, ended_at, created_at, updated_at) VALUES (?, ?, ?, 'active', ?, ?, NULL, ?, ?)",
  ),
};

const codeKey = randomBytes(32);
const hashCode = (challengeId: string, code: string) => createHmac('sha256', codeKey).update(`${challengeId}.${code}`).digest();
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signToken = createSigner({ key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, algorithm: 'ES256', kid: 'floor' });

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
const clientToken = `ct_${randomBytes(32).toString('base64url')}`;
const clientId = newId('client');
db.prepare('INSERT INTO clients (id, token_hash, created_at) VALUES (?, ?, ?)').run(clientId, hashToken(clientToken), Date.now());
const clients = new Map([[hashToken(clientToken), clientId]]);

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
  ) {
    super(code);
  }
}

interface SignUpRow {
  id: string;
  phone_number: string;
  status: string;
  challenge_id: string | null;
  created_at: number;
}

function event(now: number, type: string, data: Record<string, unknown>): void {
  sql.event.run(newId('evt', now), type, now, JSON.stringify(data));
}

function audit(now: number, actor: string, action: string, targetType: string, targetId: string, data: Record<string, unknown>): void {
  sql.audit.run(newId('aud', now), now, actor, null, action, targetType, targetId, JSON.stringify(data));
}

/** Counts one event against a fixed window of an hour; refuses past `max`. */
function count(key: string, max: number, now: number): void {
  const { points } = sql.counter.get(key, now + 3_600_000, now, now) as { points: number };
  if (points > max) throw new Refusal(429, 'limit_reached');
}

function openSignUp(client: string, id: string): SignUpRow {
  const row = sql.signUp.get(id, client) as SignUpRow | undefined;
  if (!row) throw new Refusal(404, 'resource_not_found');
  if (row.status === 'complete') throw new Refusal(422, 'flow_step_invalid');
  return row;
}

function signUpView(row: SignUpRow, challenge: { attempts: number; expires_at: number; resend_at: number; status: string }, now: number) {
  return {
    object: 'sign_up',
    id: row.id,
    status: row.status,
    phone_number: row.phone_number,
    unverified_fields: row.status === 'complete' ? [] : ['phone_number'],
    verifications: {
      phone_number: {
        status: challenge.status,
        strategy: 'phone_code',
        attempts: challenge.attempts,
        attempts_remaining: 5 - challenge.attempts,
        expire_at: challenge.expires_at,
        next_resend_at: challenge.resend_at,
      },
    },
    abandon_at: row.created_at + 86_400_000,
    created_at: row.created_at,
    updated_at: now,
  };
}

function prepare(client: string, id: string, ip: string): unknown {
  const row = openSignUp(client, id);
  const now = Date.now();
  const phone = row.phone_number;
  const pending = sql.pending.get('sign_up', phone) as { id: string; resend_at: number } | undefined;
  if (pending && pending.resend_at > now) throw new Refusal(429, 'phone_code_resend_cooldown');
  count(`sends_per_ip:${ip}`, 1_000_000, now);
  count(`sends_per_phone_number:${phone}`, 5, now);
  count('hourly_send_budget:instance', 10_000_000, now);
  if (pending) sql.replace.run(now, pending.id);
  const code = randomInt(0, 1_000_000).toString().padStart(6, '0');
  const challengeId = newId('chl', now);
  const challenge = { attempts: 0, expires_at: now + 600_000, resend_at: now + 30_000, status: 'unverified' };
  sql.challenge.run(
    challengeId,
    'sign_up',
    phone,
    hashCode(challengeId, code).toString('hex'),
    'pending',
    challenge.expires_at,
    challenge.resend_at,
    now,
    now,
  );
  audit(now, 'user', 'challenge.created', 'challenge', challengeId, { purpose: 'sign_up', phone_number: phone, ip });
  event(now, 'challenge.created', {
    id: challengeId,
    object: 'challenge',
    purpose: 'sign_up',
    phone_number: phone,
    status: 'pending',
    expire_at: challenge.expires_at,
  });
  const messageId = newId('msg', now);
  const body = `${code} is your verification code. It expires in 10 minutes.`;
  sql.message.run(messageId, now, now, phone, body, challengeId, challenge.expires_at, now);
  sql.messageStatus.run(newId('sst', now), messageId, now);
  audit(now, 'system', 'sms.queued', 'sms_message', messageId, { template: 'verification_code', status: 'queued' });
  event(now, 'sms.queued', {
    id: messageId,
    object: 'sms_message',
    template: 'verification_code',
    to_phone_number: phone,
    status: 'queued',
  });
  audit(now, 'dispatcher', 'sms.dropped', 'sms_message', messageId, { driver: 'null', body });
  sql.setSignUpChallenge.run(challengeId, now, id);
  return signUpView(row, challenge, now);
}

function attempt(
  client: string,
  id: string,
  code: string,
  ip: string,
): { view: Record<string, unknown>; session: { id: string; user: string } } {
  const now = Date.now();
  count(`attempts_per_ip:${ip}`, 1_000_000, now);
  const row = openSignUp(client, id);
  if (!row.challenge_id) throw new Refusal(422, 'verification_not_prepared');
  if (sql.numberTaken.get(row.phone_number)) throw new Refusal(422, 'form_identifier_exists');
  const challenge = sql.challengeById.get(row.challenge_id) as {
    id: string;
    code_hash: string;
    status: string;
    expires_at: number;
    resend_at: number;
    attempts: number;
  };
  if (challenge.status !== 'pending' || challenge.expires_at <= now) throw new Refusal(422, 'verification_expired');
  const counted = sql.countAttempt.get(now, challenge.id) as { attempts: number } | undefined;
  if (!counted) throw new Refusal(422, 'verification_failed');
  if (!timingSafeEqual(hashCode(challenge.id, code), Buffer.from(challenge.code_hash, 'hex')))
    throw new Refusal(422, 'form_code_incorrect');
  sql.settle.run('verified', now, challenge.id);
  audit(now, 'user', 'challenge.verified', 'challenge', challenge.id, { purpose: 'sign_up', phone_number: row.phone_number });
  event(now, 'challenge.verified', {
    id: challenge.id,
    object: 'challenge',
    purpose: 'sign_up',
    phone_number: row.phone_number,
    status: 'verified',
  });
  const userId = newId('user', now);
  sql.user.run(userId, null, now, now, now);
  sql.phoneNumber.run(newId('idn', now), userId, row.phone_number, now, challenge.id, now, now);
  audit(now, 'user', 'user.created', 'user', userId, { sign_up_id: id });
  event(now, 'user.created', { id: userId, object: 'user', phone_numbers: [row.phone_number] });
  const sessionId = newId('sess', now);
  sql.session.run(sessionId, client, userId, now + 7 * 86_400_000, now, now, now);
  audit(now, 'user', 'session.created', 'session', sessionId, { client_id: client });
  event(now, 'session.created', { id: sessionId, object: 'session', user_id: userId, client_id: client, status: 'active' });
  sql.completeSignUp.run(userId, sessionId, now, id);
  const view = signUpView({ ...row, status: 'complete' }, { ...challenge, attempts: counted.attempts, status: 'verified' }, now);
  return { view: { ...view, created_user_id: userId, created_session_id: sessionId }, session: { id: sessionId, user: userId } };
}

interface Job {
  run: () => unknown;
  answer: (status: number, body: unknown) => void;
}

/** The requests of one event-loop turn, each in a savepoint of one transaction, answered after the commit. */
let batch: Job[] = [];
function commitBatch(): void {
  const jobs = batch;
  batch = [];
  const answers: (() => void)[] = [];
  sql.begin.run();
  for (const job of jobs) {
    sql.savepoint.run();
    try {
      const result = job.run();
      sql.release.run();
      answers.push(() => job.answer(200, result));
    } catch (error) {
      sql.rollback.run();
      sql.release.run();
      const refusal = error instanceof Refusal ? error : new Refusal(500, 'internal_error');
      answers.push(() => job.answer(refusal.status, { errors: [{ code: refusal.code }] }));
    }
  }
  sql.commit.run();
  for (const answer of answers) answer();
}

const server = http.createServer((request, response) => {
  let text = '';
  request.setEncoding('utf8');
  request.on('data', (chunk: string) => (text += chunk));
  request.on('end', () => {
    const answer = (status: number, body: unknown) => {
      const payload = JSON.stringify(body);
      response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
      response.end(payload);
    };
    const client = clients.get(hashToken((request.headers.authorization ?? '').slice(7)));
    const [, , , , id, step] = (request.url ?? '').split('/');
    if (!client || !id) return answer(401, { errors: [{ code: 'client_token_invalid' }] });
    const body = JSON.parse(text) as { code?: string };
    const ip = request.socket.remoteAddress ?? '';
    const job: Job =
      step === 'prepare_verification'
        ? { run: () => prepare(client, id, ip), answer }
        : {
            run: () => attempt(client, id, String(body.code), ip),
            // The token is signed after the commit, as authn.sh does: only a committed session gets one.
            answer: (status, result) => {
              if (status !== 200) return answer(status, result);
              const { view, session } = result as ReturnType<typeof attempt>;
              const now = Math.floor(Date.now() / 1000);
              const jwt = signToken({ sid: session.id, sub: session.user, iat: now, nbf: now - 5, exp: now + 60 });
              answer(200, { ...view, session: { id: session.id, status: 'active', last_active_token: { object: 'token', jwt } } });
            },
          };
    if (batch.length === 0) setImmediate(commitBatch);
    batch.push(job);
  });
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0} ${clientToken} ${clientId}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
