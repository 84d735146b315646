/**
 * A fake Vonage SMS API on a loopback port, following test/fakes/contracts (§3 of its README):
 * - `POST /sms/json`, form or JSON body, credentials in the body or a Basic header, or a signed request
 *   (`timestamp` + `sig`, five methods). Validated against the `NewMessage` schema (with the `sig` length
 *   relaxed, as the contracts say). Answers HTTP 200 with `message-count` / `messages[]` and string values;
 *   refusals are per-message statuses (2 missing, 3 invalid, 4 credentials, 14 signature, 23 callback, 32…).
 * - One delivery receipt per part to the per-message `callback`, as JSON (default), a form or a GET query,
 *   signed with `timestamp`, `nonce` and `sig` when a signature secret is set; automatically or by hand.
 * - Injected failures: any status code, HTTP errors (401, 429, 5xx), slow, hanging or reset responses.
 */
import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ValidateFunction } from 'ajv';
import {
  FakeCarrier,
  carrierSegments,
  contractAjv,
  describeErrors,
  parseForm,
  readContract,
  sendJson,
  type TransportFailure,
} from './common.js';

export type VonageMethod = 'md5hash' | 'md5' | 'sha1' | 'sha256' | 'sha512';
export type ReceiptMethod = 'json' | 'form' | 'get';

export type VonageFailure =
  | TransportFailure
  | { kind: 'status'; status: string; errorText: string }
  | { kind: 'http'; status: number; retryAfter?: string };

export const VONAGE_FAILURES = {
  throttled: { kind: 'status', status: '1', errorText: 'Throttled' },
  invalidCredentials: { kind: 'status', status: '4', errorText: 'Bad Credentials' },
  internalError: { kind: 'status', status: '5', errorText: 'Internal Error' },
  invalidMessage: { kind: 'status', status: '6', errorText: 'Invalid Message' },
  numberBarred: { kind: 'status', status: '7', errorText: 'Number barred.' },
  nonWhitelisted: { kind: 'status', status: '29', errorText: 'Non-White-listed Destination - rejected' },
  serverError: { kind: 'http', status: 500 },
  tooManyRequests: { kind: 'http', status: 429, retryAfter: '1' },
  unauthorized: { kind: 'http', status: 401 },
} as const satisfies Record<string, VonageFailure>;

export interface FakeVonagePart {
  messageId: string;
  index: number;
  request: Record<string, string>;
}

export interface ReceiptStep {
  status: string;
  errCode?: string;
}

export interface FakeVonageOptions {
  apiKey: string;
  apiSecret: string;
  /** Signs receipts (and verifies signed requests) when set. */
  signatureSecret?: string;
  signatureMethod?: VonageMethod;
  receipts?: 'auto' | 'manual';
  receiptMethod?: ReceiptMethod;
  sequence?: (part: FakeVonagePart) => ReceiptStep[];
  retryReceipts?: boolean;
}

let newMessage: ValidateFunction | null = null;

function compile(): ValidateFunction {
  if (newMessage) return newMessage;
  const doc = readContract<{ components: { schemas: Record<string, { properties: Record<string, { maxLength?: number }> }> } }>(
    'vonage-sms.openapi.json',
  );
  const schemas = structuredClone(doc.components.schemas);
  // Real signatures are up to 128 hex characters (sha512); the spec's 60 is a known bug (contracts §3.1).
  schemas.NewMessage!.properties.sig!.maxLength = 128;
  newMessage = contractAjv().compile({ $ref: '#/components/schemas/NewMessage', components: { schemas } });
  return newMessage;
}

/** Vonage's `sig`, written here independently of src/ so a mistake on one side shows. */
export function signVonage(fields: Record<string, string>, secret: string, method: VonageMethod): string {
  const base = Object.entries(fields)
    .filter(([name]) => name !== 'sig')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `&${name}=${value.split('&').join('_').split('=').join('_')}`)
    .join('');
  if (method === 'md5hash')
    return createHash('md5')
      .update(Buffer.from(base + secret, 'utf8'))
      .digest('hex');
  return createHmac(method, Buffer.from(secret, 'utf8')).update(Buffer.from(base, 'utf8')).digest('hex').toUpperCase();
}

