/**
 * Twilio Programmable Messaging (test/fakes/contracts/README.md §2): `POST {api}/2010-04-01/Accounts/{sid}/Messages.json`
 * with HTTP Basic (account SID : auth token) and a form body; status callbacks signed with X-Twilio-Signature.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import querystring from 'node:querystring';
import { basicAuth, carrierBusy, retryAfterMs, type CarrierHttp } from './carrier-http.js';
import {
  permanent,
  priceNanos,
  transient,
  unexpectedAnswer,
  type CarrierPrice,
  type CarrierStatus,
  type OutboundSms,
  type SendOutcome,
  type SmsDriver,
} from './driver.js';

export interface TwilioOptions {
  apiUrl: string;
  accountSid: string;
  authToken: string;
  http: CarrierHttp;
}

/** Twilio keeps a message at most this long in its queue (ValidityPeriod, seconds). */
const MAX_VALIDITY_SECONDS = 36_000;

/** Error codes Twilio uses for "try again later"; every other 4xx is about the request and will not change. */
const TRANSIENT_CODES = new Set([20429, 30001]);

export class TwilioDriver implements SmsDriver {
  readonly name = 'twilio' as const;
  private readonly url: string;
  private readonly authorization: string;

  constructor(private readonly options: TwilioOptions) {
    this.url = `${options.apiUrl}/2010-04-01/Accounts/${encodeURIComponent(options.accountSid)}/Messages.json`;
    this.authorization = basicAuth(options.accountSid, options.authToken);
  }

  /** `GET …/Messages/{Sid}.json` (FetchMessage, contracts §2): 200 with the message, 404 (code 20404) when unknown. */
  async fetchStatus(carrierMessageId: string, signal?: AbortSignal): Promise<CarrierStatus | null> {
    const url = this.url.replace(/\.json$/, `/${encodeURIComponent(carrierMessageId)}.json`);
    const res = await this.options.http.get(url, { authorization: this.authorization, accept: 'application/json' }, signal);
    const body = parseJson(res.text);
    if (res.status === 200 && typeof body?.status === 'string') {
      const price = twilioPrice(body);
      return {
        status: body.status,
        errorCode: body.error_code === null || body.error_code === undefined ? null : String(body.error_code),
        ...(price ? { price } : {}),
      };
    }
    if (res.status === 404) return null;
    if (res.status === 429 || res.status >= 500) throw carrierBusy('Twilio', res);
    const code = typeof body?.code === 'number' ? String(body.code) : `http_${res.status}`;
    throw permanent(code, typeof body?.message === 'string' ? body.message : `Twilio answered HTTP ${res.status}`, res.status);
  }

  async send(message: OutboundSms, signal?: AbortSignal): Promise<SendOutcome> {
    const form = new URLSearchParams({ To: message.to });
    if (message.messagingServiceSid) form.set('MessagingServiceSid', message.messagingServiceSid);
    else if (message.from) form.set('From', message.from);
    else throw permanent('sender_missing', 'no sender: set sms.from_number or sms.twilio.messaging_service_sid');
    form.set('Body', message.body);
    form.set('StatusCallback', message.statusCallbackUrl);
    if (message.validitySeconds !== null)
      form.set('ValidityPeriod', String(Math.min(MAX_VALIDITY_SECONDS, Math.max(1, message.validitySeconds))));

    const res = await this.options.http.post(
      this.url,
      { authorization: this.authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      form.toString(),
      signal,
    );
    const body = parseJson(res.text);
    if (res.status === 201 && typeof body?.sid === 'string') {
      return {
        kind: 'accepted',
        carrierMessageId: body.sid,
        carrierStatus: String(body.status ?? 'queued'),
        parts: Number(body.num_segments ?? 1) || 1,
        httpStatus: res.status,
      };
    }
    const code = typeof body?.code === 'number' ? body.code : null;
    if (code === null || typeof body?.message !== 'string') {
      if (res.status === 429 || res.status >= 500) throw carrierBusy('Twilio', res);
      throw res.status >= 400 && res.status < 500
        ? permanent(`http_${res.status}`, `Twilio answered HTTP ${res.status}`, res.status)
        : unexpectedAnswer('Twilio', res.status);
    }
    if (res.status === 429 || res.status >= 500 || TRANSIENT_CODES.has(code)) {
      throw transient(String(code), body.message, res.status, retryAfterMs(res.headers['retry-after'], Date.now()));
    }
    throw permanent(String(code), body.message, res.status);
  }
}

interface TwilioBody {
  sid?: unknown;
  status?: unknown;
  error_code?: unknown;
  num_segments?: unknown;
  price?: unknown;
  price_unit?: unknown;
  code?: unknown;
  message?: unknown;
}

/** The message's `price` (negative: a charge) in `price_unit`, once Twilio has set both. */
function twilioPrice(body: TwilioBody): CarrierPrice | null {
  const nanos = typeof body.price === 'string' ? priceNanos(body.price) : null;
  if (nanos === null || typeof body.price_unit !== 'string' || !/^[A-Z]{3}$/.test(body.price_unit)) return null;
  return { nanos, currency: body.price_unit };
}

function parseJson(text: string): TwilioBody | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as TwilioBody) : null;
  } catch {
    return null;
  }
}

