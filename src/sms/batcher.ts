/**
 * Group commit for the send path: items (send outcomes, carrier reports) are handed to `write` in batches, one
 * transaction each. A batch starts one event-loop turn after its first item, so what else arrived in that turn
 * joins it; under load, whatever arrives while a batch is being written forms the next one. On PostgreSQL
 * several batches may be written at once (on separate connections); on SQLite writers take turns anyway.
 */
export class Batcher<T> {
  private readonly queue: T[] = [];
  private active = 0;
  private readonly drainWaiters: (() => void)[] = [];

  /** `write` handles its own failures: it must not throw. */
  constructor(
    private readonly write: (batch: T[]) => Promise<void>,
    private readonly maxBatch: number,
    private readonly parallel: number,
  ) {}

  push(item: T): void {
    this.queue.push(item);
    this.kick();
  }

  /** Resolves once everything pushed so far has been written. */
  drained(): Promise<void> {
    if (this.active === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private kick(): void {
    if (this.active >= this.parallel) return;
    this.active++;
    void this.run();
  }

  private async run(): Promise<void> {
    try {
      await new Promise((resolve) => setImmediate(resolve));
      while (this.queue.length > 0) await this.write(this.queue.splice(0, this.maxBatch));
    } finally {
      this.active--;
      if (this.queue.length > 0) this.kick();
      else if (this.active === 0) for (const resolve of this.drainWaiters.splice(0)) resolve();
    }
  }
}
