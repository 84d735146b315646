/**
 * Request transactions (`Transactions.run`): on SQLite, transactions that arrive together share one commit, each
 * in a savepoint of its own, and the statements compiled once run on the connection directly while a job holds
 * it. On PostgreSQL each is its own transaction. Either way: a failed transaction leaves nothing behind, the
 * others are kept, and an Error *returned* is thrown only after what it wrote has committed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, openStore, type Store, type Tx } from '../../src/store/database.js';
import { Transactions, openConnection } from '../../src/store/group-commit.js';
import { insertRow, prepared } from '../../src/store/prepared.js';
import { Refusal } from '../../src/refusal.js';
import { STORES } from '../helpers/server.js';
import { useStore } from '../helpers/store.js';

const insertEvent = insertRow('events');
const eventsOfType = prepared<{ type: string }, { id: string }>((db, $) =>
  db.selectFrom('events').select('id').where('type', '=', $('type')).orderBy('id'),
);

describe.each(STORES)('request transactions on %s', (kind) => {
  const current = useStore(kind);
  let store: Store;
  let transactions: Transactions;

  beforeAll(() => {
    store = current();
    transactions = new Transactions(store);
  });

  const write = (tx: Tx, type: string, id: string) => insertEvent(tx, { id, type, created_at: 1, data: '{}' });
  const stored = async (type: string) => (await eventsOfType.execute(store.db, { type })).map((row) => row.id);

  it('keeps every transaction that succeeds and nothing of one that fails, when they run together', async () => {
    const outcomes = await Promise.allSettled([
      transactions.run(async (tx) => write(tx, 'together', 'evt_a')),
      transactions.run(async (tx) => {
        await write(tx, 'together', 'evt_b');
        throw new Error('refused');
      }),
      transactions.run(async (tx) => write(tx, 'together', 'evt_c')),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ message: 'refused' });
    expect(await stored('together')).toEqual(['evt_a', 'evt_c']);
  });

  it('throws a returned Refusal after what its transaction wrote has committed', async () => {
    await expect(
      transactions.run(async (tx) => {
        await write(tx, 'returned', 'evt_r');
        return Refusal.of('ip_attempt_limit_reached', { longMessage: 'limit reached' });
      }),
    ).rejects.toThrow('limit reached');
    expect(await stored('returned')).toEqual(['evt_r']);
  });

  it('a statement compiled once reads what its own transaction wrote before, and a failed one leaves no row', async () => {
    const seen = await transactions.run(async (tx) => {
      await write(tx, 'own', 'evt_o');
      return (await eventsOfType.execute(tx, { type: 'own' })).map((row) => row.id);
    });
    expect(seen).toEqual(['evt_o']);
    const duplicate = transactions.run(async (tx) => {
      await write(tx, 'own', 'evt_p');
      await write(tx, 'own', 'evt_o'); // the primary key is taken: the database refuses
    });
    await expect(duplicate).rejects.toThrow();
    expect(await stored('own')).toEqual(['evt_o']);
  });

  it('lends the connection to a job only while it runs', async () => {
    let inside: unknown = 'unset';
    let kept: Tx | null = null;
    await transactions.run(async (tx) => {
      inside = openConnection(tx);
      kept = tx;
    });
    // On SQLite the job's transaction holds the store's one connection; PostgreSQL goes through its pool.
    expect(inside).toBe(kind === 'sqlite' ? store.sqlite : null);
    expect(openConnection(kept!)).toBeNull();
    expect(openConnection(store.db)).toBeNull();
  });

  it('rolls back a job that changed many pages alone, the others of its batch kept', async () => {
    // Far more than the 64 KiB SQLite keeps of a savepoint's journal in memory by default: the store keeps it
    // all in memory (temp_store), and a rollback to the job's savepoint must still restore every page.
    const big = 'x'.repeat(2_000);
    const many = (tx: Tx, type: string, prefix: string) =>
      Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          insertEvent(tx, { id: `${prefix}_${String(i).padStart(3, '0')}`, type, created_at: 1, data: JSON.stringify(big) }),
        ),
      );
    const outcomes = await Promise.allSettled([
      transactions.run(async (tx) => many(tx, 'bulk', 'evt_k')),
      transactions.run(async (tx) => {
        await many(tx, 'bulk', 'evt_l');
        throw new Error('refused');
      }),
      transactions.run(async (tx) => write(tx, 'bulk', 'evt_m')),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const ids = await stored('bulk');
    expect(ids).toHaveLength(201);
    expect(ids.some((id) => id.startsWith('evt_l'))).toBe(false);
    if (kind === 'sqlite') expect(store.sqlite!.prepare('pragma temp_store').all([])).toEqual([{ temp_store: 2 }]);
  });
});

describe('group commit on SQLite', () => {
  let dataDir: string;
  let store: Store;
  let transactions: Transactions;
  /** A second connection: it sees only what has committed. */
  let reader: BetterSqlite3.Database;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'authn-store-'));
    store = await openStore({ databaseUrl: null, dataDir });
    await migrate(store);
    transactions = new Transactions(store);
    reader = new BetterSqlite3(store.sqlitePath!, { readonly: true });
  });
  afterAll(async () => {
    reader?.close();
    await store?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const committed = (id: string) => reader.prepare('select id from events where id = ?').get(id) !== undefined;
  const write = (tx: Tx, id: string) => insertEvent(tx, { id, type: 'gather', created_at: 1, data: '{}' });
  const turns = (n: number) => new Promise<void>((resolve) => (n === 0 ? resolve() : setImmediate(() => void turns(n - 1).then(resolve))));

  it('lets transactions that keep arriving over the next event-loop turns join the batch before it commits', async () => {
    let firstCommittedWhenLastRan: boolean | null = null;
    const first = transactions.run((tx) => write(tx, 'evt_g1'));
    await turns(1);
    const second = transactions.run((tx) => write(tx, 'evt_g2'));
    await turns(1);
    const third = transactions.run(async (tx) => {
      firstCommittedWhenLastRan = committed('evt_g1');
      await write(tx, 'evt_g3');
    });
    await Promise.all([first, second, third]);
    // The first was still uncommitted when the third ran: all three went out in one commit.
    expect(firstCommittedWhenLastRan).toBe(false);
    expect(['evt_g1', 'evt_g2', 'evt_g3'].map(committed)).toEqual([true, true, true]);
  });

  it('stops waiting once nothing more arrives: a transaction that comes later finds the batch committed', async () => {
    const first = transactions.run((tx) => write(tx, 'evt_h1'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    let firstCommitted: boolean | null = null;
    await transactions.run(async (tx) => {
      firstCommitted = committed('evt_h1');
      await write(tx, 'evt_h2');
    });
    await first;
    expect(firstCommitted).toBe(true);
  });
});
