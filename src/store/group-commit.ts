/**
 * Transactions for request paths and the send path's batches (the dispatcher's claims and outcomes, carrier
 * reports), with group commit on SQLite: one writer, so everything written in a few turns of the event loop
 * shares one commit (measured with `npm run bench sms-dispatch`: 2,257 commits for 11,000 messages when the
 * dispatcher and the callbacks committed on their own, 1,271 together, and a quarter less time in commits).
 *
 * On SQLite a commit costs far more than the statements before it (every page the transaction touched is
 * appended to the WAL), and writers take turns anyway. So transactions that arrive while one is being written
 * wait for it and then run together, each in a savepoint of one shared transaction, and commit once: a
 * failed one rolls back to its savepoint alone, and nobody's promise settles before the commit. On
 * PostgreSQL, where writers do run side by side, each transaction is its own.
 *
 * A transaction run here must not start another one through `run`, nor query the store outside `tx`: it would
 * wait for the batch it is part of.
 *
 * While a job of a batch runs, its `tx` is known to own the SQLite connection, so statements compiled once
 * (`prepared.ts`) run on it directly instead of through Kysely's executor (see `openConnection`).
 */
import type { ControlledTransaction, SqliteDatabase } from 'kysely';
import { Refusal } from '../refusal.js';
import type { Executor, Store, Tx } from './database.js';
import type { Database } from './schema.js';

/** The SQLite connection of each job's transaction, for as long as the job runs. */
const jobConnections = new WeakMap<Executor, SqliteDatabase>();

/**
 * The SQLite connection `executor` holds, when it is the transaction of a running job here; null otherwise (a
 * statement then goes through Kysely, which hands the connection out in turn).
 */
export function openConnection(executor: Executor): SqliteDatabase | null {
  return jobConnections.get(executor) ?? null;
}

/** Transactions per shared commit, at most (bounds the latency the last one sees). */
const MAX_BATCH = 64;
/**
 * Event-loop turns a batch waits, at most, for transactions still arriving. A commit writes every page the
 * batch touched once, and the pages are mostly the same few per table whatever the batch's size: measured with
 * `npm run bench auth-flows`, code verifications came in batches of 12 and paid 105 µs of commit each; waiting
 * while more arrive made batches of 30 and cut that by 45 % (about 12 % of a verification's CPU).
 */
const GATHER_TURNS = 4;

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/**
 * No further argument when a transaction's result holds no `Error`; otherwise one of type `never`, which no call
 * can give: a refusal returned the old way, as an `AppError`, does not compile ("Expected 2 arguments").
 */
type NoErrorReturned<T> = [Extract<T, Error>] extends [never] ? [] : [returnARefusalNotAnError: never];

interface Job {
  fn: (tx: Tx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export class Transactions {
  private readonly queue: Job[] = [];
  private draining = false;

  constructor(private readonly store: Store) {}

  /**
   * Runs `fn` in a transaction. A `Refusal` that `fn` returns is thrown after the commit: that is how a refusal
   * keeps what it wrote to record itself (an attempt counted, the audit entry of a limit reached). A thrown error
   * rolls back. `fn` may not return an `Error` (`NoErrorReturned`): a refusal is a `Refusal`, which cannot be
   * thrown by mistake (see `src/refusal.ts`).
   */
  async run<T>(fn: (tx: Tx) => Promise<T | Refusal>, ..._: NoErrorReturned<T>): Promise<T> {
    const outcome = this.store.dialect === 'sqlite' ? await this.enqueue(fn) : await this.store.db.transaction().execute(fn);
    return Refusal.settle(outcome);
  }

  private enqueue<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      // One turn of the event loop before each batch, so that requests already read from their sockets join it
      // rather than each start a batch of one; then more turns while transactions keep arriving (GATHER_TURNS).
      // An idle server commits a lone transaction after two turns: no timer, no added wait.
      for (;;) {
        await nextTurn();
        if (this.queue.length === 0) break;
        for (let turn = 0, seen = -1; turn < GATHER_TURNS && this.queue.length > seen && this.queue.length < MAX_BATCH; turn++) {
          seen = this.queue.length;
          await nextTurn();
        }
        await this.commitBatch(this.queue.splice(0, MAX_BATCH));
      }
    } finally {
      this.draining = false;
    }
  }

  /** SQLite only (see `run`). Each job's savepoint is set on the connection itself: the batch's transaction holds it. */
  private async commitBatch(batch: Job[]): Promise<void> {
    const connection = this.store.sqlite!;
    const exec = (statement: string) => connection.prepare(statement).run([]);
    const outcomes: (() => void)[] = [];
    let trx: ControlledTransaction<Database> | undefined;
    try {
      trx = await this.store.db.startTransaction().execute();
      for (const job of batch) {
        exec('savepoint job');
        jobConnections.set(trx, connection);
        try {
          const value = await job.fn(trx);
          jobConnections.delete(trx);
          exec('release job');
          outcomes.push(() => job.resolve(value));
        } catch (error) {
          jobConnections.delete(trx);
          exec('rollback to job');
          exec('release job');
          outcomes.push(() => job.reject(error));
        }
      }
      await trx.commit().execute();
    } catch (error) {
      // The shared transaction itself failed (begin, a savepoint, the commit): nothing of the batch is kept.
      await trx
        ?.rollback()
        .execute()
        .catch(() => undefined);
      for (const job of batch) job.reject(error);
      return;
    }
    for (const settle of outcomes) settle();
  }
}
