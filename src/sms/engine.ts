/**
 * The send engine: `send()` is the one way an SMS leaves authn.sh. In order: normalise the recipient (a bad
 * number is an error and nothing is queued); render the template; pick the sender; then either record a
 * no-op (the reserved test range), hand the message to the operator (`delivered_by_us: false`), or put it in
 * the outbox for the dispatcher (src/sms/dispatcher.ts). Under `test_mode: enabled` the simulated part of the
 * test range goes to the outbox too, for the simulated driver (drivers/simulated.ts) to play the carrier. Every
 * path records the message, fires `sms.queued` and writes an audit entry, in the caller's transaction when there
 * is one (a challenge and its message commit together).
 *
 * A code never sits in the log in clear for a real driver: the row's `body` is the message with its `code`
 * masked, and the body to send travels sealed in `payload` until the message has left (and can no longer fail over).
 */
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { appError } from '../errors.js';
import { newId } from '../ids.js';
import type { SecretBox } from '../secret-box.js';
import { inTransaction, type Db, type Executor, type Tx } from '../store/database.js';
import type { SmsMessagesTable } from '../store/schema.js';
import { auditRow, eventAuditData, SYSTEM_ACTOR, type Actor } from '../audit/audit-log.js';
import { rowInsert, type ChangeWrite } from '../store/writes.js';
import type { InstanceService } from '../instance/service.js';
import type { InstanceSettings } from '../instance/settings.js';
import { measureSms } from './encoding.js';
import { isSimulatedNumber, isTestNumber, parseRecipient } from '../phone/numbers.js';
import { messageRoute, routeFor } from './routing.js';
import type { TemplateService } from './templates/service.js';
import type { TemplateSlug } from './templates/catalogue.js';
import type { SmsMetrics } from './metrics.js';
import { Trail, attemptRow, type SmsStatus } from './transitions.js';
import { chooseSender } from './sender.js';
import { payloadAd } from '../store/sms-outbox.js';

export { SMS_STATUSES, TERMINAL_STATUSES, type SmsStatus } from './transitions.js';

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

export interface QueuedMessage<T extends string = TemplateSlug> {
  id: string;
  status: SmsStatus;
  to: string;
  template: T;
  testNumber: boolean;
}

/** The pseudo-template of `POST /v1/sms_messages/test`: a fixed body, not one of the editable templates. */
export const TEST_MESSAGE_TEMPLATE = 'test_message';
export const testMessageBody = (appName: string) => `This is a test message from ${appName}: your SMS settings work.`;

/** What goes into the outbox, once rendered. */
interface Outgoing<T extends string> {
  template: T;
  to: string;
  /** The destination's country (ISO 3166 alpha-2), null when the number belongs to no single country. */
  country: string | null;
  /** The body to send. */
  body: string;
  /** The body the log shows: `body` with any code masked (same as `body` when nothing is secret). */
  logBody: string;
  sender: { from: string | null; messagingServiceSid: string | null };
  deliveredByUs: boolean;
  challenge?: { id: string; expiresAt: number };
  actor?: Actor;
}

export interface SmsEngineDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  /** Names this process in attempt records (the dispatcher's name: see `Dispatcher.worker`). */
  worker: string;
  instance: InstanceService;
  templates: TemplateService;
  box: SecretBox;
  metrics: SmsMetrics;
  /** Called after a message is put in the outbox (the dispatcher of this process looks sooner). */
  onQueued: () => void;
}

export class SmsEngine {
  private readonly log: Logger;

  constructor(private readonly deps: SmsEngineDeps) {
    this.log = deps.logger.child({ component: 'sms-engine' });
  }

  async send(input: SendInput, executor: Executor = this.deps.db): Promise<QueuedMessage> {
    const { e164: to, country } = checkedRecipient(input.to, input.paramName);
    return inTransaction(executor, async (tx) => {
      const settings = await this.deps.instance.current(tx);
      const template = await this.deps.templates.forSend(input.template, tx);
      const message = this.deps.templates.render(template, input.variables, settings);
      // Only a real driver hides the code: the null driver exists to show it to the developer.
      // Every occurrence is masked (the origin-bound line repeats the code); a digit run that merely equals the
      // code elsewhere in the body is masked too, which only costs the log a few characters.
      const code = input.variables.code;
      const logBody =
        code && routeFor(settings.sms, country).first !== null ? message.body.split(code).join('*'.repeat(code.length)) : message.body;
      return this.enqueue(tx, settings, {
        template: input.template,
        to,
        country,
        body: message.body,
        logBody,
        sender: chooseSender(settings, template.from_number_override),
        deliveredByUs: template.delivered_by_us,
        challenge: input.challenge,
        actor: input.actor,
      });
    });
  }

