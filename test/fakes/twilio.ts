/**
 * A fake Twilio Messages API on a loopback port, following test/fakes/contracts (§2 of its README):
 * - `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`: HTTP Basic, form body validated against the
 *   OpenAPI request schema (stricter than Twilio: unknown fields are refused and recorded as violations),
 *   then Twilio's own checks with its error codes (21604, 21211, 21603, 21602, 21617, 21606, 21609…).
 *   Answers 201 with a Message resource that is itself checked against the response schema.
 * - `GET …/Messages/{Sid}.json`, or 404/20404.
 * - Status callbacks to `StatusCallback`, form-encoded and signed with X-Twilio-Signature over the URL exactly
 *   as given; automatically (`sent` then `delivered`, or a sequence per message) or by hand, in any order,
 *   twice, or forged.
 * - Injected failures: bad credentials, any Twilio error (invalid number, opted out, geo, 429, 5xx), slow,
 *   hanging or reset responses.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ValidateFunction } from 'ajv';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import {
  FailureQueue,
  FakeCarrier,
  carrierSegments,
  type FakeServerOptions,
  contractAjv,
  describeErrors,
  parseForm,
  readContract,
  sendJson,
  sleep,
  type TransportFailure,
} from './common.js';

/** `late`: the message is accepted at once but the answer comes `ms` later (its callbacks may overtake it). */
export type TwilioFailure =
  | TransportFailure
  | { kind: 'auth' }
  | { kind: 'late'; ms: number }
  | { kind: 'error'; status: number; code: number; message: string; retryAfter?: string };

