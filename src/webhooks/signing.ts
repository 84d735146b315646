/**
 * Standard Webhooks signing (the `standardwebhooks` library): `whsec_` secrets, and the `webhook-id`,
 * `webhook-timestamp` and `webhook-signature` headers. During a rotation the header carries one signature per
 * live secret, space-separated, so receivers holding either secret verify.
 */
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** 24 random bytes, as Svix makes them: `whsec_` + 32 base64 characters. */
export function generateSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** Headers for one attempt; `at` (ms) becomes `webhook-timestamp` in seconds, as the spec has it. */
export function signedHeaders(secrets: readonly string[], messageId: string, at: number, body: string): SignedHeaders {
  const when = new Date(at);
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(at / 1000)),
    'webhook-signature': secrets.map((secret) => new Webhook(secret).sign(messageId, when, body)).join(' '),
  };
}
