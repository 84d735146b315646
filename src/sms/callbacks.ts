/**
 * Carrier delivery reports: authenticate first (nothing is read or written for a request that fails), then
 * apply the report to its message under the order-safe rules of transitions.ts. A report seen before (same
 * carrier message, same status) changes nothing; one that arrives after a later status is kept in the history
 * as not applied.
 */
import type { Clock } from '../clock.js';
import { appError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Actor } from '../audit/audit-log.js';
import type { InstanceService } from '../instance/service.js';
import type { Transactions } from '../store/group-commit.js';
import type { SmsMessagesTable } from '../store/schema.js';
import { lockMessages, reportsSeen, type ReportSeen } from '../store/sms-outbox.js';
import { priceAttempts, type ReportedPrice } from '../store/sms-prices.js';
import type { CallbackUrls } from './callback-urls.js';
import { countCosts, type SmsMetrics } from './metrics.js';
import { Trail, canAdvance, isTerminal, messageUpdates, type SmsStatus } from './transitions.js';
import { Batcher } from './batcher.js';
import { afterFailureReport, type Decision, type FailureReport } from './outcomes.js';
import { messageRoute } from './routing.js';
import { mapTwilioStatus, twilioErrorMessage, verifyTwilioSignature, type FormParams } from './drivers/twilio.js';
import { mapVonageStatus, verifyVonageSignature, vonageDlrErrorMessage, vonagePrice } from './drivers/vonage.js';
import type { CarrierPrice } from './drivers/driver.js';

export type CallbackResult = 'applied' | 'ignored' | 'duplicate' | 'unknown_message';

export interface CarrierReport {
  messageId: string;
  source: 'twilio' | 'vonage';
  /** How it reached us: the carrier's callback (the default), or our asking it (see status-checks.ts). */
  via?: 'callback' | 'status_check';
  carrierStatus: string;
  carrierMessageId: string;
  /** Our status the report asks for; null: informational only. */
  target: Extract<SmsStatus, 'sent' | 'delivered' | 'undelivered' | 'failed'> | null;
  errorCode: string | null;
  errorMessage: string | null;
  /** What the carrier says it charged (a Vonage receipt's `price`, Twilio's fetched `price`). */
  price?: CarrierPrice;
}

export interface CallbackDeps {
  /** Reports join the shared commit of request paths on SQLite (group-commit.ts). */
  transactions: Transactions;
  clock: Clock;
  logger: Logger;
  instance: InstanceService;
  urls: CallbackUrls;
  metrics: SmsMetrics;
  vonageDlrMaxAgeSeconds: number;
}

const first = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

/** A Twilio status callback as it arrived; `query` is the request's query string (with its `?`), usually empty. */
export interface TwilioRequest {
  messageId: string;
  signature: string | undefined;
  query: string;
  /** The parsed body, not yet checked: only form fields (text, or lists of text) can carry a valid signature. */
  body: unknown;
}

/** A Vonage delivery receipt as it arrived: the token of its callback URL, and its fields (query string or body), not yet checked. */
export interface VonageRequest {
  messageId: string;
  token: string;
  fields: unknown;
}

declare const authenticated: unique symbol;
/** A callback's fields once it authenticated: only `authenticateTwilio` and `authenticateVonage` make one. */
export type Authenticated<P> = { readonly messageId: string; readonly params: P; readonly [authenticated]: true };

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The body as Twilio's form fields, or null when it is not made of them. */
function formParams(body: unknown): FormParams | null {
  if (!isRecord(body)) return null;
  const fields = Object.values(body);
  return fields.every((v) => typeof v === 'string' || (Array.isArray(v) && v.every((item) => typeof item === 'string')))
    ? (body as FormParams)
    : null;
}

