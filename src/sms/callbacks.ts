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
import type { Store, Tx } from '../store/database.js';
import type { SmsMessagesTable } from '../store/schema.js';
import type { CallbackUrls } from './callback-urls.js';
import type { SmsMetrics } from './metrics.js';
import { Trail, canAdvance, isTerminal, type SmsStatus } from './transitions.js';
import { mapTwilioStatus, twilioErrorMessage, verifyTwilioSignature, type FormParams } from './drivers/twilio.js';
import { mapVonageStatus, verifyVonageSignature, vonageDlrErrorMessage } from './drivers/vonage.js';

export type CallbackResult = 'applied' | 'ignored' | 'duplicate' | 'unknown_message';

interface CarrierReport {
  messageId: string;
  source: 'twilio' | 'vonage';
  carrierStatus: string;
  carrierMessageId: string;
  /** Our status the report asks for; null: informational only. */
  target: Extract<SmsStatus, 'sent' | 'delivered' | 'undelivered' | 'failed'> | null;
  errorCode: string | null;
  errorMessage: string | null;
}

export interface CallbackDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  instance: InstanceService;
  urls: CallbackUrls;
  metrics: SmsMetrics;
  vonageDlrMaxAgeSeconds: number;
}

const first = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

export class CarrierCallbacks {
  constructor(private readonly deps: CallbackDeps) {}

  /** A Twilio status callback. `query` is the request's query string (with its `?`), usually empty. */
  async twilioStatus(input: { messageId: string; signature: string | undefined; query: string; params: FormParams }): Promise<CallbackResult> {
    const settings = await this.deps.instance.current();
    const token = settings.sms.twilio.auth_token;
    const url = this.deps.urls.twilioStatus(input.messageId) + input.query;
    if (!token || !verifyTwilioSignature(token, input.signature, url, input.params)) {
      throw this.rejected('twilio', 'X-Twilio-Signature is missing or does not sign this request with the configured auth token');
    }
    const status = first(input.params.MessageStatus);
    const sid = first(input.params.MessageSid);
    if (!status || !sid) throw appError('form_param_missing', { paramName: status ? 'MessageSid' : 'MessageStatus' });
    const errorCode = first(input.params.ErrorCode) || null;
    return this.apply({
      messageId: input.messageId,
      source: 'twilio',
      carrierStatus: status,
      carrierMessageId: sid,
      target: mapTwilioStatus(status),
      errorCode,
      errorMessage: errorCode ? twilioErrorMessage(errorCode) : null,
    });
  }

  /** A Vonage delivery receipt (one per message part), from the query string, a form or a JSON body. */
  async vonageReceipt(input: { messageId: string; token: string; params: Record<string, string> }): Promise<CallbackResult> {
    if (!this.deps.urls.checkVonageToken(input.messageId, input.token)) throw this.rejected('vonage', 'the callback URL is not one this server gave out');
    const { vonage } = (await this.deps.instance.current()).sms;
    if (vonage.signature_secret) {
      const check = verifyVonageSignature(input.params, vonage.signature_secret, vonage.signature_method, Math.floor(this.deps.clock.now() / 1000), this.deps.vonageDlrMaxAgeSeconds);
      if (check !== 'valid') {
        const why = { missing: 'the receipt is not signed', mismatch: 'sig does not match the configured signature secret and method', stale: 'the receipt timestamp is outside the accepted window' }[check];
        throw this.rejected('vonage', why);
      }
    }
    const { status, messageId } = input.params;
    if (!status || !messageId) throw appError('form_param_missing', { paramName: status ? 'messageId' : 'status' });
    const errCode = input.params['err-code'];
    const errorCode = errCode && errCode !== '0' ? errCode : null;
    return this.apply({
      messageId: input.messageId,
      source: 'vonage',
      carrierStatus: status,
      carrierMessageId: messageId,
      target: mapVonageStatus(status),
      errorCode,
      errorMessage: errorCode ? vonageDlrErrorMessage(errorCode) : null,
    });
  }

  private rejected(carrier: 'twilio' | 'vonage', why: string) {
    this.deps.metrics.callbacks.inc({ carrier, result: 'rejected' });
    this.deps.logger.warn({ carrier, why }, 'carrier callback rejected');
    return appError('callback_signature_invalid', { longMessage: why });
  }

  private async apply(report: CarrierReport): Promise<CallbackResult> {
    const { store, clock, metrics } = this.deps;
    const trail = new Trail(clock);
    const actor: Actor = { type: 'carrier', id: report.source };
    const result = await store.db.transaction().execute(async (tx): Promise<CallbackResult> => {
      // The row lock (PostgreSQL; SQLite's write lock is whole-database) serialises reports about one message.
      let query = tx.selectFrom('sms_messages').selectAll().where('id', '=', report.messageId);
      if (store.dialect === 'postgres') query = query.forUpdate();
      const row = await query.executeTakeFirst();
      if (!row) return 'unknown_message';
      const dedupeKey = `${report.source}:${report.carrierMessageId}:${report.carrierStatus}`;
      const seen = await tx.selectFrom('sms_message_statuses').select('id').where('message_id', '=', row.id).where('dedupe_key', '=', dedupeKey).executeTakeFirst();
      if (seen) return 'duplicate';

      const carrier = { status: report.carrierStatus, messageId: report.carrierMessageId, dedupeKey };
      const target = report.target === 'delivered' && !(await this.allPartsDelivered(tx, row, report)) ? 'sent' : report.target;
      if (target === null || !canAdvance(row.status, target)) {
        trail.add({ message: row, applied: false, source: report.source, actor, carrier });
        await trail.write(tx);
        return 'ignored';
      }
      const now = clock.now();
      const patch: Partial<SmsMessagesTable> = {
        status: target,
        carrier_status: report.carrierStatus,
        carrier_message_id: row.carrier_message_id ?? report.carrierMessageId,
        sent_at: row.sent_at ?? now,
        // The carrier has the message: no attempt is due any more, whatever the dispatcher was doing.
        lease_owner: null,
        lease_expires_at: null,
        next_attempt_at: null,
        payload: null,
        updated_at: now,
        ...(isTerminal(target) ? { completed_at: now } : {}),
        ...(report.errorCode ? { error_code: report.errorCode, error_message: report.errorMessage } : {}),
      };
      await tx.updateTable('sms_messages').set(patch).where('id', '=', row.id).execute();
      trail.add({ message: { ...row, ...patch }, applied: true, source: report.source, actor, carrier, auditData: { carrier_status: report.carrierStatus, carrier_message_id: report.carrierMessageId } });
      await trail.write(tx);
      return 'applied';
    });
    trail.count(metrics);
    metrics.callbacks.inc({ carrier: report.source, result });
    if (result === 'unknown_message') this.deps.logger.warn({ carrier: report.source, message_id: report.messageId }, 'carrier callback for a message this store does not have');
    return result;
  }

  /** A long message is split into parts, each with its own receipt: delivered means every part delivered. */
  private async allPartsDelivered(tx: Tx, row: SmsMessagesTable, report: CarrierReport): Promise<boolean> {
    const parts = row.carrier_parts ?? row.segments;
    if (parts <= 1) return true;
    const delivered = await tx
      .selectFrom('sms_message_statuses')
      .select('carrier_message_id')
      .distinct()
      .where('message_id', '=', row.id)
      .where('source', '=', report.source)
      .where('carrier_status', '=', report.carrierStatus)
      .execute();
    const ids = new Set(delivered.map((d) => d.carrier_message_id));
    ids.add(report.carrierMessageId);
    return ids.size >= parts;
  }
}
