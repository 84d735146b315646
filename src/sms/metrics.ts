/**
 * Prometheus metrics of the send path (prom-client), one registry per server so several servers in one
 * process (tests) do not share counters. Counters are per process: Prometheus sums them across processes.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CarrierPrice } from './drivers/driver.js';

/** A message's country as a label: an ISO 3166 alpha-2 code or `unknown`, so the label has at most a few hundred values. */
export function countryLabel(country: string | null): string {
  return country !== null && /^[A-Z]{2}$/.test(country) ? country : 'unknown';
}

export class SmsMetrics {
  readonly registry = new Registry();
  /** Messages entering each status, by the driver that handled them. */
  readonly messages: Counter<'driver' | 'status'>;
  readonly carrierLatency: Histogram<'driver' | 'outcome'>;
  readonly retries: Counter<'driver'>;
  readonly callbacks: Counter<'carrier' | 'result'>;
  readonly statusChecks: Counter<'carrier' | 'result'>;
  readonly failovers: Counter<'from' | 'to' | 'reason'>;
  /** Final delivery outcomes by driver and destination country. */
  readonly delivered: Counter<'driver' | 'country'>;
  readonly undelivered: Counter<'driver' | 'country'>;
  readonly failed: Counter<'driver' | 'country'>;
  readonly timeToDelivery: Histogram<'driver'>;
  /** In currency units (a float: fine for a rate, not for accounting, which the store keeps exactly). */
  readonly cost: Counter<'driver' | 'currency'>;

  /** `queueDepth` is read from the store at scrape time. */
  constructor(queueDepth: () => Promise<{ queued: number; sending: number }>) {
    collectDefaultMetrics({ register: this.registry, prefix: 'authn_' });
    this.messages = new Counter({
      name: 'authn_sms_messages_total',
      help: 'SMS messages that entered a status, by driver and status',
      labelNames: ['driver', 'status'],
      registers: [this.registry],
    });
    this.carrierLatency = new Histogram({
      name: 'authn_sms_carrier_request_duration_seconds',
      help: 'Carrier API send requests, by driver and outcome (accepted, transient_error, permanent_error)',
      labelNames: ['driver', 'outcome'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [this.registry],
    });
    this.retries = new Counter({
      name: 'authn_sms_retries_total',
      help: 'Transient carrier failures scheduled for another attempt',
      labelNames: ['driver'],
      registers: [this.registry],
    });
    this.callbacks = new Counter({
      name: 'authn_sms_carrier_callbacks_total',
      help: 'Carrier status callbacks, by carrier and result (applied, ignored, duplicate, rejected, unknown_message)',
      labelNames: ['carrier', 'result'],
      registers: [this.registry],
    });
    this.statusChecks = new Counter({
      name: 'authn_sms_status_checks_total',
      help: 'Carrier status lookups for overdue delivery reports, by carrier and result (applied, ignored, duplicate, unknown_message, not_found, error)',
      labelNames: ['carrier', 'result'],
      registers: [this.registry],
    });
    this.failovers = new Counter({
      name: 'authn_sms_failovers_total',
      help: 'Messages moved to their failover driver, by the driver they left, the one they moved to, and why (carrier_refused, transient_failures, no_receipt)',
      labelNames: ['from', 'to', 'reason'],
      registers: [this.registry],
    });
    const outcome = (name: string, help: string) =>
      new Counter({ name, help, labelNames: ['driver', 'country'], registers: [this.registry] });
    this.delivered = outcome(
      'authn_sms_delivered_total',
      'SMS messages the carrier reported delivered, by driver and destination country (ISO 3166 alpha-2, or unknown)',
    );
    this.undelivered = outcome(
      'authn_sms_undelivered_total',
      'SMS messages the carrier could not deliver (undelivered), by driver and destination country',
    );
    this.failed = outcome(
      'authn_sms_failed_total',
      'SMS messages that failed (refused by the carrier, or reported failed), by driver and destination country',
    );
    this.timeToDelivery = new Histogram({
      name: 'authn_sms_time_to_delivery_seconds',
      help: "Time from the carrier's acceptance of a message to its delivery report, by driver",
      labelNames: ['driver'],
      buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600],
      registers: [this.registry],
    });
    this.cost = new Counter({
      name: 'authn_sms_cost_total',
      help: 'What the carriers reported charging, by driver and currency (currency units)',
      labelNames: ['driver', 'currency'],
      registers: [this.registry],
    });
    new Gauge({
      name: 'authn_sms_queue_depth',
      help: 'Messages waiting in the outbox (queued: due or waiting for a retry; sending: claimed by a dispatcher)',
      labelNames: ['status'],
      registers: [this.registry],
      async collect() {
        const depth = await queueDepth();
        this.set({ status: 'queued' }, depth.queued);
        this.set({ status: 'sending' }, depth.sending);
      },
    });
  }
}

/** Counts the price of attempts (after their transaction committed). */
export function countCosts(metrics: SmsMetrics, priced: readonly { driver: string; price: CarrierPrice | null }[]): void {
  for (const { driver, price } of priced) if (price) metrics.cost.inc({ driver, currency: price.currency }, price.nanos / 1e9);
}
