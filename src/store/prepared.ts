/**
 * Statements that run on every request, compiled once. Kysely builds an operation tree and compiles it to SQL
 * on each call, which costs several times what better-sqlite3 then needs to run the statement (and leaves
 * garbage behind). A prepared query is built once per dialect with named *slots* where the values go; each
 * call only puts the values in place and runs the compiled SQL through the same Kysely executor (so it joins
 * the caller's transaction like any other query).
 *
 *   const byId = prepared<{ id: string }>((db, $) => db.selectFrom('users').selectAll().where('id', '=', $('id')));
 *   const user = await byId.takeFirst(tx, { id });
 */
import { CompiledQuery, type Compilable, type Kysely, type QueryResult, type SqliteDatabase } from 'kysely';
import { openConnection } from './group-commit.js';
import type { Db, Executor } from './database.js';
import type { Database } from './schema.js';

/** Stands where a value goes; replaced by the argument of the same name at each call. */
class Slot {
  constructor(readonly name: string) {}
}

type SlotFn<A> = <K extends keyof A & string>(name: K) => A[K];

export interface PreparedQuery<A, R> {
  /** All result rows (a write without RETURNING has none). */
  execute(executor: Executor, args: A): Promise<R[]>;
  takeFirst(executor: Executor, args: A): Promise<R | undefined>;
  /** Rows inserted, updated or deleted. */
  affected(executor: Executor, args: A): Promise<number>;
}

export function prepared<A extends object, R = unknown>(build: (db: Db, $: SlotFn<A>) => Compilable<R>): PreparedQuery<A, R> {
  // One compiled form per dialect (the adapter class): a process has one store, but the test suites run SQLite
  // and PostgreSQL side by side.
  const compiled = new Map<unknown, { sql: string; slots: (Slot | unknown)[]; query: CompiledQuery['query'] }>();

  const run = async (executor: Executor, args: A): Promise<QueryResult<R>> => {
    const adapter = executor.getExecutor().adapter.constructor;
    let form = compiled.get(adapter);
    if (!form) {
      const query = build(executor as Db, ((name: string) => new Slot(name)) as SlotFn<A>).compile();
      form = { sql: query.sql, slots: [...query.parameters], query: query.query };
      compiled.set(adapter, form);
    }
    const parameters = form.slots.map((p) => {
      if (!(p instanceof Slot)) return p;
      const value = (args as Record<string, unknown>)[p.name];
      if (value === undefined) throw new TypeError(`prepared query: no value for slot "${p.name}"`);
      return value;
    });
    const connection = openConnection(executor);
    if (connection) return runOn(connection, form.sql, parameters);
    return executor.executeQuery<R>({ ...CompiledQuery.raw(form.sql, parameters), query: form.query });
  };

  return {
    async execute(executor, args) {
      return (await run(executor, args)).rows;
    },
    async takeFirst(executor, args) {
      return (await run(executor, args)).rows[0];
    },
    async affected(executor, args) {
      return Number((await run(executor, args)).numAffectedRows ?? 0n);
    },
  };
}

/**
 * Runs a statement on a SQLite connection the caller's transaction holds, as Kysely's SQLite driver would, less
 * the executor's turn-taking and promise chain (a few microseconds a statement, on paths that run twenty).
 */
function runOn<R>(connection: SqliteDatabase, text: string, parameters: readonly unknown[]): QueryResult<R> {
  const statement = connection.prepare(text);
  if (statement.reader) return { rows: statement.all(parameters) as R[] };
  const { changes, lastInsertRowid } = statement.run(parameters);
  return { rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) };
}

/**
 * `INSERT INTO <table>` of a whole row, compiled once: the columns are those of the first row inserted (every
 * row of a table type has the same ones; a row missing one fails loudly rather than inserting a default).
 */
export function insertRow<T extends keyof Database & string>(table: T): (executor: Executor, row: Database[T]) => Promise<void> {
  let query: PreparedQuery<Database[T], unknown> | null = null;
  return async (executor, row) => {
    query ??= prepared<Database[T]>((db, $) => {
      const values = Object.fromEntries(Object.keys(row).map((column) => [column, $(column as keyof Database[T] & string)]));
      // The values object is built from the row's own keys, which TypeScript cannot follow.
      return db.insertInto(table).values(values as never);
    });
    await query.execute(executor, row);
  };
}

/**
 * `UPDATE <table> SET <columns> WHERE id = <id>`, compiled once: the columns are those of the first row given
 * besides `id` (callers keep one compiled update per set of columns).
 */
export function updateRow<T extends keyof Database & string>(
  table: T,
): (executor: Executor, row: Partial<Database[T]> & { id: string }) => Promise<void> {
  let query: PreparedQuery<Partial<Database[T]> & { id: string }, unknown> | null = null;
  return async (executor, row) => {
    query ??= prepared<Partial<Database[T]> & { id: string }>((db, $) => {
      const columns = Object.keys(row).filter((column) => column !== 'id');
      return updateById(db, table, Object.fromEntries(columns.map((column) => [column, $(column as keyof Database[T] & string)])), $('id'));
    });
    await query.execute(executor, row);
  };
}

/** `UPDATE <table> SET <values> WHERE id = <id>`, not yet run. */
export function updateById(executor: Executor, table: keyof Database & string, values: Record<string, unknown>, id: string) {
  // Seen as a table of ids only: the columns are the caller's and `id` is the key of every table that rows are
  // updated in, which TypeScript cannot follow through the union of tables.
  return (executor as unknown as Kysely<Record<string, { id: string }>>)
    .updateTable(table as string)
    .set(values as never)
    .where('id', '=', id);
}
