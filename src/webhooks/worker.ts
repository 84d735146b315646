/**
 * The delivery worker, one per server process. It claims due deliveries (a lease, see
 * `store/webhook-deliveries.ts`), and
 * runs each attempt on its own: the loop never waits for an HTTP call, so a slow or dead endpoint cannot hold
 * back another. Bounds: AUTHN_WEBHOOKS_CONCURRENCY attempts in flight per process, and at most
 * AUTHN_WEBHOOKS_ENDPOINT_CONCURRENCY of them to any one endpoint, so one endpoint's backlog cannot take every
 * slot. Each attempt is bounded by the timeout; the lease outlasts it, so a live worker never loses a lease.
 * Stopping stops claiming and waits for the attempts in flight (each ends within the timeout).
 */
import http from 'node:http';
import https from 'node:https';
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { WebhooksConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { fromJson, type Db } from '../store/database.js';
import { claimDue, claimedTarget, dropClaimed, type ClaimedDelivery } from '../store/webhook-deliveries.js';
import { completeAttempt } from './deliveries.js';
import { postJson, type Resolver } from './egress.js';
import type { WebhookEndpoints } from './endpoints.js';
import { signedHeaders } from './signing.js';

const USER_AGENT = 'authn.sh-webhooks/0.4';

export class WebhookWorker {
  private readonly inFlight = new Map<string, number>();
  private readonly running = new Set<Promise<void>>();
  private readonly agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  private timer: NodeJS.Timeout | null = null;
  private claiming: Promise<void> | null = null;
  private claimAgain = false;
  private stopped = true;

  private readonly db: Db;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly config: WebhooksConfig;
  private readonly endpoints: WebhookEndpoints;
  private readonly resolve: Resolver | undefined;

  constructor(deps: {
    db: Db;
    clock: Clock;
    logger: Logger;
    config: WebhooksConfig;
    endpoints: WebhookEndpoints;
    /** Injected in tests to play DNS answers; the system resolver otherwise. */
    resolve?: Resolver;
  }) {
    this.db = deps.db;
    this.clock = deps.clock;
    this.logger = deps.logger;
    this.config = deps.config;
    this.endpoints = deps.endpoints;
    this.resolve = deps.resolve;
  }

  /** An attempt's lease: its timeout, plus as much again and a second for recording the outcome. */
  get leaseMs(): number {
    return this.config.timeoutMs * 2 + 1_000;
  }

  start(): void {
    this.stopped = false;
    this.wake();
  }

  /** Stops claiming, then waits for the attempts in flight to finish and be recorded. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.claiming;
    await Promise.all([...this.running]);
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  /** Looks for due work now (also called after each attempt, so a backlog drains without waiting to poll). */
  wake(): void {
    if (this.stopped) return;
    if (this.claiming) {
      this.claimAgain = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.claiming = this.claimLoop()
      .catch((error: unknown) => this.logger.error({ err: error }, 'webhook delivery: claiming failed; will try again'))
      .finally(() => {
        this.claiming = null;
        if (this.stopped) return;
        if (this.claimAgain) {
          this.claimAgain = false;
          this.wake();
        } else {
          this.timer = setTimeout(() => this.wake(), this.config.pollIntervalMs);
          this.timer.unref();
        }
      });
  }

  private async claimLoop(): Promise<void> {
    for (;;) {
      const free = this.config.concurrency - this.running.size;
      if (free <= 0 || this.stopped) return;
      const now = this.clock.now();
      const saturated = [...this.inFlight].filter(([, count]) => count >= this.config.endpointConcurrency).map(([id]) => id);
      const { claimed, more } = await claimDue(this.db, {
        now,
        leaseUntil: now + this.leaseMs,
        token: randomUUID(),
        limit: free,
        roomFor: (endpointId) => this.config.endpointConcurrency - (this.inFlight.get(endpointId) ?? 0),
        saturated,
      });
      for (const claim of claimed) this.launch(claim);
      if (!more && claimed.length < free) return;
    }
  }

  private launch(claim: ClaimedDelivery): void {
    this.inFlight.set(claim.endpoint_id, (this.inFlight.get(claim.endpoint_id) ?? 0) + 1);
    const run: Promise<void> = this.attempt(claim)
      .catch((error: unknown) => {
        // The lease runs out and the delivery becomes due again: nothing is lost.
        this.logger.error(
          { err: error, delivery: claim.id },
          'webhook delivery: attempt could not be recorded; it will be retried when its lease ends',
        );
      })
      .finally(() => {
        const left = (this.inFlight.get(claim.endpoint_id) ?? 1) - 1;
        if (left > 0) this.inFlight.set(claim.endpoint_id, left);
        else this.inFlight.delete(claim.endpoint_id);
        this.running.delete(run);
        this.wake();
      });
    this.running.add(run);
  }

  private async attempt(claim: ClaimedDelivery): Promise<void> {
    const db = this.db;
    const target = await claimedTarget(db, claim);
    if (!target) {
      await dropClaimed(db, claim);
      return;
    }
    const { url, event } = target;
    const attemptedAt = this.clock.now();
    const secrets = await this.endpoints.signingSecrets(db, claim.endpoint_id, attemptedAt);
    const body = JSON.stringify({
      id: event.id,
      type: event.type,
      object: 'event',
      timestamp: event.created_at,
      data: fromJson<unknown>(event.data),
    });
    // webhook-id is the event id: the same on every retry (and to every endpoint), so receivers de-duplicate on it.
    const headers = { ...signedHeaders(secrets, event.id, attemptedAt, body), 'user-agent': USER_AGENT };
    const result = await postJson(new URL(url), body, headers, {
      allowPrivate: this.config.allowPrivate,
      timeoutMs: this.config.timeoutMs,
      bodyLimitBytes: this.config.responseBodyLimitBytes,
      agents: this.agents,
      resolve: this.resolve,
    });
    const { recorded, endpointDisabled } = await completeAttempt(
      db,
      this.clock,
      claim,
      { attemptedAt, url, result },
      {
        schedule: this.config.retrySchedule,
        disableFailingAfterMs: this.config.disableFailingAfterMs,
      },
    );
    const log = {
      delivery: claim.id,
      endpoint: claim.endpoint_id,
      event: event.id,
      type: event.type,
      status: result.statusCode,
      ms: result.latencyMs,
    };
    if (endpointDisabled)
      this.logger.warn(
        { endpoint: claim.endpoint_id },
        'webhook endpoint disabled: every attempt has failed for AUTHN_WEBHOOKS_DISABLE_FAILING_AFTER; enable it once it answers again',
      );
    if (!recorded) this.logger.warn(log, 'webhook delivery: lease lost before the outcome was recorded (retried or deleted meanwhile)');
    else if (result.error) this.logger.info({ ...log, error: result.error }, 'webhook delivery failed');
    else this.logger.debug(log, 'webhook delivered');
  }
}
