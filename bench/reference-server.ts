/**
 * The reference the auth-flow figures are compared with: bare node:http, parse the JSON body, make a 6-digit
 * code, HMAC it, one better-sqlite3 INSERT (WAL, synchronous=NORMAL), answer 200. What any code request costs
 * at the very least. Prints `listening <port>` once ready.
 */
import http from 'node:http';
import path from 'node:path';
import { createHmac, randomBytes, randomInt } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';

const dir = process.argv[2];
if (!dir) throw new Error('usage: reference-server <data dir>');
const db = new BetterSqlite3(path.join(dir, 'reference.sqlite'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec(
  'CREATE TABLE IF NOT EXISTS codes (id INTEGER PRIMARY KEY, phone_number TEXT NOT NULL, code_hash TEXT NOT NULL, created_at INTEGER NOT NULL)',
);
const insert = db.prepare('INSERT INTO codes (phone_number, code_hash, created_at) VALUES (?, ?, ?)');
const key = randomBytes(32);

const server = http.createServer((request, response) => {
  let body = '';
  request.setEncoding('utf8');
  request.on('data', (chunk: string) => (body += chunk));
  request.on('end', () => {
    const { phone_number } = JSON.parse(body) as { phone_number: string };
    const code = randomInt(0, 1_000_000).toString().padStart(6, '0');
    const codeHash = createHmac('sha256', key).update(code).digest('hex');
    const { lastInsertRowid } = insert.run(phone_number, codeHash, Date.now());
    const payload = JSON.stringify({ id: Number(lastInsertRowid), status: 'sent' });
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
    response.end(payload);
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
