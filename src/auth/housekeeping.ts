/**
 * Deletes what the auth flows leave behind: sign-ups and sign-ins abandoned (never completed) more than a week
 * before. Completed ones stay: they are the record of how a user and a session came to be.
 *
 * Every server process runs it (a delete is harmless to repeat); a partial index holds only the open flows, so a
 * run reads no completed one.
 */
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { Db } from '../store/database.js';
import { FLOW_LIFETIME_MS } from './flow.js';

/** How long an abandoned sign-up or sign-in is kept, so that a late step gets `flow_abandoned` rather than a 404. */
export const ABANDONED_KEPT_MS = 7 * 24 * 60 * 60 * 1000;
const SWEEP_EVERY_MS = 10 * 60 * 1000;

const FLOWS = ['sign_ups', 'sign_ins'] as const;

export class Housekeeping {
  private timer: NodeJS.Timeout | null = null;

  private readonly db: Db;
  private readonly clock: Clock;
  private readonly logger: Logger;

  constructor(deps: { db: Db; clock: Clock; logger: Logger }) {
    this.db = deps.db;
    this.clock = deps.clock;
    this.logger = deps.logger;
  }

  start(): void {
    this.timer ??= setInterval(() => {
      this.sweep().catch((error: unknown) => this.logger.error({ err: error }, 'housekeeping failed; it runs again later'));
    }, SWEEP_EVERY_MS).unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Deletes abandoned flows past their keeping time; returns how many of each. */
  async sweep(): Promise<Record<(typeof FLOWS)[number], number>> {
    const cutoff = this.clock.now() - FLOW_LIFETIME_MS - ABANDONED_KEPT_MS;
    const deleted = { sign_ups: 0, sign_ins: 0 };
    for (const table of FLOWS) {
      // The same condition as the partial index's, so the database can use it.
      const result = await this.db.deleteFrom(table).where('status', '!=', 'complete').where('created_at', '<=', cutoff).executeTakeFirst();
      deleted[table] = Number(result.numDeletedRows);
    }
    if (deleted.sign_ups + deleted.sign_ins > 0) this.logger.info(deleted, 'housekeeping: abandoned sign-ups and sign-ins deleted');
    return deleted;
  }
}
