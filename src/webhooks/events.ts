/**
 * The event log: every event that operators can learn about (`sms.queued`, `sms.delivered`, …) is persisted
 * here, in the transaction of the change it reports, before anything is delivered anywhere.
 *
 * Fan-out happens here too: in that same transaction, one delivery row is written for every enabled webhook
 * endpoint that subscribes to the event. So an event that commits has its deliveries committed with it, and
 * one that rolls back has none — no cursor over the log to keep, and nothing to miss when transactions on
 * several PostgreSQL processes commit out of id order (which a log-tailing cursor would have to guard
 * against). The cost is one small indexed read of the endpoints per batch of events.
 *
 * On PostgreSQL every statement is a network round trip, so `recordEvents` sends the events' insert, the
 * writes of the change they report and the read of the endpoints as one statement (the writes as
 * data-modifying CTEs: they touch different tables, so the order they run in does not matter).
 */
import { PostgresAdapter, sql, type OperationNodeSource } from 'kysely';
import type { Clock } from '../clock.js';
import { newId } from '../ids.js';
import { fromJson, inTransaction, toJson, type Executor, type Tx } from '../store/database.js';
import { insertRow, prepared, updateById, updateRow } from '../store/prepared.js';
import { insertRows } from '../store/batches.js';
import type { Database, WebhookEndpointsTable } from '../store/schema.js';
import { insertDeliveries } from './deliveries.js';
import { auditRow, eventAuditData, type Actor, type AuditInput } from '../audit/audit-log.js';

export interface EventInput {
  type: string;
  data: Record<string, unknown>;
}

export interface StoredEvent {
  id: string;
  object: 'event';
  type: string;
  timestamp: number;
  data: Record<string, unknown>;
}

/**
 * A row to insert, or the columns to set on the row of an id: on SQLite through a statement compiled once (per
 * table, and per set of columns for an update), where a query would be compiled on every call.
 */
export type RowWrite<T extends Table = Table> = { table: T; row: Database[T]; update?: false } | { table: T; row: Partial<Database[T]> & { id: string }; update: true };

type Table = keyof Database & string;

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
  if (rows.length === 0) return [];
  if (rows.length === 1 || !(executor.getExecutor().adapter instanceof PostgresAdapter)) return rows.map((row) => rowInsert(table, row));
  return [insertRows(executor, table, rows)];
}

/** A write of the change the events report: a row to write, or any Kysely query or `sql` statement (not yet run). */
export type ChangeWrite = RowWrite | OperationNodeSource;

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
  if (!run) rowWriters.set(key, (run = write.update ? updateRow(write.table) : insertRow(write.table)));
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

export async function recordEvent(executor: Executor, clock: Clock, input: EventInput): Promise<StoredEvent> {
  const [event] = await recordEvents(executor, clock, [input]);
  return event!;
}

/**
 * Records events and fans them out, together with `change` (the writes of what they report; with no events,
 * just those writes): one statement on PostgreSQL, plus one insert per event that an endpoint subscribes to.
 * On SQLite, where a statement costs microseconds rather than a round trip, they run one after the other.
 */
export async function recordEvents(executor: Executor, clock: Clock, inputs: readonly EventInput[], change: readonly ChangeWrite[] = []): Promise<StoredEvent[]> {
  if (inputs.length === 0 && change.length === 0) return [];
  return inTransaction(executor, async (tx) => {
    const now = clock.now();
    const events = inputs.map((input) => newEvent(now, input));
    let endpoints: Endpoint[] = [];
    if (tx.getExecutor().adapter instanceof PostgresAdapter) {
      const writes = change.map((write) => asQuery(tx, write));
      if (events.length) endpoints = (await together([...writes, insertRows(tx, 'events', events.map(eventRow))], endpointsQuery(tx)).execute(tx)).rows as Endpoint[];
      else await together(writes.slice(0, -1), writes[writes.length - 1]!).execute(tx);
    } else {
      for (const write of [...change, ...events.map((event) => rowInsert('events', eventRow(event)))]) await runWrite(tx, write);
      if (events.length) endpoints = await enabledEndpoints.execute(tx, {});
    }
    if (endpoints.length) {
      const subscriptions = endpoints.map((endpoint) => ({ id: endpoint.id, types: endpoint.event_types === null ? null : new Set(fromJson<string[]>(endpoint.event_types)) }));
      for (const event of events) {
        const matching = subscriptions.filter(({ types }) => types === null || types.has(event.type)).map(({ id }) => id);
        await insertDeliveries(tx, event, matching, now);
      }
    }
    return events;
  });
}

type Endpoint = Pick<WebhookEndpointsTable, 'id' | 'event_types'>;

/** Read with every batch of events: on SQLite on its own (compiled once), on PostgreSQL in the writes' statement. */
const endpointsQuery = (db: Executor) => db.selectFrom('webhook_endpoints').select(['id', 'event_types']).where('enabled', '=', 1);
const enabledEndpoints = prepared<object, Endpoint>(endpointsQuery);

/** PostgreSQL: `writes` as data-modifying CTEs of `last`, all in one statement. */
function together(writes: readonly ChangeWrite[], last: ChangeWrite) {
  if (writes.length === 0) return sql`${last}`;
  return sql`WITH ${sql.join(writes.map((write, i) => sql`${sql.id(`w${i}`)} AS (${write})`))} ${last}`;
}

/**
 * An action that webhooks and the audit log both report (`user.created`…): its event and its audit entry, made from
 * the same data, in the caller's transaction (one statement on PostgreSQL).
 */
export async function recordEventAndAudit(
  executor: Executor,
  clock: Clock,
  input: { type: string; actor: Actor; target: AuditInput['target']; data: Record<string, unknown>; details?: Record<string, unknown> },
): Promise<void> {
  const audit = auditRow(clock, { actor: input.actor, action: input.type, target: input.target, data: eventAuditData(input.type, input.data, input.details) });
  await recordEvents(executor, clock, [{ type: input.type, data: input.data }], [rowInsert('audit_logs', audit)]);
}

/** Writes the event itself, without fan-out (the test event goes to one endpoint only). */
export async function insertEvent(tx: Tx, now: number, input: EventInput): Promise<StoredEvent> {
  const event = newEvent(now, input);
  await tx.insertInto('events').values(eventRow(event)).execute();
  return event;
}

function newEvent(now: number, input: EventInput): StoredEvent {
  return { id: newId('evt', now), object: 'event', type: input.type, timestamp: now, data: input.data };
}

function eventRow(event: StoredEvent): Database['events'] {
  return { id: event.id, type: event.type, created_at: event.timestamp, data: toJson(event.data) };
}