/** A receipt's fields as text (JSON receipts have numbers and booleans), or null when one is not a scalar. */
function receiptFields(fields: unknown): Record<string, string> | null {
  if (!isRecord(fields)) return null;
  const entries = Object.entries(fields);
  if (!entries.every(([, v]) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')) return null;
  return Object.fromEntries(entries.map(([name, value]) => [name, String(value)]));
}

interface Pending {
  report: CarrierReport;
  resolve: (result: CallbackResult) => void;
  reject: (error: unknown) => void;
}

/** Most reports applied in one transaction. */
const MAX_BATCH = 200;

export class CarrierCallbacks {
  private readonly reports: Batcher<Pending>;

  constructor(private readonly deps: CallbackDeps) {
    this.reports = new Batcher((batch) => this.applyOrSplit(batch), MAX_BATCH);
  }

  /**
   * Throws unless Twilio signed this request; the form fields it signed. Runs before the body's shape is checked
   * (the route's preValidation), so an unsigned request costs one HMAC whatever its body, and gets a short 403.
   */
  async authenticateTwilio(input: TwilioRequest): Promise<Authenticated<FormParams>> {
    const token = (await this.deps.instance.current()).sms.twilio.auth_token;
    const params = formParams(input.body);
    const url = this.deps.urls.twilioStatus(input.messageId) + input.query;
    if (!token || !params || !verifyTwilioSignature(token, input.signature, url, params)) {
      throw this.rejected('twilio', 'X-Twilio-Signature is missing or does not sign this request with the configured auth token');
    }
    return { messageId: input.messageId, params } as Authenticated<FormParams>;
  }

  /** A Twilio status callback that authenticated (and whose fields were then checked). */
  async twilioStatus(callback: Authenticated<FormParams>): Promise<CallbackResult> {
    const { params } = callback;
    const status = first(params.MessageStatus);
    const sid = first(params.MessageSid);
    if (!status || !sid) throw appError('form_param_missing', { paramName: status ? 'MessageSid' : 'MessageStatus' });
    const errorCode = first(params.ErrorCode) || null;
    return this.report({
      messageId: callback.messageId,
      source: 'twilio',
      carrierStatus: status,
      carrierMessageId: sid,
      target: mapTwilioStatus(status),
      errorCode,
      errorMessage: errorCode ? twilioErrorMessage(errorCode) : null,
    });
  }

  /**
   * Throws unless the receipt comes through a callback URL this server gave out (and, with a signature secret,
   * carries a valid `sig`); its fields as text. Runs before the fields' shape is checked, like `authenticateTwilio`.
   */
  async authenticateVonage(input: VonageRequest): Promise<Authenticated<Record<string, string>>> {
    if (!this.deps.urls.checkVonageToken(input.messageId, input.token))
      throw this.rejected('vonage', 'the callback URL is not one this server gave out');
    const { vonage } = (await this.deps.instance.current()).sms;
    const params = receiptFields(input.fields);
    if (vonage.signature_secret) {
      const check = params
        ? verifyVonageSignature(
            params,
            vonage.signature_secret,
            vonage.signature_method,
            Math.floor(this.deps.clock.now() / 1000),
            this.deps.vonageDlrMaxAgeSeconds,
          )
        : 'missing';
      if (check !== 'valid') {
        const why = {
          missing: 'the receipt is not signed',
          mismatch: 'sig does not match the configured signature secret and method',
          stale: 'the receipt timestamp is outside the accepted window',
        }[check];
        throw this.rejected('vonage', why);
      }
    }
    // Unsigned and of the wrong shape: authenticated by its URL alone, so the fields' check says what is wrong.
    return { messageId: input.messageId, params: params ?? {} } as Authenticated<Record<string, string>>;
  }

  /** A Vonage delivery receipt (one per message part) that authenticated, from the query string, a form or a JSON body. */
  async vonageReceipt(callback: Authenticated<Record<string, string>>): Promise<CallbackResult> {
    const { params } = callback;
    const { status, messageId } = params;
    if (!status || !messageId) throw appError('form_param_missing', { paramName: status ? 'messageId' : 'status' });
    const errCode = params['err-code'];
    const errorCode = errCode && errCode !== '0' ? errCode : null;
    const price = vonagePrice(params.price);
    return this.report({
      messageId: callback.messageId,
      source: 'vonage',
      carrierStatus: status,
      carrierMessageId: messageId,
      target: mapVonageStatus(status),
      errorCode,
      errorMessage: errorCode ? vonageDlrErrorMessage(errorCode) : null,
      ...(price ? { price } : {}),
    });
  }

  private rejected(carrier: 'twilio' | 'vonage', why: string) {
    this.deps.metrics.callbacks.inc({ carrier, result: 'rejected' });
    this.deps.logger.warn({ carrier, why }, 'carrier callback rejected');
    return appError('callback_signature_invalid', { longMessage: why });
  }

  /**
   * Queues an authenticated report for the next batch and waits for its result: a callback's, or one the server
   * got by asking the carrier (see status-checks.ts).
   */
  report(report: CarrierReport): Promise<CallbackResult> {
    return new Promise((resolve, reject) => this.reports.push({ report, resolve, reject }));
  }

  private async applyOrSplit(batch: Pending[]): Promise<void> {
    try {
      await this.applyBatch(batch);
    } catch (error) {
      if (batch.length === 1) return batch[0]!.reject(error);
      // One bad report must not fail the others: apply each on its own.
      for (const pending of batch) await this.applyBatch([pending]).catch((e: unknown) => pending.reject(e));
    }
  }

  /** The move a failure report makes (see `afterFailureReport`), if any. */
  private async failover(row: SmsMessagesTable, report: FailureReport, now: number): Promise<Decision | null> {
    const settings = await this.deps.instance.current();
    return afterFailureReport(row, report, messageRoute(settings.sms, row).failover, now);
  }

  private async applyBatch(batch: Pending[]): Promise<void> {
    const { transactions, clock, metrics } = this.deps;
    const trail = new Trail(clock);
    // A report's price counts even when its status changes nothing (a later part's receipt, a late one).
    const priced: ReportedPrice[] = [];
    let written: ReportedPrice[] = [];
    const results: CallbackResult[] = [];
    const moves: Decision[] = [];
    await transactions.run(async (tx) => {
      const ids = [...new Set(batch.map((p) => p.report.messageId))];
      // The row locks serialise reports about one message.
      const messages = await lockMessages(tx, ids);
      const reported = await reportsSeen(tx, ids);
      const seen = new Set(reported.map((r) => `${r.message_id} ${r.dedupe_key}`));
      const changed = new Map<string, SmsMessagesTable>();
      const now = clock.now();
      for (const { report } of batch) {
        const row = changed.get(report.messageId) ?? messages.get(report.messageId);
        if (!row) {
          results.push('unknown_message');
          continue;
        }
        const dedupeKey = `${report.source}:${report.carrierMessageId}:${report.carrierStatus}`;
        if (seen.has(`${row.id} ${dedupeKey}`)) {
          results.push('duplicate');
          continue;
        }
        seen.add(`${row.id} ${dedupeKey}`);
        if (report.price) priced.push({ messageId: row.id, driver: report.source, ...report.price });
        reported.push({
          message_id: row.id,
          dedupe_key: dedupeKey,
          carrier_status: report.carrierStatus,
          carrier_message_id: report.carrierMessageId,
        });
        const actor: Actor = { type: 'carrier', id: report.source };
        const carrier = { status: report.carrierStatus, messageId: report.carrierMessageId, dedupeKey };
        const target = report.target === 'delivered' && !allPartsDelivered(row, reported) ? 'sent' : report.target;
        // After a failover, the first carrier's reports are history: the message is the second carrier's now.
        const superseded = row.failover_from === report.source;
        if (target === null || superseded || !canAdvance(row.status, target)) {
          trail.add({ message: row, applied: false, source: report.source, actor, carrier });
          results.push('ignored');
          continue;
        }
        const move =
          (target === 'undelivered' || target === 'failed') && report.errorCode
            ? await this.failover(row, { ...report, errorCode: report.errorCode }, now)
            : null;
        if (move?.trail) {
          const moved = { ...row, ...move.patch };
          changed.set(row.id, moved);
          trail.add({ ...move.trail, message: moved, source: report.source, actor, carrier });
          moves.push(move);
          results.push('applied');
          continue;
        }
        const next: SmsMessagesTable = {
          ...row,
          status: target,
          carrier_status: report.carrierStatus,
          carrier_message_id: row.carrier_message_id ?? report.carrierMessageId,
          sent_at: row.sent_at ?? now,
          // The carrier has the message: no attempt is due any more, whatever the dispatcher was doing.
          lease_owner: null,
          lease_expires_at: null,
          next_attempt_at: null,
          // A message that may still move (waiting for its receipt, or its acceptance not yet recorded) keeps its body.
          payload: !isTerminal(target) && (row.receipt_wait_until !== null || row.status === 'sending') ? row.payload : null,
          receipt_wait_until: isTerminal(target) ? null : row.receipt_wait_until,
          updated_at: now,
          completed_at: isTerminal(target) ? now : row.completed_at,
          // A final report ends the checks; until then the next check stays as planned.
          status_check_at: isTerminal(target) ? null : row.status_check_at,
          ...(report.errorCode ? { error_code: report.errorCode, error_message: report.errorMessage } : {}),
        };
        changed.set(row.id, next);
        const via = report.via === 'status_check' ? { via: 'status_check' } : {};
        trail.add({
          message: next,
          applied: true,
          source: report.source,
          actor,
          carrier,
          auditData: { carrier_status: report.carrierStatus, carrier_message_id: report.carrierMessageId, ...via },
        });
        results.push('applied');
      }
      await trail.write(tx, messageUpdates(tx, [...changed.values()]));
      written = await priceAttempts(tx, priced);
    });
    trail.count(metrics);
    for (const { failover } of moves) if (failover) metrics.failovers.inc(failover);
    countCosts(
      metrics,
      written.map(({ driver, nanos, currency }) => ({ driver, price: { nanos, currency } })),
    );
    batch.forEach((pending, i) => {
      const result = results[i]!;
      if (pending.report.via !== 'status_check') metrics.callbacks.inc({ carrier: pending.report.source, result });
      if (result === 'unknown_message')
        this.deps.logger.warn(
          { carrier: pending.report.source, message_id: pending.report.messageId },
          'carrier callback for a message this store does not have',
        );
      pending.resolve(result);
    });
  }
}

/** A long message is split into parts, each with its own receipt: delivered means every part delivered. */
function allPartsDelivered(row: SmsMessagesTable, reported: readonly ReportSeen[]): boolean {
  const parts = row.carrier_parts ?? row.segments;
  if (parts <= 1) return true;
  const delivered = new Set(
    reported.filter((r) => r.message_id === row.id && r.carrier_status === 'delivered').map((r) => r.carrier_message_id),
  );
  return delivered.size >= parts;
}
