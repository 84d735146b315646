/**
 * Write batching: the writes of one change, collected as values and run together at the end of a transaction.
 * On SQLite each write runs on its own through a statement compiled once (per table, and per set of columns for
 * an update), where a query would be compiled on every call; on PostgreSQL, where every statement is a network
 * round trip, they go out as one statement (the writes as data-modifying CTEs: they touch different tables, so
 * the order they run in does not matter).
 */
import { sql, type Compilable, type OperationNodeSource } from 'kysely';
import type { Executor, Tx } from './database.js';
import { insertRows, onPostgres, updateRowsById } from './batches.js';
import { insertRow, prepared, updateById, updateRow, type PreparedQuery } from './prepared.js';
import type { Database } from './schema.js';

type Table = keyof Database & string;

/** A row to insert, or the columns to set on the row of an id. */
export type RowWrite<T extends Table = Table> =
  | { table: T; row: Database[T]; update?: false }
  | { table: T; row: Partial<Database[T]> & { id: string }; update: true };

/** A write of a change: a row to write, or any Kysely query or `sql` statement (not yet run). */
export type ChangeWrite = RowWrite | OperationNodeSource;

export function rowInsert<T extends Table>(table: T, row: Database[T]): RowWrite<T> {
  return { table, row };
}

/** `UPDATE table SET <row's other columns> WHERE id = row.id`. */
export function rowUpdate<T extends Table>(table: T, row: Partial<Database[T]> & { id: string }): RowWrite<T> {
  return { table, row, update: true };
}

/**
 * The insert of `rows` (all of `table`): on SQLite a row at a time through the statement compiled once for the
 * table (a multi-row `VALUES` would be compiled by Kysely anew for every batch, which costs more than SQLite's
 * own work for the rows), on PostgreSQL one statement for all of them (a statement is a round trip).
 */
export function rowsInsert<T extends Table>(executor: Executor, table: T, rows: readonly Database[T][]): ChangeWrite[] {
  if (rows.length === 1) return [rowInsert(table, rows[0]!)];
  return rowsInsertAsOne(executor, table, rows);
}

/** As `rowsInsert`, but one statement of the batch's shape on PostgreSQL even for a single row. */
export function rowsInsertAsOne<T extends Table>(executor: Executor, table: T, rows: readonly Database[T][]): ChangeWrite[] {
  if (rows.length === 0) return [];
  if (!onPostgres(executor)) return rows.map((row) => rowInsert(table, row));
  return [insertRows(executor, table, rows)];
}

/**
 * The updates of `columns` on several rows of `table`, matched by id. PostgreSQL: one `UPDATE … FROM` the rows as
 * one JSON parameter (a statement per row would be a network round trip per row; see `batches.ts`); SQLite: a
 * statement per row, compiled once (`rowUpdate`), which costs microseconds.
 */
export function rowsUpdate<T extends Table>(
  executor: Executor,
  table: T,
  columns: readonly string[],
  rows: readonly (Partial<Database[T]> & { id: string })[],
): ChangeWrite[] {
  if (rows.length === 0) return [];
  if (!onPostgres(executor) || rows.length === 1) return rows.map((row) => rowUpdate(table, row));
  return [updateRowsById(table, columns, rows)];
}

function isRowWrite(write: ChangeWrite): write is RowWrite {
  return !('toOperationNode' in write);
}

/**
 * Compiled writes, made on first use: an insert per table, an update per table and set of columns (each takes
 * the row of its own table, hence `never` here).
 */
const rowWriters = new Map<string, (executor: Executor, row: never) => Promise<void>>();

/** SQLite: runs one write. */
async function runWrite(tx: Tx, write: ChangeWrite): Promise<void> {
  if (!isRowWrite(write)) {
    await sql`${write}`.execute(tx);
    return;
  }
  const key = write.update ? `${write.table} ${Object.keys(write.row).join(' ')}` : write.table;
  let run = rowWriters.get(key);
  if (!run) {
    run = write.update ? updateRow(write.table) : insertRow(write.table);
    rowWriters.set(key, run);
  }
  await run(tx, write.row as never);
}

/** PostgreSQL: a write as a query, to go into the one statement. */
function asQuery(tx: Tx, write: ChangeWrite): OperationNodeSource {
  if (!isRowWrite(write)) return write;
  // The row is of the table it names, which the union of tables hides from TypeScript.
  if (!write.update) return tx.insertInto(write.table).values(write.row as never);
  const { id, ...columns } = write.row;
  return updateById(tx, write.table, columns, id);
}

/** PostgreSQL: `writes` as data-modifying CTEs of `last`, all in one statement. */
function together(writes: readonly ChangeWrite[], last: ChangeWrite) {
  if (writes.length === 0) return sql`${last}`;
  return sql`WITH ${sql.join(writes.map((write, i) => sql`${sql.id(`w${i}`)} AS (${write})`))} ${last}`;
}

/**
 * A read that follows a batch of writes: on SQLite on its own (compiled once), on PostgreSQL in the writes'
 * statement.
 */
export interface ReadAfterWrites<R> {
  build: (db: Executor) => Compilable<R> & OperationNodeSource;
  compiled: PreparedQuery<object, R>;
}

export function readAfterWrites<R>(build: (db: Executor) => Compilable<R> & OperationNodeSource): ReadAfterWrites<R> {
  return { build, compiled: prepared<object, R>(build) };
}

/**
 * Runs `writes` (at least one) and then `read`, whose rows it returns: one statement on PostgreSQL; on SQLite,
 * where a statement costs microseconds rather than a round trip, one after the other.
 */
export async function runWrites<R = never>(tx: Tx, writes: readonly ChangeWrite[], read?: ReadAfterWrites<R>): Promise<R[]> {
  if (onPostgres(tx)) {
    const queries = writes.map((write) => asQuery(tx, write));
    if (read) return (await together(queries, read.build(tx)).execute(tx)).rows as R[];
    await together(queries.slice(0, -1), queries[queries.length - 1]!).execute(tx);
    return [];
  }
  for (const write of writes) await runWrite(tx, write);
  return read ? read.compiled.execute(tx, {}) : [];
}
