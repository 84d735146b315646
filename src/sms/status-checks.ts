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
 *
 * Simulated messages (drivers/simulated.ts) get their receipts this way too: the simulated driver asks for its first
 * check when the receipt is due (seconds, not minutes) and answers it. Rounds run every minute, and sooner when a
 * check falls due before the next one: the driver says when, and each round looks for the earliest check to come.
 */
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { InstanceService } from '../instance/service.js';
import type { Store } from '../store/database.js';
import {
  claimStatusChecks,
  earliestStatusCheck,
  rescheduleStatusCheck,
  setStatusChecks,
  type StatusCheckDue,
} from '../store/sms-outbox.js';
import type { CarrierCallbacks, CarrierReport } from './callbacks.js';
import type { SmsMetrics } from './metrics.js';
import { createDriver, type DriverDeps } from './drivers/index.js';
import { CarrierError, type SmsDriver } from './drivers/driver.js';
import { mapTwilioStatus, twilioErrorMessage } from './drivers/twilio.js';
import { mapVonageStatus, vonageDlrErrorMessage } from './drivers/vonage.js';
import { SimulatedDriver, isCarrier } from './drivers/simulated.js';
import { nextStatusCheck } from './status-check-times.js';

/** How long a claimed check belongs to the process that claimed it. */
const CLAIM_MS = 5 * 60_000;
/** Messages checked per round at most, and at once. */
const ROUND_SIZE = 100;
const PARALLEL = 8;
/**
 * Shortest wait before a round run out of turn: a due check that a round could not take (locked by a writer, or
 * past the round's size) is taken soon, without rounds back to back.
 */
const EARLY_ROUND_MIN_MS = 500;

export interface StatusCheckDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  instance: InstanceService;
  drivers: DriverDeps;
  callbacks: CarrierCallbacks;
  metrics: SmsMetrics;
}

type FetchStatus = NonNullable<SmsDriver['fetchStatus']>;
type Carrier = CarrierReport['source'];

/** How each carrier's answer reads, as its callbacks do. */
const READERS: Record<Carrier, { target: (status: string) => CarrierReport['target']; errorMessage: (code: string) => string }> = {
  twilio: { target: mapTwilioStatus, errorMessage: twilioErrorMessage },
  vonage: { target: mapVonageStatus, errorMessage: vonageDlrErrorMessage },
};

export class StatusChecks {
  private timer: NodeJS.Timeout | null = null;
  private roundEveryMs = 0;
  /** A round sooner than the next of `timer`, for a check that falls due before it. */
  private early: { at: number; timer: NodeJS.Timeout } | null = null;
  private round: Promise<number> | null = null;
  /** Aborted by `stop()`: a round in progress asks nothing more, and its carrier calls end at once. */
  private readonly stopping = new AbortController();
  private readonly log: Logger;

  constructor(private readonly deps: StatusCheckDeps) {
    this.log = deps.logger.child({ component: 'sms-status-checks' });
  }

  start(everyMs: number): void {
    this.roundEveryMs = everyMs;
    this.timer = setInterval(() => this.runScheduled(), everyMs);
    this.timer.unref();
  }

  /** A check falls due at `at` (a simulated receipt): a round runs then rather than at the next interval. */
  wakeAt(at: number): void {
    if (this.timer === null || this.stopping.signal.aborted) return;
    if (this.early && this.early.at <= at) return;
    const delay = at - this.deps.clock.now();
    if (delay >= this.roundEveryMs) return;
    if (this.early) clearTimeout(this.early.timer);
    const timer = setTimeout(
      () => {
        this.early = null;
        this.runScheduled();
      },
      Math.max(EARLY_ROUND_MIN_MS, delay),
    );
    timer.unref();
    this.early = { at, timer };
  }

  private runScheduled(): void {
    void this.runOnce()
      .then(() => this.wakeForEarliest())
      .catch((err: unknown) => this.log.error({ err }, 'checking message statuses failed'));
  }

  /** After a round: the earliest check still to come, when it is due before the next round. */
  private async wakeForEarliest(): Promise<void> {
    const at = await earliestStatusCheck(this.deps.store.db);
    if (at !== null) this.wakeAt(at);
  }

  /** Ends the checks; a message whose check was cut short is claimed again once its claim runs out. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.early) clearTimeout(this.early.timer);
    this.early = null;
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
    const asked = due.map((row) => ({ row, ask: row.carrier_message_id === null ? null : this.whoToAsk(row, driver) }));
    const askable = asked.filter((a): a is { row: StatusCheckDue; ask: { carrier: Carrier; fetchStatus: FetchStatus } } => a.ask !== null);
    // Sent through a carrier the instance no longer uses, or one that cannot be asked (or without its id): nobody to ask.
    await this.dropChecks(asked.filter((a) => a.ask === null).map((a) => a.row.id));
    for (let i = 0; i < askable.length && !this.stopping.signal.aborted; i += PARALLEL) {
      await Promise.all(askable.slice(i, i + PARALLEL).map(({ row, ask }) => this.check(row, ask.carrier, ask.fetchStatus)));
    }
    return askable.length;
  }

  /** The carrier that can say how a message is doing: the one that has it, if it can be asked; a simulated message's simulation. */
  private whoToAsk(row: StatusCheckDue, driver: SmsDriver): { carrier: Carrier; fetchStatus: FetchStatus } | null {
    if (row.test_number === 1 && isCarrier(row.driver)) {
      const simulated = new SimulatedDriver(row.driver, { clock: this.deps.clock });
      return { carrier: row.driver, fetchStatus: (id) => simulated.fetchStatus(id) };
    }
    if (row.driver !== driver.name || !driver.fetchStatus || driver.name === 'null') return null;
    return { carrier: driver.name, fetchStatus: driver.fetchStatus.bind(driver) };
  }

  private async check(row: StatusCheckDue, carrier: Carrier, fetchStatus: FetchStatus): Promise<void> {
    const { clock, callbacks, metrics } = this.deps;
    const sid = row.carrier_message_id!;
    let next = nextStatusCheck(row.sent_at ?? row.created_at, clock.now());
    try {
      const answer = await fetchStatus(sid, this.stopping.signal);
      if (answer === null) {
        this.log.warn({ message_id: row.id }, 'the carrier does not know this message any more; its status stays as it is');
        metrics.statusChecks.inc({ carrier, result: 'not_found' });
        next = null;
      } else {
        const read = READERS[carrier];
        const result = await callbacks.report({
          messageId: row.id,
          source: carrier,
          via: 'status_check',
          carrierStatus: answer.status,
          carrierMessageId: sid,
          target: read.target(answer.status),
          errorCode: answer.errorCode,
          errorMessage: answer.errorCode ? read.errorMessage(answer.errorCode) : null,
          ...(answer.price ? { price: answer.price } : {}),
        });
        metrics.statusChecks.inc({ carrier, result });
      }
    } catch (error) {
      // A carrier or network failure: ask again at the next check time.
      if (!(error instanceof CarrierError)) throw error;
      // Shutting down: the claim runs out and the message is asked about again then.
      if (this.stopping.signal.aborted) return;
      metrics.statusChecks.inc({ carrier, result: 'error' });
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