const pad = (n: number) => String(n).padStart(2, '0');

export class FakeVonage extends FakeCarrier<VonageFailure> {
  readonly parts = new Map<string, FakeVonagePart>();
  /** Whether answers to sends carry `message-price` (false: the cost is known only from the receipts). */
  priced = true;
  private readonly validate = compile();

  private constructor(readonly options: FakeVonageOptions) {
    super('to');
  }

  static start(options: FakeVonageOptions): Promise<FakeVonage> {
    return new FakeVonage(options).listen();
  }

  /** Sends one delivery receipt for a part; `secret` forges it, `timestamp` ages it, `unsigned` leaves `sig` out. */
  async sendReceipt(
    messageId: string,
    step: ReceiptStep,
    options: { method?: ReceiptMethod; secret?: string; timestamp?: number; unsigned?: boolean; retry?: boolean } = {},
  ) {
    const part = this.parts.get(messageId);
    if (!part?.request.callback) throw new Error(`no part ${messageId} with a callback`);
    const now = new Date();
    const fields: Record<string, string> = {
      msisdn: part.request.to!,
      to: part.request.from!,
      'network-code': '23410',
      messageId,
      price: '0.03330000',
      status: step.status,
      scts: `${pad(now.getUTCFullYear() % 100)}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}`,
      'err-code': step.errCode ?? (step.status === 'delivered' ? '0' : '1'),
      'api-key': this.options.apiKey,
      ...(part.request['client-ref'] ? { 'client-ref': part.request['client-ref'] } : {}),
      'message-timestamp': now.toISOString().slice(0, 19).replace('T', ' '),
    };
    const secret = options.secret ?? this.options.signatureSecret;
    if (secret && !options.unsigned) {
      fields.timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
      fields.nonce = randomUUID();
      fields.sig = signVonage(fields, secret, this.options.signatureMethod ?? 'md5hash');
    }
    const method = options.method ?? this.options.receiptMethod ?? 'json';
    const retry = options.retry ?? this.options.retryReceipts ?? true;
    if (method === 'get') {
      const url = `${part.request.callback}${part.request.callback.includes('?') ? '&' : '?'}${new URLSearchParams(fields).toString()}`;
      return this.server.deliver({ url, method: 'GET', fields, headers: {} }, retry, null);
    }
    const json = method === 'json';
    const body = json ? JSON.stringify(fields) : new URLSearchParams(fields).toString();
    return this.server.deliver(
      {
        url: part.request.callback,
        method: 'POST',
        fields,
        headers: { 'content-type': json ? 'application/json' : 'application/x-www-form-urlencoded' },
      },
      retry,
      body,
    );
  }