  /** The dashboard's "send test SMS": a fixed body through the configured driver. */
  async sendTest(input: { to: string; actor: Actor }): Promise<QueuedMessage<typeof TEST_MESSAGE_TEMPLATE>> {
    const { e164: to, country } = checkedRecipient(input.to, 'to');
    const settings = await this.deps.instance.current();
    const body = testMessageBody(settings.app_name);
    return inTransaction(this.deps.db, (tx) =>
      this.enqueue(tx, settings, {
        template: TEST_MESSAGE_TEMPLATE,
        to,
        country,
        body,
        logBody: body,
        sender: chooseSender(settings, null),
        deliveredByUs: true,
        actor: input.actor,
      }),
    );
  }

  private async enqueue<T extends string>(tx: Tx, settings: InstanceSettings, out: Outgoing<T>): Promise<QueuedMessage<T>> {
    const testNumber = isTestNumber(out.to);
    // A simulated message is a test number's (no carrier, no fee, no budget) that takes the path of a real one.
    const simulated = settings.test_mode === 'enabled' && out.deliveredByUs && isSimulatedNumber(out.to);
    const queued: SmsStatus = testNumber && !simulated ? 'test_noop' : !out.deliveredByUs ? 'operator' : 'queued';
    // The null driver sends nothing, so there is nothing to dispatch: its drop is recorded here, in the transaction
    // that queues the message. A caller (a CI test reading the audit log) sees the drop as soon as the send returns.
    const { first } = messageRoute(settings.sms, { test_number: simulated ? 1 : 0, country: out.country });
    const dropped = queued === 'queued' && first === null;
    const status: SmsStatus = dropped ? 'dropped' : queued;
    const waiting = status === 'queued';
    const measure = measureSms(out.body);
    const now = this.deps.clock.now();
    const id = newId('msg', now);
    const row: SmsMessagesTable = {
      id,
      created_at: now,
      updated_at: now,
      template: out.template,
      to_number: out.to,
      from_number: out.sender.from,
      messaging_service_sid: out.sender.messagingServiceSid,
      body: out.logBody,
      encoding: measure.encoding,
      segments: measure.segments,
      status,
      driver: first ?? 'null',
      test_number: testNumber ? 1 : 0,
      delivered_by_us: out.deliveredByUs ? 1 : 0,
      challenge_id: out.challenge?.id ?? null,
      expires_at: out.challenge?.expiresAt ?? null,
      attempts: dropped ? 1 : 0,
      next_attempt_at: waiting ? now : null,
      lease_owner: null,
      lease_expires_at: null,
      carrier_message_id: null,
      error_code: null,
      error_message: null,
      payload: waiting && out.logBody !== out.body ? this.deps.box.seal(out.body, payloadAd(id)) : null,
      carrier_status: null,
      carrier_parts: null,
      sent_at: null,
      completed_at: waiting ? null : now,
      status_check_at: null,
      country: out.country,
      failover_from: null,
      failover_reason: null,
      failed_over_at: null,
      failover_attempt: null,
      receipt_wait_until: null,
    };
    const event = {
      type: 'sms.queued' as const,
      data: {
        id,
        object: 'sms_message',
        template: row.template,
        to_phone_number: row.to_number,
        from_phone_number: row.from_number,
        status: queued,
        delivered_by_us: out.deliveredByUs,
        // Only a message the operator must deliver carries its body: elsewhere it holds a live code.
        ...(queued === 'operator' ? { message: out.body } : {}),
      },
    };
    // The message row is its own first history entry (see messages.ts): no status row is written for `queued`.
    const audit = auditRow(this.deps.clock, {
      actor: out.actor ?? SYSTEM_ACTOR,
      action: 'sms.queued',
      target: { type: 'sms_message', id },
      data: eventAuditData(event.type, event.data, { test_number: testNumber }),
    });
    const writes: ChangeWrite[] = [rowInsert('sms_messages', row), rowInsert('audit_logs', audit)];
    const trail = new Trail(this.deps.clock);
    if (dropped) {
      // Development only: a verification code is shown (log line and audit entry) so sign-in can be tried without a phone.
      const echo = out.template === 'verification_code';
      if (echo) this.log.info({ message_id: id, to: out.to, body: out.body }, 'null driver: verification code SMS dropped');
      writes.push(rowInsert('sms_message_attempts', attemptRow(row, 'null', this.deps.worker, now, now, 'dropped', null, null)));
      trail.add({
        message: row,
        applied: true,
        source: 'engine',
        actor: SYSTEM_ACTOR,
        action: 'sms.dropped',
        auditData: { attempt: 1, driver: 'null', ...(echo ? { body: out.body } : {}) },
      });
    }
    // One statement on PostgreSQL: the message, its audit entries, its history and its events (see recordEvents).
    await trail.write(tx, writes, [event]);
    this.deps.metrics.messages.inc({ driver: row.driver!, status: queued });
    trail.count(this.deps.metrics);
    if (waiting) this.deps.onQueued();
    return { id, status, to: out.to, template: out.template, testNumber };
  }
}

function checkedRecipient(to: string, paramName = 'to'): { e164: string; country: string | null } {
  const recipient = parseRecipient(to);
  if (!recipient.ok) throw appError('form_param_format_invalid', { paramName, longMessage: `${paramName} ${recipient.reason}` });
  return recipient;
}
