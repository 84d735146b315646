/**
 * Statements over a batch of ids or rows whose text is the same whatever the batch's size.
 *
 * An `IN ($1, …, $n)` or a `VALUES (…), (…)` is a new statement text for every batch size. PostgreSQL plans each
 * text anew, and node-postgres prepares every text once per connection and keeps it there (see `database.ts`):
 * over one `npm run bench sms-dispatch` on PostgreSQL, pg_stat_statements counted 804 texts and 2,721 plans —
 * 73 µs of the database's CPU a message in planning alone, and hundreds of prepared statements held by each
 * connection. Here an id list is one array parameter and a batch of rows one JSON parameter: one text per
 * statement, planned once per connection. SQLite reads the ids from a JSON array too (one prepared statement
 * instead of one per size); its multi-row inserts stay VALUES lists, which cost nothing to plan.
 *
 * A statement whose text never changes is planned once per connection and then, after a few runs, with a generic
 * plan made from the table's size *at that moment*: on a table that grows fast from empty (a new instance, the
 * benchmark) that plan is a sequential scan, kept while the table grows to thousands of rows (measured: a
 * database CPU per message of 1.0 ms instead of 0.56). A transaction that reads or writes a batch by ids therefore
 * starts with `customPlans`, and its statements are planned for the batch at hand, against the table as it is.
 */
import { PostgresAdapter, sql, type RawBuilder, type SqlBool } from 'kysely';
import type { Executor, Tx } from './database.js';
import type { Database } from './schema.js';

type Table = keyof Database & string;

/** Whether `executor` speaks to PostgreSQL: the one question of dialect, asked inside `src/store` only. */
export const onPostgres = (executor: Executor) => executor.getExecutor().adapter instanceof PostgresAdapter;

/** PostgreSQL: plans this transaction's statements for their parameters and the tables as they are now (see above). */
export async function customPlans(tx: Tx): Promise<void> {
  if (onPostgres(tx)) await sql`set local plan_cache_mode = force_custom_plan`.execute(tx);
}

/** `column IN ids`, for `.where(…)`. */
export function inIds(executor: Executor, column: string, ids: readonly string[]): RawBuilder<SqlBool> {
  return onPostgres(executor)
    ? sql<SqlBool>`${sql.ref(column)} = any(${[...ids]}::text[])`
    : sql<SqlBool>`${sql.ref(column)} in (select value from json_each(${JSON.stringify(ids)}))`;
}

/** An INSERT of `rows` (at least one, all with the same columns) into `table`, not yet run. */
export function insertRows<T extends Table>(executor: Executor, table: T, rows: readonly Database[T][]): RawBuilder<unknown> {
  // The rows are of the table named, which the union of tables hides from Kysely's types.
  if (!onPostgres(executor)) return sql`${executor.insertInto(table).values(rows as never)}`;
  const columns = Object.keys(rows[0]!);
  const list = sql.join(columns.map((column) => sql.ref(column)));
  // The JSON's fields take the types of the table's columns.
  return sql`insert into ${sql.table(table)} (${list}) select ${list} from json_populate_recordset(null::${sql.table(table)}, ${JSON.stringify(rows)})`;
}

/**
 * `UPDATE table SET <columns> = the row's` for several rows, matched by id. PostgreSQL only (SQLite updates a row
 * per statement, see `rowsUpdate` in `writes.ts`).
 */
export function updateRowsById<T extends Table>(
  table: T,
  columns: readonly string[],
  rows: readonly Partial<Database[T]>[],
): RawBuilder<unknown> {
  const assignments = sql.join(columns.map((column) => sql`${sql.ref(column)} = ${sql.ref(`v.${column}`)}`));
  return sql`update ${sql.table(table)} set ${assignments} from json_populate_recordset(null::${sql.table(table)}, ${JSON.stringify(rows)}) as v where ${sql.ref(`${table}.id`)} = ${sql.ref('v.id')}`;
}