/** The failures the issue lists, as Twilio answers them (contracts §2.2). */
export const TWILIO_FAILURES = {
  invalidNumber: { kind: 'error', status: 400, code: 21211, message: "The 'To' number is not a valid phone number." },
  unsubscribed: { kind: 'error', status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' },
  geoBlocked: {
    kind: 'error',
    status: 400,
    code: 21408,
    message: 'Permission to send an SMS has not been enabled for the region indicated by the To number',
  },
  rateLimited: { kind: 'error', status: 429, code: 20429, message: 'Too Many Requests' },
  serverError: { kind: 'error', status: 500, code: 20500, message: 'Internal Server Error' },
  badGateway: { kind: 'error', status: 503, code: 20503, message: 'Service Unavailable' },
} as const satisfies Record<string, TwilioFailure>;

/** What the fake charges per segment (USD), and the statuses that carry a price: Twilio bills once the message has left, never a failed one. */
export const PRICE_PER_SEGMENT = 0.0079;
const BILLED = new Set(['sent', 'delivered', 'undelivered', 'read']);

export interface FakeTwilioMessage {
  sid: string;
  accountSid: string;
  to: string;
  from: string | null;
  messagingServiceSid: string | null;
  body: string;
  statusCallback: string | null;
  validityPeriod: number | null;
  status: string;
  numSegments: number;
  dateCreated: Date;
  errorCode: number | null;
}

export interface CallbackStep {
  status: string;
  errorCode?: string;
}

export interface FakeTwilioOptions extends FakeServerOptions {
  accountSid: string;
  authToken: string;
  /** The account's numbers: a `From` outside them gets 21606. Default: any. */
  numbers?: string[];
  /** `auto`: after each accepted message, send its callbacks (`sequence`); `manual`: only `sendStatus()`. */
  callbacks?: 'auto' | 'manual';
  sequence?: (message: FakeTwilioMessage) => CallbackStep[];
  /** Retry a callback the server did not take (down, 5xx). Default true. */
  retryCallbacks?: boolean;
  /** Check every answer against the response schema (costs CPU; the benchmark turns it off). Default true. */
  selfCheck?: boolean;
}

const BASE = '/2010-04-01/Accounts/';
const CREATE = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/;
const FETCH = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\/([^/]+)\.json$/;

interface Validators {
  accountSid: ValidateFunction;
  request: ValidateFunction;
  message: ValidateFunction;
  error: ValidateFunction;
  callback: ValidateFunction;
}

let validators: Validators | null = null;

function compile(): Validators {
  if (validators) return validators;
  type Doc = {
    paths: Record<string, { post: { parameters: { schema: object }[]; requestBody: { content: Record<string, { schema: object }> } } }>;
    components: object;
  };
  const doc = readContract<Doc>('twilio-messages.openapi.json');
  const supplement = readContract<{ definitions: Record<string, object> }>('twilio-supplement.schema.json');
  const create = doc.paths['/2010-04-01/Accounts/{AccountSid}/Messages.json']!.post;
  const ajv = contractAjv();
  validators = {
    accountSid: ajv.compile(create.parameters[0]!.schema),
    // additionalProperties: false, as the contracts recommend for our own requests.
    request: ajv.compile({
      ...create.requestBody.content['application/x-www-form-urlencoded']!.schema,
      additionalProperties: false,
      components: doc.components,
    }),
    message: ajv.compile({ $ref: '#/components/schemas/api.v2010.account.message', components: doc.components }),
    error: ajv.compile({ $ref: '#/definitions/TwilioErrorResponse', definitions: supplement.definitions }),
    callback: ajv.compile({ $ref: '#/definitions/TwilioMessageStatusCallback', definitions: supplement.definitions }),
  };
  return validators;
}

/** Message SIDs: 32 hex digits, a random half per fake and a counter (unique, and cheaper than 16 random bytes each). */
const SID_PREFIX = randomBytes(8).toString('hex');
let sidCounter = 0;
const newSid = () => `SM${SID_PREFIX}${(++sidCounter).toString(16).padStart(16, '0')}`;
const rfc2822 = (date: Date) => date.toUTCString().replace('GMT', '+0000');
const E164 = /^\+[1-9]\d{1,14}$/;

/** Twilio's signature, written here independently of src/ so a mistake on one side shows. */
export function signTwilio(authToken: string, url: string, fields: Record<string, string>): string {
  const payload = Object.keys(fields)
    .sort()
    .reduce((acc, name) => acc + name + fields[name], url);
  return createHmac('sha1', Buffer.from(authToken, 'utf8')).update(Buffer.from(payload, 'utf8')).digest('base64');
}

export class FakeTwilio extends FakeCarrier<TwilioFailure> {
  readonly messages = new Map<string, FakeTwilioMessage>();
  /** Failures for `GET …/Messages/{Sid}.json` only (`fail()` is for creates). */
  readonly fetchFailures = new FailureQueue<TwilioFailure>();
  private readonly validators = compile();

  private constructor(readonly options: FakeTwilioOptions) {
    super('To', options);
  }

  static start(options: FakeTwilioOptions): Promise<FakeTwilio> {
    return new FakeTwilio(options).listen();
  }

  /** Accepted messages whose To is `to`, in order. */
  messagesTo(to: string): FakeTwilioMessage[] {
    return [...this.messages.values()].filter((m) => m.to === to);
  }

  /**
   * Sends one status callback for a message, signed like Twilio's (or with `authToken` to forge one).
   * Resolves when the server has answered (or, retrying, once it has taken it).
   */
  async sendStatus(sid: string, step: CallbackStep, options: { authToken?: string; retry?: boolean; extra?: Record<string, string> } = {}) {
    const message = this.messages.get(sid);
    if (!message?.statusCallback) throw new Error(`no message ${sid} with a StatusCallback`);
    message.status = step.status;
    if (step.errorCode) message.errorCode = Number(step.errorCode);
    const fields: Record<string, string> = {
      AccountSid: message.accountSid,
      ApiVersion: '2010-04-01',
      From: message.from ?? '+15005550006',
      MessageSid: sid,
      MessageStatus: step.status,
      SmsSid: sid,
      SmsStatus: step.status,
      To: message.to,
      ...(message.messagingServiceSid ? { MessagingServiceSid: message.messagingServiceSid } : {}),
      ...(step.errorCode ? { ErrorCode: step.errorCode } : {}),
      ...(step.status === 'delivered' || step.status === 'undelivered' ? { RawDlrDoneDate: '2507011230' } : {}),
      ...options.extra,
    };
    if (this.options.selfCheck !== false && !this.validators.callback(fields))
      throw new Error(`fake Twilio built a bad callback: ${describeErrors(this.validators.callback)}`);
    const signature = signTwilio(options.authToken ?? this.options.authToken, message.statusCallback, fields);
    const body = new URLSearchParams(fields).toString();
    return this.server.deliver(
      {
        url: message.statusCallback,
        method: 'POST',
        fields,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
      },
      options.retry ?? this.options.retryCallbacks ?? true,
      body,
    );
  }

  protected async handle(req: IncomingMessage, res: ServerResponse, raw: string): Promise<void> {
    const url = (req.url ?? '').split('?')[0]!;
    const fields = req.headers['content-type']?.startsWith('application/x-www-form-urlencoded') ? parseForm(raw) : {};
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      this.server.record(req, raw, fields, status);
      sendJson(res, status, body, headers);
    };
    const error = (
      status: number,
      code: number,
      message: string,
      extra: Record<string, string> = {},
      headers: Record<string, string> = {},
    ) => {
      const body = { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status, ...extra };
      if (this.options.selfCheck !== false && !this.validators.error(body))
        throw new Error(`fake Twilio built a bad error: ${describeErrors(this.validators.error)}`);
      answer(status, body, headers);
    };

    const create = req.method === 'POST' ? CREATE.exec(url) : null;
    const fetchOne = req.method === 'GET' ? FETCH.exec(url) : null;
    const accountSid = create?.[1] ?? fetchOne?.[1];
    if (!url.startsWith(BASE) || !accountSid || !this.validators.accountSid(accountSid))
      return error(404, 20404, `The requested resource ${url} was not found`);
    if (!this.authenticated(req, accountSid))
      return error(401, 20003, 'Authenticate', { detail: 'Your AccountSid or AuthToken was incorrect.' });

    if (fetchOne) {
      const failure = this.fetchFailures.take({});
      if (failure?.kind === 'auth') return error(401, 20003, 'Authenticate', { detail: 'Your AccountSid or AuthToken was incorrect.' });
      if (failure?.kind === 'error') return error(failure.status, failure.code, failure.message);
      if (failure && failure.kind !== 'late' && (await this.server.transport(failure, res))) return this.server.record(req, raw, fields, 0);
      const message = this.messages.get(fetchOne[2]!);
      return message ? answer(200, this.resource(message)) : error(404, 20404, `The requested resource ${url} was not found`);
    }

    const injected = this.failures.take(fields);
    if (injected) {
      if (injected.kind === 'auth') return error(401, 20003, 'Authenticate', { detail: 'Your AccountSid or AuthToken was incorrect.' });
      if (injected.kind === 'error')
        return error(
          injected.status,
          injected.code,
          injected.message,
          {},
          injected.retryAfter ? { 'retry-after': injected.retryAfter } : {},
        );
      if (injected.kind !== 'late' && (await this.server.transport(injected, res))) return this.server.record(req, raw, fields, 0);
    }

    if (!req.headers['content-type']?.startsWith('application/x-www-form-urlencoded')) {
      this.server.violations.push(`Content-Type ${req.headers['content-type'] ?? '(none)'} is not a form`);
      return error(400, 21604, "A 'To' phone number is required.");
    }
    if (!this.validators.request({ ...fields })) {
      const detail = describeErrors(this.validators.request);
      this.server.violations.push(`request does not match CreateMessageRequest: ${detail}`);
      return error(400, 20001, `Invalid parameter: ${detail}`);
    }
    const one = (name: string) => {
      const value = fields[name];
      return Array.isArray(value) ? value[0] : value;
    };
    const to = one('To');
    const from = one('From') ?? null;
    const messagingServiceSid = one('MessagingServiceSid') ?? null;
    const body = one('Body');
    const statusCallback = one('StatusCallback') ?? null;
    const validityPeriod = one('ValidityPeriod');
    if (!to) return error(400, 21604, "A 'To' phone number is required.");
    if (!E164.test(to) || !parsePhoneNumberFromString(to)?.isPossible())
      return error(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    if (!from && !messagingServiceSid)
      return error(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message");
    if (body === undefined && fields.MediaUrl === undefined && fields.ContentSid === undefined)
      return error(400, 21602, 'Message body is required.');
    if (body !== undefined && body.length > 1600)
      return error(400, 21617, 'The concatenated message body exceeds the 1600 character limit.');
    if (from && !E164.test(from) && !/^\d{3,8}$/.test(from))
      return error(400, 21212, `The 'From' number ${from} is not a valid phone number, shortcode, or alphanumeric sender ID.`);
    if (from && this.options.numbers && !this.options.numbers.includes(from))
      return error(
        400,
        21606,
        `The From phone number ${from} is not a valid, SMS-capable inbound phone number or short code for your account.`,
      );
    if (statusCallback !== null && !/^https?:\/\/[^/]+\/\S*$/.test(statusCallback)) return error(400, 21609, 'Invalid StatusCallback url');
    if (validityPeriod !== undefined && (Number(validityPeriod) < 1 || Number(validityPeriod) > 36_000))
      return error(400, 21609, 'ValidityPeriod must be from 1 to 36000');

    const text = body ?? '';
    const message: FakeTwilioMessage = {
      sid: newSid(),
      accountSid,
      to,
      from,
      messagingServiceSid,
      body: text,
      statusCallback,
      validityPeriod: validityPeriod === undefined ? null : Number(validityPeriod),
      status: messagingServiceSid ? 'accepted' : 'queued',
      numSegments: carrierSegments(text, !/^[\x20-\x7e\n\r]*$/.test(text)),
      dateCreated: new Date(),
      errorCode: null,
    };
    this.messages.set(message.sid, message);
    const resource = this.resource(message);
    if (this.options.selfCheck !== false && !this.validators.message(resource))
      throw new Error(`fake Twilio built a bad Message: ${describeErrors(this.validators.message)}`);
    if (injected?.kind === 'late') await sleep(injected.ms);
    answer(201, resource);
    if (this.options.callbacks === 'auto' && statusCallback) void this.runSequence(message);
  }

  private async runSequence(message: FakeTwilioMessage): Promise<void> {
    const steps = this.options.sequence?.(message) ?? [{ status: 'sent' }, { status: 'delivered' }];
    for (const step of steps) {
      if (this.server.closed) return;
      await this.sendStatus(message.sid, step);
    }
    if (!this.server.keep) this.messages.delete(message.sid);
  }

  private authenticated(req: IncomingMessage, accountSid: string): boolean {
    const header = req.headers.authorization ?? '';
    if (!header.startsWith('Basic ')) return false;
    const [user, ...rest] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
    return user === this.options.accountSid && rest.join(':') === this.options.authToken && accountSid === this.options.accountSid;
  }

  private resource(m: FakeTwilioMessage): Record<string, unknown> {
    const uri = `${BASE}${m.accountSid}/Messages/${m.sid}`;
    return {
      account_sid: m.accountSid,
      api_version: '2010-04-01',
      body: m.body,
      date_created: rfc2822(m.dateCreated),
      date_sent: null,
      date_updated: rfc2822(m.dateCreated),
      direction: 'outbound-api',
      error_code: m.errorCode,
      error_message: null,
      from: m.from,
      messaging_service_sid: m.messagingServiceSid,
      num_media: '0',
      num_segments: String(m.numSegments),
      price: BILLED.has(m.status) ? `-${(PRICE_PER_SEGMENT * m.numSegments).toFixed(5)}` : null,
      price_unit: 'USD',
      sid: m.sid,
      status: m.status,
      subresource_uris: { media: `${uri}/Media.json` },
      to: m.to,
      uri: `${uri}.json`,
    };
  }
}
