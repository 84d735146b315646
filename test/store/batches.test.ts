/**
 * Statements over batches (`src/store/batches.ts`), on both stores: they read and write exactly the rows given,
 * whatever characters the values hold, and their text does not depend on the batch's size (so PostgreSQL plans,
 * and node-postgres prepares, one statement rather than one per size).
 */
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { Executor, Store } from '../../src/store/database.js';
import { customPlans, inIds, insertRows, updateRowsById } from '../../src/store/batches.js';
import type { EventsTable } from '../../src/store/schema.js';
import { STORES } from '../helpers/server.js';
import { useStore } from '../helpers/store.js';

/** Ids and data that an array literal, a JSON document or a VALUES list could get wrong if not passed as parameters. */
const AWKWARD = ['evt_plain', 'evt_with,comma', 'evt_"quoted"', "evt_o'neil", 'evt_{braces}', 'evt_back\\slash', 'evt_ünïcødé NULL'];

const row = (id: string, i: number): EventsTable => ({
  id,
  type: `type ${i}`,
  created_at: 1_700_000_000_000 + i,
  data: JSON.stringify({ id, n: i, text: 'a "b" \\ c' }),
});
const byId = (store: Store, ids: readonly string[]) =>
  store.db
    .selectFrom('events')
    .selectAll()
    .where(inIds(store.db, 'id', ids))
    .orderBy('id')
    .execute();

describe.each(STORES)('batch statements on %s', (kind) => {
  const current = useStore(kind);

  it('inserts a batch of rows with every value as given', async () => {
    const store = current();
    const rows = AWKWARD.map(row);
    await store.db.transaction().execute((tx) => insertRows(tx, 'events', rows).execute(tx));
    const stored = await store.db.selectFrom('events').selectAll().orderBy('id').execute();
    expect(new Map(stored.map((r) => [r.id, r]))).toEqual(new Map(rows.map((r) => [r.id, r])));
  });

  it('reads exactly the ids asked for: none, one, several, awkward ones', async () => {
    const store = current();
    expect(await byId(store, [])).toEqual([]);
    expect((await byId(store, ['evt_plain'])).map((r) => r.id)).toEqual(['evt_plain']);
    expect((await byId(store, ['evt_with,comma', 'evt_missing', "evt_o'neil"])).map((r) => r.id).sort()).toEqual(
      ['evt_with,comma', "evt_o'neil"].sort(),
    );
    expect((await byId(store, AWKWARD)).map((r) => r.id).sort()).toEqual([...AWKWARD].sort());
    // A value that looks like an array literal or a JSON list is one id, not several.
    expect(await byId(store, ['{evt_plain,evt_with}'])).toEqual([]);
    expect(await byId(store, ['["evt_plain"]'])).toEqual([]);
  });

  it('compiles one statement text whatever the batch size', () => {
    const store = current();
    const text = (n: number) =>
      store.db
        .selectFrom('events')
        .selectAll()
        .where(inIds(store.db, 'id', AWKWARD.slice(0, n)))
        .compile().sql;
    expect(new Set([1, 2, 5, 7].map(text)).size).toBe(1);
    if (kind === 'postgres') {
      const insert = (n: number) => insertRows(store.db, 'events', AWKWARD.slice(0, n).map(row)).compile(store.db).sql;
      expect(new Set([1, 3, 7].map(insert)).size).toBe(1);
    }
  });
});

// SQLite updates a row per statement (see `messageUpdates`): the batch update is PostgreSQL's.
describe('batch updates on postgres', () => {
  const current = useStore('postgres');

  it('updates several rows by id in one statement, each with its own values', async () => {
    const store = current();
    await insertRows(store.db, 'events', AWKWARD.map(row)).execute(store.db);
    await store.db.transaction().execute(async (tx) => {
      await customPlans(tx);
      await updateRowsById(
        'events',
        ['type', 'data'],
        [
          { id: 'evt_plain', type: 'renamed', data: '{"x":1}' },
          { id: "evt_o'neil", type: 'quote "kept"', data: '{}' },
        ],
      ).execute(tx);
    });
    const rows = new Map((await byId(store, ['evt_plain', "evt_o'neil", 'evt_with,comma'])).map((r) => [r.id, [r.type, r.data]]));
    expect(rows).toEqual(
      new Map([
        ['evt_plain', ['renamed', '{"x":1}']],
        ["evt_o'neil", ['quote "kept"', '{}']],
        ['evt_with,comma', ['type 1', row('evt_with,comma', 1).data]],
      ]),
    );
  });

  it('plans a batch transaction for its own parameters, and only that transaction', async () => {
    const store = current();
    const mode = async (executor: Executor) =>
      (await sql<{ plan_cache_mode: string }>`show plan_cache_mode`.execute(executor)).rows[0]!.plan_cache_mode;
    const inside = await store.db.transaction().execute(async (tx) => {
      await customPlans(tx);
      return mode(tx);
    });
    expect(inside).toBe('force_custom_plan');
    expect(await mode(store.db)).toBe('auto');
  });
});
