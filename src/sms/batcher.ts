/**
 * Group commit for the send path: items (send outcomes, carrier reports) are handed to `write` in batches, one
 * transaction each. A batch starts one event-loop turn after its first item, so what else arrived in that turn
 * joins it; under load, whatever arrives while a batch is being written forms the next one.
 *
 * One batch at a time, on PostgreSQL too: batches written side by side split the same items into more,
 * smaller transactions, and each statement costs a round trip and the database's parse and plan (measured
 * with `npm run bench sms-dispatch`: four writers at once cost about a sixth more CPU per message, in the
 * server and in the database, for no more throughput).
 */
export class Batcher<T> {
  private readonly queue: T[] = [];
  private active = false;
  private readonly drainWaiters: (() => void)[] = [];

  /** `write` handles its own failures: it must not throw. */
  constructor(
    private readonly write: (batch: T[]) => Promise<void>,
    private readonly maxBatch: number,
  ) {}

  push(item: T): void {
    this.queue.push(item);
    if (!this.active) void this.run();
  }

  /** Resolves once everything pushed so far has been written. */
  drained(): Promise<void> {
    if (!this.active && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private async run(): Promise<void> {
    this.active = true;
    try {
      await new Promise((resolve) => setImmediate(resolve));
      while (this.queue.length > 0) await this.write(this.queue.splice(0, this.maxBatch));
    } finally {
      this.active = false;
      for (const resolve of this.drainWaiters.splice(0)) resolve();
    }
  }
}
