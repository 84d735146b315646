/**
 * Asking the carrier how a sent message is doing, for messages whose delivery report never came. Twilio does
 * not retry a status callback: one sent while the server was down or restarting is lost, and without this the
 * message would stay `sent` for good. So a message Twilio accepted gets a check time; if no final report has
 * arrived by then, the server fetches the message (FetchMessage) and applies its status exactly as a callback
 * would (same order rules, same de-duplication: the callback arriving later is a duplicate). A message still
 * `sent` is checked again after a time that doubles with its age, and left alone three days after it was sent
 * (some carriers never report delivery).
 *
 * Every server process runs the checks; a check is claimed for a few minutes first (`FOR UPDATE SKIP LOCKED`
 * on PostgreSQL), so one process asks about a message at a time and another takes over if it dies.
 */
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { InstanceService } from '../instance/service.js';
import type { Store } from '../store/database.js';
import { claimStatusChecks, rescheduleStatusCheck, setStatusChecks, type StatusCheckDue } from '../store/sms-outbox.js';
import type { CarrierCallbacks } from './callbacks.js';
import type { SmsMetrics } from './metrics.js';
import { createDriver, type DriverDeps } from './drivers/index.js';
import { CarrierError, type SmsDriver } from './drivers/driver.js';
import { mapTwilioStatus, twilioErrorMessage } from './drivers/twilio.js';

/** The first check, after the carrier accepted the message: receipts normally come within seconds. */
export const FIRST_CHECK_AFTER_MS = 10 * 60_000;
/** Longest wait between two checks of one message. */
const MAX_CHECK_INTERVAL_MS = 6 * 3_600_000;
/** A message still `sent` this long after it was sent is left so. */
const CHECK_FOR_MS = 72 * 3_600_000;
/** How long a claimed check belongs to the process that claimed it. */
const CLAIM_MS = 5 * 60_000;
/** Messages checked per round at most, and at once. */
const ROUND_SIZE = 100;
const PARALLEL = 8;

/** The check time of a message a carrier has just accepted: only carriers that can be asked get one. */
export function firstStatusCheck(checkable: boolean, now: number): number | null {
  return checkable ? now + FIRST_CHECK_AFTER_MS : null;
}

/** After a check that left a message `sent`: the next one, later the older it is; null once it is old enough. */
export function nextStatusCheck(sentAt: number, now: number): number | null {
  const age = now - sentAt;
  if (age >= CHECK_FOR_MS) return null;
  return now + Math.min(MAX_CHECK_INTERVAL_MS, Math.max(FIRST_CHECK_AFTER_MS, age));
}

export interface StatusCheckDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  instance: InstanceService;
  drivers: DriverDeps;
  callbacks: CarrierCallbacks;
  metrics: SmsMetrics;
}

export class StatusChecks {
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<number> | null = null;
  /** Aborted by `stop()`: a round in progress asks nothing more, and its carrier calls end at once. */
  private readonly stopping = new AbortController();
  private readonly log: Logger;

  constructor(private readonly deps: StatusCheckDeps) {
    this.log = deps.logger.child({ component: 'sms-status-checks' });
  }

  start(everyMs: number): void {
    this.timer = setInterval(() => void this.runOnce().catch((err: unknown) => this.log.error({ err }, 'checking message statuses failed')), everyMs);
    this.timer.unref();
  }

  /** Ends the checks; a message whose check was cut short is claimed again once its claim runs out. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.stopping.abort();
    await this.round?.catch(() => undefined);
  }

  /** One round: every message whose check is due (up to a round's size). Returns how many were asked about. */
  runOnce(): Promise<number> {
    this.round ??= this.checkDue().finally(() => {
      this.round = null;
    });
    return this.round;
  }

  private async checkDue(): Promise<number> {
    const due = await this.claim();
    if (due.length === 0) return 0;
    const driver = createDriver(await this.deps.instance.current(), this.deps.drivers);
    const fetchStatus = driver.fetchStatus?.bind(driver);
    const isAskable = (row: StatusCheckDue) => fetchStatus !== undefined && row.driver === driver.name && row.carrier_message_id !== null;
    const askable = due.filter(isAskable);
    // Sent through a carrier the instance no longer uses, or one that cannot be asked (or without its id): nobody to ask.
    await this.dropChecks(due.filter((row) => !isAskable(row)).map((row) => row.id));
    if (!fetchStatus || askable.length === 0) return 0;
    for (let i = 0; i < askable.length && !this.stopping.signal.aborted; i += PARALLEL) {
      await Promise.all(askable.slice(i, i + PARALLEL).map((row) => this.check(row, fetchStatus)));
    }
    return askable.length;
  }

  private async check(row: StatusCheckDue, fetchStatus: NonNullable<SmsDriver['fetchStatus']>): Promise<void> {
    const { clock, callbacks, metrics } = this.deps;
    const sid = row.carrier_message_id!;
    let next = nextStatusCheck(row.sent_at ?? row.created_at, clock.now());
    try {
      const carrier = await fetchStatus(sid, this.stopping.signal);
      if (carrier === null) {
        this.log.warn({ message_id: row.id }, 'the carrier does not know this message any more; its status stays as it is');
        metrics.statusChecks.inc({ carrier: 'twilio', result: 'not_found' });
        next = null;
      } else {
        const result = await callbacks.report({
          messageId: row.id,
          source: 'twilio',
          via: 'status_check',
          carrierStatus: carrier.status,
          carrierMessageId: sid,
          target: mapTwilioStatus(carrier.status),
          errorCode: carrier.errorCode,
          errorMessage: carrier.errorCode ? twilioErrorMessage(carrier.errorCode) : null,
          ...(carrier.price ? { price: carrier.price } : {}),
        });
        metrics.statusChecks.inc({ carrier: 'twilio', result });
      }
    } catch (error) {
      // A carrier or network failure: ask again at the next check time.
      if (!(error instanceof CarrierError)) throw error;
      // Shutting down: the claim runs out and the message is asked about again then.
      if (this.stopping.signal.aborted) return;
      metrics.statusChecks.inc({ carrier: 'twilio', result: 'error' });
      this.log.warn({ message_id: row.id, code: error.code, error: error.message }, 'asking the carrier for a message status failed');
    }
    // Only a message still `sent` waits for another check: a final report already cleared its check time.
    await rescheduleStatusCheck(this.deps.store.db, row.id, next);
  }

  private claim(): Promise<StatusCheckDue[]> {
    return claimStatusChecks(this.deps.store.db, { now: this.deps.clock.now(), limit: ROUND_SIZE, claimMs: CLAIM_MS });
  }

  /** Checks that will not happen: nobody can be asked about these messages. */
  private dropChecks(ids: readonly string[]): Promise<void> {
    return setStatusChecks(this.deps.store.db, ids, null);
  }
}
