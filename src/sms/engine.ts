/**
 * The send engine: `send()` is the one way an SMS leaves authn.sh. In order: normalise the recipient (a bad
 * number is an error and nothing is queued); render the template; pick the sender; then either record a
 * no-op (the reserved test range), hand the message to the operator (`delivered_by_us: false`), or put it in
 * the outbox for the dispatcher. Every path records the message, fires `sms.queued` and writes an audit entry,
 * in the caller's transaction when there is one (a challenge and its message commit together).
 */
import type { Clock } from '../clock.js';
import { appError } from '../errors.js';
import { newId } from '../ids.js';
import { inTransaction, type Db, type Executor } from '../store/database.js';
import type { SmsMessagesTable } from '../store/schema.js';
import { recordAudit, SYSTEM_ACTOR, type Actor } from '../audit/audit-log.js';
import { recordEvent } from '../webhooks/events.js';
import type { InstanceService } from '../instance/service.js';
import type { InstanceSettings } from '../instance/settings.js';
import { isTestNumber, parseRecipient } from './numbers.js';
import type { TemplateService } from './templates/service.js';
import type { TemplateSlug } from './templates/catalogue.js';

/**
 * Where a message stands. Terminal: delivered, failed, undelivered, dropped (null driver), test_noop (reserved
 * test range), operator (delivered_by_us false), expired (a code whose challenge expired before it was sent).
 */
export const SMS_STATUSES = ['queued', 'sending', 'sent', 'delivered', 'failed', 'undelivered', 'dropped', 'test_noop', 'operator', 'expired'] as const;
export type SmsStatus = (typeof SMS_STATUSES)[number];
export const TERMINAL_STATUSES: ReadonlySet<SmsStatus> = new Set(['delivered', 'failed', 'undelivered', 'dropped', 'test_noop', 'operator', 'expired']);

export interface SendInput {
  template: TemplateSlug;
  /** The recipient, in any common notation of an international number; normalised to E.164. */
  to: string;
  /** Template variables; `app_name` comes from the instance settings unless given. */
  variables: Readonly<Record<string, string>>;
  /** For a verification code: its challenge, and when the code stops being useful (it is not sent after). */
  challenge?: { id: string; expiresAt: number };
  actor?: Actor;
  /** The request parameter `to` came from, for the error's `meta.param_name`. */
  paramName?: string;
}

export interface QueuedMessage {
  id: string;
  status: SmsStatus;
  to: string;
  template: TemplateSlug;
  testNumber: boolean;
}

/** Which sender a message goes out from: a Twilio messaging service replaces both the override and the default. */
export function chooseSender(settings: InstanceSettings, override: string | null): { from: string | null; messagingServiceSid: string | null } {
  if (settings.sms.driver === 'twilio' && settings.sms.twilio.messaging_service_sid) {
    return { from: null, messagingServiceSid: settings.sms.twilio.messaging_service_sid };
  }
  return { from: override ?? settings.sms.from_number, messagingServiceSid: null };
}

export class SmsEngine {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly instance: InstanceService,
    private readonly templates: TemplateService,
  ) {}

  async send(input: SendInput, executor: Executor = this.db): Promise<QueuedMessage> {
    const recipient = parseRecipient(input.to);
    if (!recipient.ok) {
      const paramName = input.paramName ?? 'to';
      throw appError('form_param_format_invalid', { paramName, longMessage: `${paramName} ${recipient.reason}` });
    }
    const settings = await this.instance.current();
    return inTransaction(executor, async (tx) => {
      const template = await this.templates.resolve(input.template, tx);
      const message = this.templates.render(template, input.variables, settings);
      const sender = chooseSender(settings, template.from_number_override);
      const testNumber = isTestNumber(recipient.e164);
      const status: SmsStatus = testNumber ? 'test_noop' : !template.delivered_by_us ? 'operator' : 'queued';
      const now = this.clock.now();
      const row: SmsMessagesTable = {
        id: newId('msg', now),
        created_at: now,
        updated_at: now,
        template: input.template,
        to_number: recipient.e164,
        from_number: sender.from,
        messaging_service_sid: sender.messagingServiceSid,
        body: message.body,
        encoding: message.encoding,
        segments: message.segments,
        status,
        driver: settings.sms.driver ?? 'null',
        test_number: testNumber ? 1 : 0,
        delivered_by_us: template.delivered_by_us ? 1 : 0,
        challenge_id: input.challenge?.id ?? null,
        expires_at: input.challenge?.expiresAt ?? null,
        attempts: 0,
        next_attempt_at: status === 'queued' ? now : null,
        lease_owner: null,
        lease_expires_at: null,
        carrier_message_id: null,
        error_code: null,
        error_message: null,
      };
      await tx.insertInto('sms_messages').values(row).execute();
      await recordEvent(tx, this.clock, {
        type: 'sms.queued',
        data: {
          id: row.id,
          object: 'sms_message',
          template: row.template,
          to_phone_number: row.to_number,
          from_phone_number: row.from_number,
          status,
          delivered_by_us: template.delivered_by_us,
          // Only a message the operator must deliver carries its body: elsewhere it holds a live code.
          ...(status === 'operator' ? { message: message.body } : {}),
        },
      });
      await recordAudit(tx, this.clock, {
        actor: input.actor ?? SYSTEM_ACTOR,
        action: 'sms.queued',
        target: { type: 'sms_message', id: row.id },
        data: { template: row.template, status, test_number: testNumber, delivered_by_us: template.delivered_by_us },
      });
      return { id: row.id, status, to: row.to_number, template: input.template, testNumber };
    });
  }
}
