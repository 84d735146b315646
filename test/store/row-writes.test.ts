/**
 * Row writes (`rowInsert`, `rowUpdate`, `rowsInsert` in src/store/writes.ts), on both stores: run as the
 * writes of a change (SQLite: statements compiled once, per table and per set of columns for an update;
 * PostgreSQL: parts of one statement), they write exactly the rows and columns given.
 */
import { describe, expect, it } from 'vitest';
import { recordEvents } from '../../src/webhooks/events.js';
import { rowInsert, rowUpdate, rowsInsert } from '../../src/store/writes.js';
import type { EventsTable } from '../../src/store/schema.js';
import { STORES } from '../helpers/server.js';
import { useStore } from '../helpers/store.js';

const clock = { now: () => 1_700_000_000_000 };
const row = (id: string, i: number): EventsTable => ({ id, type: `type ${i}`, created_at: 1_700_000_000_000 + i, data: `{"n":${i}}` });

describe.each(STORES)('row writes on %s', (kind) => {
  const current = useStore(kind);
  const all = () => current().db.selectFrom('events').selectAll().orderBy('id').execute();

  it('inserts rows one by one or as a batch, and updates the columns given of the row given, whatever the column set', async () => {
    const store = current();
    await store.db
      .transaction()
      .execute((tx) =>
        recordEvents(
          tx,
          clock,
          [],
          [rowInsert('events', row('evt_a', 1)), ...rowsInsert(tx, 'events', [row('evt_b', 2), row('evt_c', 3)])],
        ),
      );
    expect(await all()).toEqual([row('evt_a', 1), row('evt_b', 2), row('evt_c', 3)]);

    // Two updates with different columns: each runs its own statement (a statement compiled for the first set of
    // columns would write `type` again, or nothing, for the second).
    await store.db.transaction().execute((tx) => recordEvents(tx, clock, [], [rowUpdate('events', { id: 'evt_b', type: 'changed' })]));
    await store.db
      .transaction()
      .execute((tx) =>
        recordEvents(
          tx,
          clock,
          [],
          [rowUpdate('events', { id: 'evt_c', data: '{"n":"changed"}' }), rowUpdate('events', { id: 'evt_a', type: 'also' })],
        ),
      );
    expect(await all()).toEqual([
      { ...row('evt_a', 1), type: 'also' },
      { ...row('evt_b', 2), type: 'changed' },
      { ...row('evt_c', 3), data: '{"n":"changed"}' },
    ]);
  });

  it('updates nothing when no row has the id', async () => {
    const store = current();
    const before = await all();
    await store.db.transaction().execute((tx) => recordEvents(tx, clock, [], [rowUpdate('events', { id: 'evt_missing', type: 'x' })]));
    expect(await all()).toEqual(before);
  });
});
