/**
 * Vonage SMS API (test/fakes/contracts/README.md §3): `POST {api}/sms/json` with the key and secret in a form
 * body. Vonage answers HTTP 200 even when it refuses a message: every part carries its own `status`, and
 * anything but "0" is an error. Delivery receipts arrive per part, optionally signed (`sig`, five methods).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { isGsm7 } from '../encoding.js';
import type { VonageSignatureMethod } from '../../instance/settings.js';
import { carrierBusy, type CarrierHttp } from './carrier-http.js';
import {
  permanent,
  priceNanos,
  transient,
  unexpectedAnswer,
  type CarrierPrice,
  type OutboundSms,
  type SendOutcome,
  type SmsDriver,
} from './driver.js';

export interface VonageOptions {
  apiUrl: string;
  apiKey: string;
  apiSecret: string;
  http: CarrierHttp;
}

/** Vonage's `ttl` bounds (ms). */
const MIN_TTL_MS = 20_000;
const MAX_TTL_MS = 604_800_000;

/** Statuses that say "not now" (throttled, internal error, too many binds); the rest will not change by retrying. */
const TRANSIENT_STATUSES = new Set(['1', '5', '10']);

/** The status table of contracts §3.2, for the message we keep when Vonage gives no `error-text`. */
const STATUS_TEXT: Record<string, string> = {
  '1': 'Throttled',
  '2': 'Missing parameters',
  '3': 'Invalid parameters',
  '4': 'Invalid credentials',
  '5': 'Internal error',
  '6': 'Invalid message',
  '7': 'Number barred',
  '8': 'Partner account barred',
  '9': 'Partner quota violation',
  '10': 'Too many existing binds',
  '11': 'Account not enabled for HTTP',
  '12': 'Message too long',
  '14': 'Invalid signature',
  '15': 'Invalid sender address',
  '22': 'Invalid network code',
  '23': 'Invalid callback URL',
  '29': 'Non-whitelisted destination',
  '32': 'Signature and API secret disallowed',
  '33': 'Number de-activated',
};

/** What a send answer's `status` means. */
export function vonageStatusMessage(status: string): string {
  return STATUS_TEXT[status] ?? `Vonage status ${status}`;
}

interface VonagePart {
  status?: unknown;
  'message-id'?: unknown;
  'error-text'?: unknown;
  'message-price'?: unknown;
}

/**
 * The currency of Vonage's prices: neither the send answer nor the receipt names one, and they are in the
 * account's billing currency, which is the euro unless Vonage changed it for the account.
 */
export const VONAGE_CURRENCY = 'EUR';

/** A Vonage price text (`message-price`, a receipt's `price`) as ours; null when absent or not a number. */
export function vonagePrice(text: unknown): CarrierPrice | null {
  const nanos = typeof text === 'string' ? priceNanos(text) : null;
  return nanos === null ? null : { nanos, currency: VONAGE_CURRENCY };
}

/** What the message costs: the sum of its parts' prices, when every part has one. */
function partsPrice(parts: readonly VonagePart[]): CarrierPrice | null {
  const prices = parts.map((part) => vonagePrice(part['message-price']));
  if (prices.some((price) => price === null)) return null;
  return { nanos: prices.reduce((sum, price) => sum + price!.nanos, 0), currency: VONAGE_CURRENCY };
}

export class VonageDriver implements SmsDriver {
  readonly name = 'vonage' as const;
  private readonly url: string;

  constructor(private readonly options: VonageOptions) {
    this.url = `${options.apiUrl}/sms/json`;
  }