/** What a Twilio message status means for ours; null: an intermediate step that changes nothing. */
export function mapTwilioStatus(status: string): 'sent' | 'delivered' | 'undelivered' | 'failed' | null {
  switch (status) {
    case 'sent':
      return 'sent';
    case 'delivered':
    case 'read':
      return 'delivered';
    case 'undelivered':
      return 'undelivered';
    case 'failed':
    case 'canceled':
      return 'failed';
    default:
      // queued, accepted, scheduled, sending, receiving, received, partially_delivered, and whatever Twilio adds.
      return null;
  }
}

/**
 * What Twilio's error codes mean (contracts §2.2): a status callback carries only the code, and the delivery page
 * names the codes of refused sends too.
 */
const ERRORS: Record<string, string> = {
  '20003': 'Authentication failed',
  '20404': 'Message not found',
  '20429': 'Too many requests',
  '21211': "Invalid 'To' number",
  '21212': "Invalid 'From' number",
  '21408': 'Region not permitted by geo permissions',
  '21602': 'Message body required',
  '21604': "'To' number required",
  '21606': "'From' number not SMS-capable for this account",
  '21608': 'Trial account: unverified number',
  '21610': 'Recipient opted out',
  '21612': 'To/From combination cannot be routed',
  '21614': "'To' number is not a mobile number",
  '21617': 'Message body too long',
  '30001': 'Queue overflow',
  '30002': 'Account suspended',
  '30003': 'Unreachable destination handset',
  '30004': 'Message blocked',
  '30005': 'Unknown destination handset',
  '30006': 'Landline or unreachable carrier',
  '30007': 'Message filtered by the carrier',
  '30008': 'Unknown error',
};

export function twilioErrorMessage(code: string): string {
  return ERRORS[code] ?? `Twilio error ${code}`;
}

export type FormParams = Record<string, string | string[]>;

/** base64(HMAC-SHA1(auth token, url + every parameter as name+value, sorted by name)), contracts §2.5. */
export function twilioSignature(authToken: string, url: string, params: FormParams): string {
  let data = url;
  for (const name of Object.keys(params).sort()) {
    const value = params[name]!;
    for (const item of Array.isArray(value) ? [...new Set(value)].sort() : [value]) data += name + item;
  }
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/**
 * The URLs Twilio may have signed for one callback URL: without and with the port (the scheme's default
 * when none is given), each also with its query string re-encoded the legacy way (contracts §2.5 a–d).
 */
export function twilioUrlForms(url: string): string[] {
  const parsed = new URL(url);
  const withoutPort = new URL(parsed.toString());
  withoutPort.port = '';
  const withPort = parsed.port
    ? parsed.toString()
    : `${parsed.protocol}//${parsed.host}:${parsed.protocol === 'https:' ? 443 : 80}${parsed.pathname}${parsed.search}${parsed.hash}`;
  const forms = [withoutPort.toString(), withPort];
  if (parsed.search) {
    for (const form of [...forms]) {
      const at = form.indexOf('?');
      const hash = form.indexOf('#', at);
      const query = form.slice(at + 1, hash === -1 ? undefined : hash);
      forms.push(`${form.slice(0, at + 1)}${querystring.stringify(querystring.parse(query))}${hash === -1 ? '' : form.slice(hash)}`);
    }
  }
  return [...new Set(forms)];
}

/**
 * Whether `signature` signs these parameters for `url` or another form of it. Each comparison is constant-time;
 * the URL exactly as given (the usual case) is tried first, so most callbacks cost one HMAC.
 */
export function verifyTwilioSignature(authToken: string, signature: string | undefined, url: string, params: FormParams): boolean {
  if (!signature) return false;
  const given = Buffer.from(signature, 'utf8');
  const matches = (form: string) => {
    const expected = Buffer.from(twilioSignature(authToken, form, params), 'utf8');
    return expected.length === given.length && timingSafeEqual(expected, given);
  };
  return matches(url) || twilioUrlForms(url).some((form) => form !== url && matches(form));
}