  protected async handle(req: IncomingMessage, res: ServerResponse, raw: string): Promise<void> {
    const type = req.headers['content-type'] ?? '';
    let fields: Record<string, string> = {};
    if (type.startsWith('application/json')) {
      try {
        fields = Object.fromEntries(Object.entries(JSON.parse(raw) as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
      } catch {
        this.server.violations.push('JSON body does not parse');
      }
    } else if (type.startsWith('application/x-www-form-urlencoded')) {
      fields = Object.fromEntries(Object.entries(parseForm(raw)).map(([k, v]) => [k, Array.isArray(v) ? v[0]! : v]));
    } else {
      this.server.violations.push(`Content-Type ${type || '(none)'} is neither a form nor JSON`);
    }
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      this.server.record(req, raw, fields, status);
      sendJson(res, status, body, headers);
    };
    const refuse = (status: string, errorText: string) =>
      answer(200, { 'message-count': '1', messages: [{ status, 'error-text': errorText }] });

    if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== '/sms/json') {
      this.server.violations.push(`${req.method} ${req.url} is not POST /sms/json`);
      return answer(404, { type: 'https://developer.nexmo.com/api-errors#not-found', title: 'Not Found' });
    }
    const basic = req.headers.authorization?.startsWith('Basic ')
      ? Buffer.from(req.headers.authorization.slice(6), 'base64').toString('utf8').split(':')
      : null;
    if (basic) {
      fields.api_key ??= basic[0]!;
      fields.api_secret ??= basic.slice(1).join(':');
    }

    const injected = this.failures.take(fields);
    if (injected) {
      if (injected.kind === 'status') return refuse(injected.status, injected.errorText);
      if (injected.kind === 'http')
        return answer(
          injected.status,
          { type: 'about:blank', title: `HTTP ${injected.status}` },
          injected.retryAfter ? { 'retry-after': injected.retryAfter } : {},
        );
      if (await this.server.transport(injected, res)) return this.server.record(req, raw, fields, 0);
    }

    for (const name of ['api_key', 'from', 'to'] as const) if (!fields[name]) return refuse('2', `Missing ${name} param`);
    if ((fields.type ?? 'text') === 'text' || fields.type === 'unicode')
      if (fields.text === undefined) return refuse('2', 'Missing text param');
    if (!this.validate({ ...fields })) {
      const detail = describeErrors(this.validate);
      this.server.violations.push(`request does not match NewMessage: ${detail}`);
      return refuse('3', `Invalid parameters: ${detail}`);
    }
    // The spec's pattern is not anchored; a real number is digits only, without the plus.
    if (!/^\d{7,15}$/.test(fields.to!)) return refuse('3', 'Invalid to param');
    if (fields.sig !== undefined) {
      if (fields.api_secret !== undefined) return refuse('32', 'Signature and API secret disallowed');
      const secret = this.options.signatureSecret;
      if (!secret || signVonage(fields, secret, this.options.signatureMethod ?? 'md5hash').toLowerCase() !== fields.sig.toLowerCase())
        return refuse('14', 'Invalid Signature');
    } else if (fields.api_secret !== this.options.apiSecret) {
      return refuse('4', 'Bad Credentials');
    }
    if (fields.api_key !== this.options.apiKey) return refuse('4', 'Bad Credentials');
    if (fields.callback !== undefined && !/^https?:\/\/[^\s]+$/.test(fields.callback)) return refuse('23', 'Invalid Callback Url');
    const text = fields.text ?? '';
    const unicode = fields.type === 'unicode';
    // Not what Vonage refuses, but what garbles a message on the handset: our driver must say unicode.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the range is Latin-1 from its first code point, control characters included
    if (!unicode && /[^\x00-\xff€]/.test(text)) this.server.violations.push('type=text with characters outside GSM-7');

    const parts = carrierSegments(text, unicode);
    const messages = Array.from({ length: parts }, (_, index) => {
      const messageId = randomBytes(8).toString('hex').toUpperCase();
      const part: FakeVonagePart = { messageId, index, request: fields };
      this.parts.set(messageId, part);
      return {
        to: fields.to,
        'message-id': messageId,
        status: '0',
        'remaining-balance': '3.14159265',
        ...(this.priced ? { 'message-price': '0.03330000' } : {}),
        network: '23410',
        ...(fields['client-ref'] ? { 'client-ref': fields['client-ref'] } : {}),
      };
    });
    answer(200, { 'message-count': String(parts), messages });
    if (this.options.receipts === 'auto' && fields.callback) {
      for (const { 'message-id': id } of messages) void this.runSequence(this.parts.get(id)!);
    }
  }

  private async runSequence(part: FakeVonagePart): Promise<void> {
    for (const step of this.options.sequence?.(part) ?? [{ status: 'delivered', errCode: '0' }]) {
      if (this.server.closed) return;
      await this.sendReceipt(part.messageId, step);
    }
  }
}