  async send(message: OutboundSms, signal?: AbortSignal): Promise<SendOutcome> {
    const sender = message.from ?? message.messagingServiceSid;
    if (!sender) throw permanent('sender_missing', 'no sender: set sms.from_number');
    const form = new URLSearchParams({
      api_key: this.options.apiKey,
      api_secret: this.options.apiSecret,
      // Vonage wants numbers as digits only; an alphanumeric sender id goes as it is.
      from: sender.replace(/^\+/, ''),
      to: message.to.replace(/^\+/, ''),
      text: message.body,
      type: isGsm7(message.body) ? 'text' : 'unicode',
      callback: message.statusCallbackUrl,
      'client-ref': message.id,
    });
    if (message.validitySeconds !== null)
      form.set('ttl', String(Math.min(MAX_TTL_MS, Math.max(MIN_TTL_MS, message.validitySeconds * 1000))));

    const res = await this.options.http.post(
      this.url,
      { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      form.toString(),
      signal,
    );
    if (res.status !== 200) {
      if (res.status === 429 || res.status >= 500) throw carrierBusy('Vonage', res);
      if (res.status === 401 || res.status === 403) throw permanent('4', 'Invalid credentials', res.status);
      throw permanent(`http_${res.status}`, `Vonage answered HTTP ${res.status}`, res.status);
    }
    const parts = parseParts(res.text);
    if (!parts || parts.length === 0) throw unexpectedAnswer('Vonage', res.status);
    const refused = parts.find((p) => String(p.status) !== '0');
    if (refused) {
      const status = String(refused.status);
      const text = typeof refused['error-text'] === 'string' ? refused['error-text'] : vonageStatusMessage(status);
      throw TRANSIENT_STATUSES.has(status) ? transient(status, text, res.status) : permanent(status, text, res.status);
    }
    const first = parts[0]!;
    if (typeof first['message-id'] !== 'string') throw unexpectedAnswer('Vonage', res.status);
    const price = partsPrice(parts);
    return {
      kind: 'accepted',
      carrierMessageId: first['message-id'],
      carrierStatus: '0',
      parts: parts.length,
      httpStatus: res.status,
      ...(price ? { price } : {}),
    };
  }
}

function parseParts(text: string): VonagePart[] | null {
  try {
    const body = JSON.parse(text) as { messages?: unknown };
    return Array.isArray(body.messages) ? (body.messages as VonagePart[]) : null;
  } catch {
    return null;
  }
}

/** What a delivery receipt's status means for ours; null: the carrier is still trying (or does not know). */
export function mapVonageStatus(status: string): 'sent' | 'delivered' | 'undelivered' | 'failed' | null {
  switch (status) {
    case 'accepted':
    case 'buffered':
      return 'sent';
    case 'delivered':
      return 'delivered';
    case 'expired':
      return 'undelivered';
    case 'failed':
    case 'rejected':
      return 'failed';
    default:
      return null;
  }
}

/** DLR `err-code` meanings (Vonage "SMS Delivery Error Codes"; contracts §3.3). */
const DLR_ERRORS: Record<string, string> = {
  '1': 'Unknown',
  '2': 'Absent subscriber (temporary)',
  '3': 'Absent subscriber (permanent)',
  '4': 'Call barred by user',
  '5': 'Portability error',
  '6': 'Anti-spam rejection',
  '7': 'Handset busy',
  '8': 'Network error',
  '9': 'Illegal number',
  '10': 'Illegal message',
  '11': 'Unroutable',
  '12': 'Destination unreachable',
  '13': 'Subscriber age restriction',
  '14': 'Number blocked by carrier',
};

export function vonageDlrErrorMessage(code: string): string {
  return DLR_ERRORS[code] ?? `Vonage delivery error ${code}`;
}

/**
 * Vonage `sig` (contracts §3.4): every parameter but `sig`, sorted by name, as `&name=value` with `&` and `=`
 * inside values replaced by `_`; md5hash appends the secret and hashes, the others are HMACs keyed by it.
 */
export function vonageSignature(params: Readonly<Record<string, string>>, secret: string, method: VonageSignatureMethod): string {
  const base = Object.keys(params)
    .filter((name) => name !== 'sig')
    .sort()
    .map((name) => `&${name}=${params[name]!.replace(/[&=]/g, '_')}`)
    .join('');
  if (method === 'md5hash')
    return createHash('md5')
      .update(base + secret, 'utf8')
      .digest('hex');
  return createHmac(method, secret).update(base, 'utf8').digest('hex').toUpperCase();
}

export type VonageSignatureCheck = 'valid' | 'missing' | 'mismatch' | 'stale';

/** Checks a signed receipt: the signature (any case, constant time) and a `timestamp` within `maxAgeSeconds` of now. */
export function verifyVonageSignature(
  params: Readonly<Record<string, string>>,
  secret: string,
  method: VonageSignatureMethod,
  nowSeconds: number,
  maxAgeSeconds: number,
): VonageSignatureCheck {
  const sig = params.sig;
  if (!sig || !params.timestamp) return 'missing';
  const expected = Buffer.from(vonageSignature(params, secret, method).toLowerCase(), 'utf8');
  const given = Buffer.from(sig.toLowerCase(), 'utf8');
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'mismatch';
  const timestamp = Number(params.timestamp);
  if (!Number.isFinite(timestamp) || Math.abs(nowSeconds - timestamp) > maxAgeSeconds) return 'stale';
  return 'valid';
}
