/**
 * Row and key locks, the one place that knows how each database takes them. PostgreSQL locks rows
 * (`FOR UPDATE`, with `SKIP LOCKED` for claims, so several processes take different rows) and keys
 * (transaction-scoped advisory locks). SQLite has a single writer: a write transaction (`BEGIN IMMEDIATE`)
 * already holds everything these would lock, so on SQLite they add nothing.
 */
import { sql, type SelectQueryBuilder } from 'kysely';
import type { Executor, Tx } from './database.js';
import type { Database } from './schema.js';
import { onPostgres } from './batches.js';

/** Rows to claim: locked for this transaction, skipping rows another transaction holds. */
export function selectToClaim<DB extends Database, TB extends keyof DB, O>(
  executor: Executor,
  query: SelectQueryBuilder<DB, TB, O>,
): SelectQueryBuilder<DB, TB, O> {
  return onPostgres(executor) ? query.forUpdate().skipLocked() : query;
}

/** Rows to change: locked for this transaction, waiting for any other transaction that holds them. */
export function selectLocked<DB extends Database, TB extends keyof DB, O>(
  executor: Executor,
  query: SelectQueryBuilder<DB, TB, O>,
): SelectQueryBuilder<DB, TB, O> {
  return onPostgres(executor) ? query.forUpdate() : query;
}

/** Serialises transactions that work on the same `key` within `namespace`, until the transaction ends. */
export async function lockKey(tx: Tx, namespace: number, key: number): Promise<void> {
  if (onPostgres(tx)) await sql`select pg_advisory_xact_lock(${namespace}, ${key})`.execute(tx);
}
