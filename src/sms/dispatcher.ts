/**
 * The outbox dispatcher: claims due messages, hands each to the configured driver, and records what
 * happened. Built for throughput and for crashes:
 * - Claims are batches taken in one transaction with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so
 *   several processes never take the same row; SQLite's `BEGIN IMMEDIATE` serialises claimers). A claimed row
 *   is `sending` with `next_attempt_at` = the lease's end, so a crashed worker's rows simply fall due again.
 * - At most `concurrency` messages are in flight per process, counting from the claim until the outcome is
 *   committed: so a crash can leave at most that many messages sent but not recorded (sent again later).
 * - Outcomes are written in batches (group commit, see batcher.ts).
 * - What an outcome does to its message (retry, fail, expire…) is decided by `decide()` in outcomes.ts.
 * - `stop()` (SIGTERM): stop claiming, let in-flight calls finish for a grace period, release the rest.
 * The SQL lives in src/store/sms-outbox.ts: this file reads as claim → send → decide → record.
 */
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { SmsDispatchConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { SecretBox } from '../secret-box.js';
import type { InstanceService } from '../instance/service.js';
import type { InstanceSettings, SmsDriverName } from '../instance/settings.js';
import type { Transactions } from '../store/group-commit.js';
import type { SmsMessageAttemptsTable, SmsMessagesTable } from '../store/schema.js';
import { claimDueMessages, claimReceiptWaits, lockMessages, payloadAd } from '../store/sms-outbox.js';
import { rowsInsert } from '../store/writes.js';
import type { CallbackUrls } from './callback-urls.js';
import { countCosts, type SmsMetrics } from './metrics.js';
import {
  NO_FAILOVER,
  afterReceiptWait,
  decide,
  outcomeAttemptRow,
  type AttemptOutcome,
  type Decision,
  type FailoverPlan,
  type SendResult,
} from './outcomes.js';
import { messageRoute } from './routing.js';
import { Trail, attemptRow, messageUpdates } from './transitions.js';
import { Batcher } from './batcher.js';
import { CarrierError, permanent, type OutboundSms, type SmsDriver } from './drivers/driver.js';
import { createDriver, type DriverDeps } from './drivers/index.js';
import { SimulatedDriver } from './drivers/simulated.js';

export interface DispatcherDeps {
  /** Claims and outcomes join the shared commit of request paths on SQLite (group-commit.ts). */
  transactions: Transactions;
  clock: Clock;
  logger: Logger;
  box: SecretBox;
  instance: InstanceService;
  metrics: SmsMetrics;
  urls: CallbackUrls;
  drivers: DriverDeps;
  options: SmsDispatchConfig;
  /** This process's name in leases and attempt records (`workerName()`). */
  worker: string;
  /** [0, 1): the backoff's jitter (tests pass a fixed one). */
  random?: () => number;
  /** A simulated message's receipt falls due then (the status checks look at that time). */
  onReceiptDue?: (at: number) => void;
}

interface Outcome extends AttemptOutcome {
  /** Called once the outcome is committed (or given up on): only then is the slot free again. */
  recorded: () => void;
}

/** A name for this process in leases and attempt records, unique across hosts and restarts. */
export const workerName = () => `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

/** Outcomes written per transaction at most. */
const OUTCOME_BATCH = 500;
const FLUSH_TRIES = 5;
/** How often a dispatcher looks for messages whose receipt wait is over. */
const RECEIPT_SWEEP_MS = 1_000;

export class Dispatcher {
  /** Names this process in leases and attempt records. */
  readonly worker: string;
  private readonly log: Logger;
  private readonly random: () => number;
  private running = false;
  private loop: Promise<void> | null = null;
  /** Messages claimed by this process whose outcome is not yet committed. */
  private readonly inflight = new Set<string>();
  /** Aborts every call still in flight when the shutdown grace period is over (one signal for all of them). */
  private shutdown = new AbortController();
  private readonly outcomes: Batcher<Outcome>;
  private woken = false;
  private waiter: { wake: () => void; slots: number | null } | null = null;
  private drainWaiters: (() => void)[] = [];
  private drivers: { settings: InstanceSettings; byName: Map<string, SmsDriver> } | null = null;
  /** When the next look for messages whose receipt wait is over is due (clock time). */
  private nextReceiptSweep = 0;

  constructor(private readonly deps: DispatcherDeps) {
    this.worker = deps.worker;
    this.log = deps.logger.child({ component: 'sms-dispatcher', worker: this.worker });
    this.random = deps.random ?? Math.random;
    this.outcomes = new Batcher((batch) => this.recordWithRetry(batch), OUTCOME_BATCH);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.shutdown.signal.aborted) this.shutdown = new AbortController();
    this.loop = this.run();
  }

  /** A message was queued in this process: look now rather than at the next poll. */
  wake(): void {
    this.woken = true;
    if (this.waiter?.slots === null) this.waiter.wake();
  }

  /** Stop claiming; give in-flight sends the grace period; release what is left; write every outcome. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.waiter?.wake();
    await this.loop;
    if (this.inflight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.drained(),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, this.deps.options.shutdownGraceMs))),
      ]);
      clearTimeout(timer);
      if (this.inflight.size > 0)
        this.log.warn({ in_flight: this.inflight.size }, 'shutdown grace period over: releasing in-flight messages');
      this.shutdown.abort();
      await this.drained();
    }
    await this.outcomes.drained();
  }

  private async run(): Promise<void> {
    const { concurrency, batchSize } = this.deps.options;
    // Claim in chunks, not a row at a time: wait until half a batch of slots is free.
    const slotsWanted = Math.max(1, Math.floor(Math.min(concurrency, batchSize) / 2));
    while (this.running) {
      const free = concurrency - this.inflight.size;
      let busy = free <= 0;
      try {
        await this.sweepReceiptWaits();
      } catch (error) {
        this.log.error({ err: error }, 'moving messages whose receipt wait is over failed');
      }
      if (free > 0) {
        const want = Math.min(free, batchSize);
        try {
          busy = (await this.claimAndStart(want)) === want;
        } catch (error) {
          this.log.error({ err: error }, 'claiming due messages failed');
        }
      }
      if (!this.running) break;
      // A full claim means more is probably due: go again once slots free up. Otherwise wait for a poll or a wake.
      await this.pause(busy ? slotsWanted : null);
    }
  }

  private pause(slots: number | null): Promise<void> {
    const ready = slots === null ? this.woken : this.deps.options.concurrency - this.inflight.size >= slots;
    if (ready) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => wake(), this.deps.options.pollMs);
      const wake = () => {
        clearTimeout(timer);
        this.waiter = null;
        this.woken = false;
        resolve();
      };
      this.waiter = { wake, slots };
    });
  }

  private async claimAndStart(want: number): Promise<number> {
    const rows = await this.claim(want);
    if (rows.length === 0) return 0;
    // The settings as they are now, not as they were before the claim: a message queued after a settings
    // change must not go out through the driver that was configured before it.
    const settings = await this.deps.instance.current();
    for (const row of rows) this.startAttempt(row, settings);
    return rows.length;
  }

  /** The driver a message goes out through now (its route's first, or the one it moved to), and where it may move. */
  private route(row: SmsMessagesTable, settings: InstanceSettings): { driver: SmsDriver; failover: FailoverPlan } {
    if (row.failover_from !== null) {
      const name = row.driver === 'twilio' || row.driver === 'vonage' ? row.driver : null;
      return { driver: this.carrier(row, settings, name, 'failover'), failover: NO_FAILOVER };
    }
    const { first, failover: to } = messageRoute(settings.sms, row);
    const { failover } = settings.sms;
    const waits = failover.receipt_wait_seconds !== null && (failover.receipt_wait_templates as readonly string[]).includes(row.template);
    return {
      driver: this.carrier(row, settings, first, 'first'),
      failover: {
        to,
        afterTransientFailures: failover.after_transient_failures,
        receiptWaitMs: waits ? failover.receipt_wait_seconds! * 1000 : null,
      },
    };
  }

  /** The driver named for this message; for a simulated message, the simulated driver playing it (no carrier is called). */
  private carrier(row: SmsMessagesTable, settings: InstanceSettings, name: SmsDriverName | null, role: 'first' | 'failover'): SmsDriver {
    if (row.test_number !== 1 || name === null) return this.driver(settings, name);
    const attempt = role === 'first' ? row.attempts : row.attempts - (row.failover_attempt ?? 0);
    return new SimulatedDriver(name, { clock: this.deps.clock, role, attempt, onReceiptDue: this.deps.onReceiptDue });
  }

  private driver(settings: InstanceSettings, name: SmsDriverName | null): SmsDriver {
    // Settings are cached objects: the same object means the same drivers.
    if (this.drivers?.settings !== settings) this.drivers = { settings, byName: new Map() };
    const key = name ?? 'null';
    const cached = this.drivers.byName.get(key);
    if (cached) return cached;
    const driver = createDriver(settings, this.deps.drivers, name);
    this.drivers.byName.set(key, driver);
    return driver;
  }

  private claim(want: number): Promise<SmsMessagesTable[]> {
    const { transactions, clock, options } = this.deps;
    return transactions.run((tx) => {
      const now = clock.now();
      return claimDueMessages(tx, { now, limit: want, worker: this.worker, leaseMs: options.leaseMs }, (rows) =>
        this.abandonedAttempts(rows, now),
      );
    });
  }

  /** The attempts of rows found still `sending`: their worker died (or hung) before recording an outcome. */
  private abandonedAttempts(rows: readonly SmsMessagesTable[], now: number): SmsMessageAttemptsTable[] {
    this.log.warn({ count: rows.length }, 'reclaiming messages whose lease expired (the carrier may already have them)');
    return rows.map((r) => attemptRow(r, r.driver ?? 'null', r.lease_owner ?? 'unknown', r.updated_at, now, 'lease_expired', null, null));
  }

  private startAttempt(row: SmsMessagesTable, settings: InstanceSettings): void {
    this.inflight.add(row.id);
    void this.attempt(row, settings, this.shutdown.signal).finally(() => {
      this.inflight.delete(row.id);
      const free = this.deps.options.concurrency - this.inflight.size;
      if (this.waiter?.slots !== null && this.waiter !== null && free >= this.waiter.slots) this.waiter.wake();
      if (this.inflight.size === 0) for (const resolve of this.drainWaiters.splice(0)) resolve();
    });
  }

  private async attempt(row: SmsMessagesTable, settings: InstanceSettings, signal: AbortSignal): Promise<void> {
    const { clock, metrics, box } = this.deps;
    const { driver, failover } = this.route(row, settings);
    const startedAt = clock.now();
    let result: SendResult;
    let echoedBody: string | null = null;
    const validitySeconds = row.expires_at === null ? null : Math.floor((row.expires_at - startedAt) / 1000);
    if (validitySeconds !== null && validitySeconds < 1) {
      result = { kind: 'expired' };
    } else {
      try {
        const body = row.payload ? box.open(row.payload, payloadAd(row.id)) : row.body;
        result = await driver.send(this.outbound(row, driver, settings, body, validitySeconds), signal);
        if (result.kind === 'dropped' && row.template === 'verification_code') {
          // Development only (the null driver): the code is shown so sign-in can be tried without a phone.
          echoedBody = body;
          this.log.info({ message_id: row.id, to: row.to_number, body }, 'null driver: verification code SMS dropped');
        }
      } catch (error) {
        // Anything but a CarrierError is a bug or a body that cannot be opened: trying again would only repeat it.
        const carrierError =
          error instanceof CarrierError ? error : permanent('internal_error', `unexpected error: ${(error as Error).message}`);
        if (!(error instanceof CarrierError)) this.log.error({ err: error, message_id: row.id }, 'driver failed unexpectedly');
        result = { kind: 'error', error: carrierError };
      }
      const outcome = result.kind === 'error' ? `${result.error.kind}_error` : result.kind;
      metrics.carrierLatency.observe({ driver: driver.name, outcome }, (clock.now() - startedAt) / 1000);
    }
    await new Promise<void>((recorded) =>
      this.outcomes.push({
        claimed: row,
        driver: driver.name,
        checkable: driver.fetchStatus !== undefined,
        startedAt,
        finishedAt: clock.now(),
        result,
        echoedBody,
        failover,
        recorded,
      }),
    );
  }

  private outbound(
    row: SmsMessagesTable,
    driver: SmsDriver,
    settings: InstanceSettings,
    body: string,
    validitySeconds: number | null,
  ): OutboundSms {
    const { urls } = this.deps;
    // The sender was chosen at queue time; a messaging service only means something to Twilio.
    const messagingServiceSid = driver.name === 'twilio' ? row.messaging_service_sid : null;
    return {
      id: row.id,
      to: row.to_number,
      from: row.from_number ?? (messagingServiceSid ? null : settings.sms.from_number),
      messagingServiceSid,
      body,
      validitySeconds,
      statusCallbackUrl: driver.name === 'vonage' ? urls.vonageDlr(row.id) : urls.twilioStatus(row.id),
    };
  }

  private drained(): Promise<void> {
    if (this.inflight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private async recordWithRetry(batch: Outcome[]): Promise<void> {
    for (let tries = 1; ; tries++) {
      try {
        await this.record(batch);
        for (const outcome of batch) outcome.recorded();
        return;
      } catch (error) {
        if (tries >= FLUSH_TRIES) {
          // The rows stay leased: when the lease ends they are claimed and sent again.
          this.log.error(
            { err: error, messages: batch.length },
            'could not record send outcomes; the messages will be retried after their lease',
          );
          for (const outcome of batch) outcome.recorded();
          return;
        }
        this.log.warn({ err: error, tries }, 'recording send outcomes failed; trying again');
        await new Promise((resolve) => setTimeout(resolve, 200 * tries));
      }
    }
  }

  /**
   * At most once per `RECEIPT_SWEEP_MS`: messages whose first driver accepted them but sent no final receipt within
   * the wait move to the failover driver (or, when they no longer can, stop waiting and drop their sealed body).
   * Claimed and changed in one transaction, so two processes never move the same message.
   */
  private async sweepReceiptWaits(): Promise<void> {
    const { transactions, clock, instance } = this.deps;
    if (clock.now() < this.nextReceiptSweep) return;
    this.nextReceiptSweep = clock.now() + RECEIPT_SWEEP_MS;
    const decisions: Decision[] = [];
    const trail = new Trail(clock);
    await transactions.run(async (tx) => {
      const now = clock.now();
      const rows = await claimReceiptWaits(tx, { now, limit: this.deps.options.batchSize });
      if (rows.length === 0) return;
      // Only when there is something to move: an idle server does not read the settings every sweep.
      const settings = await instance.current(tx);
      const changed = rows.map((row) => {
        const decision = afterReceiptWait(row, messageRoute(settings.sms, row).failover, now);
        decisions.push(decision);
        const next = { ...row, ...decision.patch };
        if (decision.trail) trail.add({ ...decision.trail, message: next });
        return next;
      });
      await trail.write(tx, messageUpdates(tx, changed));
    });
    this.recorded(trail, decisions);
  }

  /** After commit: the metrics of what was recorded; messages that moved are due at once. */
  private recorded(trail: Trail, decisions: readonly Decision[]): void {
    const { metrics } = this.deps;
    trail.count(metrics);
    let moved = false;
    for (const { failover } of decisions) {
      if (!failover) continue;
      metrics.failovers.inc(failover);
      moved = true;
    }
    if (moved) this.wake();
  }

  private async record(batch: Outcome[]): Promise<void> {
    const { transactions, clock, metrics, options } = this.deps;
    const trail = new Trail(clock);
    const retries = new Map<string, number>();
    const decisions: Decision[] = [];
    await transactions.run(async (tx) => {
      const current = await lockMessages(
        tx,
        batch.map((o) => o.claimed.id),
      );
      const now = clock.now();
      const attempts: SmsMessageAttemptsTable[] = [];
      const changed: SmsMessagesTable[] = [];
      for (const outcome of batch) {
        const row = current.get(outcome.claimed.id);
        if (!row) continue;
        attempts.push(outcomeAttemptRow(outcome, this.worker));
        const change = decide(outcome, row, now, this.worker, options, this.random);
        if (!change) continue;
        decisions.push(change);
        const next = { ...row, ...change.patch };
        changed.push(next);
        if (change.trail) trail.add({ ...change.trail, message: next });
        if (change.retry) retries.set(outcome.driver, (retries.get(outcome.driver) ?? 0) + 1);
      }
      await trail.write(tx, [...messageUpdates(tx, changed), ...rowsInsert(tx, 'sms_message_attempts', attempts)]);
    });
    this.recorded(trail, decisions);
    countCosts(
      metrics,
      batch.map((o) => ({ driver: o.driver, price: o.result.kind === 'accepted' ? (o.result.price ?? null) : null })),
    );
    for (const [driver, count] of retries) metrics.retries.inc({ driver }, count);
  }
}
