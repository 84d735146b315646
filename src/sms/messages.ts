/**
 * The message log read over BAPI: every message with its status, newest first, and for one message its
 * attempts and status history. Bodies are shown as stored: with a real driver a code is already masked.
 */
import { appError } from '../errors.js';
import type { Actor } from '../audit/audit-log.js';
import { homeCountries } from '../instance/settings.js';
import type { InstanceService } from '../instance/service.js';
import type { Db } from '../store/database.js';
import { decodeCursor, toPage, type Page } from '../store/pagination.js';
import type { SmsMessageAttemptsTable, SmsMessagesTable, SmsMessageStatusesTable } from '../store/schema.js';
import type { SmsEngine } from './engine.js';
import { priceDecimal } from './drivers/driver.js';
import { parseRecipient } from '../phone/numbers.js';
import type { SmsStatus } from './transitions.js';
import type { FailoverReason } from './statuses.js';

export interface SmsMessageView {
  id: string;
  object: 'sms_message';
  created_at: number;
  updated_at: number;
  template: string;
  to_phone_number: string;
  from_phone_number: string | null;
  messaging_service_sid: string | null;
  body: string;
  encoding: string;
  segments: number;
  status: SmsStatus;
  driver: string | null;
  test_number: boolean;
  delivered_by_us: boolean;
  challenge_id: string | null;
  expires_at: number | null;
  attempt_count: number;
  next_attempt_at: number | null;
  /** When the server will ask the carrier how the message is doing, if no final report comes first. */
  next_status_check_at: number | null;
  carrier_message_id: string | null;
  carrier_status: string | null;
  carrier_parts: number | null;
  error_code: string | null;
  error_message: string | null;
  sent_at: number | null;
  completed_at: number | null;
  /** The destination's country (ISO 3166 alpha-2); null for a number of no single country. */
  country: string | null;
  /** The move to the failover driver; null: the message has not moved. */
  failover: { from: string; to: string; at: number; reason: FailoverReason } | null;
}

export interface SmsMessageDetail extends SmsMessageView {
  /** `price`: what the carrier charged for the attempt, an exact decimal in `price_currency`; null: not reported. */
  attempts: (Omit<SmsMessageAttemptsTable, 'id' | 'message_id' | 'price_nanos'> & { price: string | null })[];
  status_history: (Omit<SmsMessageStatusesTable, 'id' | 'message_id' | 'dedupe_key' | 'applied'> & { applied: boolean })[];
}

export interface SmsMessageFilter {
  status?: SmsStatus;
  /** A recipient in any notation `parseRecipient` accepts, national numbers of the instance's home countries included. */
  to?: string;
  template?: string;
  created_after?: number;
  created_before?: number;
  limit?: number;
}

export class SmsMessageLog {
  constructor(
    private readonly db: Db,
    private readonly engine: SmsEngine,
    private readonly instance: InstanceService,
  ) {}

  async list(filter: SmsMessageFilter, startingAfter?: string): Promise<Page<SmsMessageView>> {
    const after = decodeCursor(startingAfter);
    const limit = filter.limit ?? 50;
    let query = this.db
      .selectFrom('sms_messages')
      .selectAll()
      .orderBy('id', 'desc')
      .limit(limit + 1);
    if (filter.to !== undefined) {
      const recipient = parseRecipient(filter.to, homeCountries(await this.instance.current()));
      if (!recipient.ok) throw appError('form_param_format_invalid', { paramName: 'to', longMessage: `to ${recipient.reason}` });
      query = query.where('to_number', '=', recipient.e164);
    }
    if (filter.status) query = query.where('status', '=', filter.status);
    if (filter.template) query = query.where('template', '=', filter.template);
    if (filter.created_after !== undefined) query = query.where('created_at', '>=', filter.created_after);
    if (filter.created_before !== undefined) query = query.where('created_at', '<', filter.created_before);
    if (after) query = query.where('id', '<', after);
    return toPage(await query.execute(), limit, toView);
  }

  async get(id: string): Promise<SmsMessageDetail> {
    const row = await this.db.selectFrom('sms_messages').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw appError('resource_not_found', { paramName: 'id', longMessage: `No SMS message with id ${id}` });
    const [attempts, history] = await Promise.all([
      this.db.selectFrom('sms_message_attempts').selectAll().where('message_id', '=', id).orderBy('attempt').orderBy('id').execute(),
      this.db.selectFrom('sms_message_statuses').selectAll().where('message_id', '=', id).orderBy('id').execute(),
    ]);
    // The engine's entry is the message row itself (its first status, when it was created).
    const first = {
      created_at: row.created_at,
      status: FIRST_STATUS[row.status === 'test_noop' ? 'test' : row.delivered_by_us ? 'ours' : 'operator'],
      source: 'engine',
      carrier_status: null,
      carrier_message_id: null,
      error_code: null,
      error_message: null,
      applied: true,
    };
    return {
      ...toView(row),
      attempts: attempts.map(toAttempt),
      status_history: [first, ...history.map(toHistory)],
    };
  }

  /** `POST /v1/sms_messages/test`: queues the fixed test message and returns it as the log shows it. */
  async sendTest(to: string, actor: Actor): Promise<SmsMessageDetail> {
    const queued = await this.engine.sendTest({ to, actor });
    return this.get(queued.id);
  }
}

const FIRST_STATUS = { test: 'test_noop', ours: 'queued', operator: 'operator' } as const;

function toView(row: SmsMessagesTable): SmsMessageView {
  return {
    id: row.id,
    object: 'sms_message',
    created_at: row.created_at,
    updated_at: row.updated_at,
    template: row.template,
    to_phone_number: row.to_number,
    from_phone_number: row.from_number,
    messaging_service_sid: row.messaging_service_sid,
    body: row.body,
    encoding: row.encoding,
    segments: row.segments,
    status: row.status,
    driver: row.driver,
    test_number: row.test_number === 1,
    delivered_by_us: row.delivered_by_us === 1,
    challenge_id: row.challenge_id,
    expires_at: row.expires_at,
    attempt_count: row.attempts,
    next_attempt_at: row.next_attempt_at,
    next_status_check_at: row.status_check_at,
    carrier_message_id: row.carrier_message_id,
    carrier_status: row.carrier_status,
    carrier_parts: row.carrier_parts,
    error_code: row.error_code,
    error_message: row.error_message,
    sent_at: row.sent_at,
    completed_at: row.completed_at,
    country: row.country,
    failover: failoverOf(row),
  };
}

/** The move of a message to its failover driver, as it was recorded when it moved. */
function failoverOf(row: SmsMessagesTable): SmsMessageView['failover'] {
  if (row.failover_from === null || row.failed_over_at === null || row.failover_reason === null) return null;
  return { from: row.failover_from, to: row.driver ?? 'null', at: row.failed_over_at, reason: row.failover_reason };
}

function toAttempt(row: SmsMessageAttemptsTable): SmsMessageDetail['attempts'][number] {
  const { id: _id, message_id: _message, price_nanos, ...rest } = row;
  return { ...rest, price: price_nanos === null ? null : priceDecimal(price_nanos) };
}

function toHistory(row: SmsMessageStatusesTable): SmsMessageDetail['status_history'][number] {
  return {
    created_at: row.created_at,
    status: row.status,
    source: row.source,
    carrier_status: row.carrier_status,
    carrier_message_id: row.carrier_message_id,
    error_code: row.error_code,
    error_message: row.error_message,
    applied: row.applied === 1,
  };
}
