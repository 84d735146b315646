/** Signature algorithms against the contracts' vectors: our verifiers (src/) and the fakes' signers (test/fakes/). */
import { describe, expect, it } from 'vitest';
import { twilioSignature, twilioUrlForms, verifyTwilioSignature } from '../../src/sms/drivers/twilio.js';
import { verifyVonageSignature, vonageSignature } from '../../src/sms/drivers/vonage.js';
import type { VonageSignatureMethod } from '../../src/instance/settings.js';
import { readContract } from '../fakes/common.js';
import { signTwilio } from '../fakes/twilio.js';
import { signVonage } from '../fakes/vonage.js';

interface TwilioVector {
  name: string;
  authToken: string;
  url: string;
  params: Record<string, string | string[]>;
  expectedSignature: string;
  alsoAcceptedByTwilioNode?: { url: string; signature: string }[];
}
interface VonageVector {
  name: string;
  method: VonageSignatureMethod;
  signatureSecret: string;
  params: Record<string, string>;
  expectedSig: string;
}
const vectors = readContract<{
  twilio: { vectors: TwilioVector[] };
  vonage: {
    vectors: VonageVector[];
    upstreamCrossCheck: { signatureSecret: string; params: Record<string, string>; expected: Record<VonageSignatureMethod, string> };
  };
}>('signature-vectors.json');

describe('X-Twilio-Signature', () => {
  it.each(vectors.twilio.vectors.map((v) => [v.name, v] as const))('%s: computes and verifies the expected signature', (_name, v) => {
    expect(twilioSignature(v.authToken, v.url, v.params)).toBe(v.expectedSignature);
    expect(verifyTwilioSignature(v.authToken, v.expectedSignature, v.url, v.params)).toBe(true);
    for (const alt of v.alsoAcceptedByTwilioNode ?? []) {
      expect(twilioSignature(v.authToken, alt.url, v.params)).toBe(alt.signature);
      // Signed over the other URL form, still accepted for our URL (contracts §2.5 a/b).
      expect(verifyTwilioSignature(v.authToken, alt.signature, v.url, v.params)).toBe(true);
    }
  });

  it('reproduces twilio-node’s own vector, with and without :443', () => {
    const params = { CallSid: 'CA1234567890ABCDE', Caller: '+14158675309', Digits: '1234', From: '+14158675309', To: '+18005551212' };
    const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
    expect(twilioSignature('12345', url, params)).toBe('RSOYDt4T1cUTdK1PDd93/VVr8B8=');
    expect(verifyTwilioSignature('12345', 'kvajT1Ptam85bY51eRf/AJRuM3w=', url, params)).toBe(true);
  });

  it('tries the four URL forms: port removed, default port added, and the legacy query encoding of each', () => {
    // WHATWG parsing writes ' as %27; the legacy encoding writes it back as ': both are accepted.
    expect(twilioUrlForms("https://x.test/cb?a='b'").sort()).toEqual(
      ["https://x.test/cb?a='b'", 'https://x.test/cb?a=%27b%27', "https://x.test:443/cb?a='b'", 'https://x.test:443/cb?a=%27b%27'].sort(),
    );
    expect(twilioUrlForms('http://127.0.0.1:8443/cb')).toEqual(['http://127.0.0.1/cb', 'http://127.0.0.1:8443/cb']);
  });

  it('refuses a wrong token, a changed field, an extra field and a missing header', () => {
    const [v] = vectors.twilio.vectors;
    expect(verifyTwilioSignature('0'.repeat(32), v!.expectedSignature, v!.url, v!.params)).toBe(false);
    expect(verifyTwilioSignature(v!.authToken, v!.expectedSignature, v!.url, { ...v!.params, MessageStatus: 'sent' })).toBe(false);
    expect(verifyTwilioSignature(v!.authToken, v!.expectedSignature, v!.url, { ...v!.params, Extra: '1' })).toBe(false);
    expect(verifyTwilioSignature(v!.authToken, undefined, v!.url, v!.params)).toBe(false);
  });

  it('the fake signs exactly like the vectors', () => {
    for (const v of vectors.twilio.vectors.filter((x) => Object.values(x.params).every((p) => typeof p === 'string'))) {
      expect(signTwilio(v.authToken, v.url, v.params as Record<string, string>)).toBe(v.expectedSignature);
    }
  });
});

describe('Vonage sig', () => {
  it.each(vectors.vonage.vectors.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    expect(vonageSignature(v.params, v.signatureSecret, v.method)).toBe(v.expectedSig);
    expect(signVonage(v.params, v.signatureSecret, v.method)).toBe(v.expectedSig);
  });

  it.each(['md5hash', 'md5', 'sha1', 'sha256', 'sha512'] as const)('reproduces the Vonage SDK vector for %s', (method) => {
    const { signatureSecret, params, expected } = vectors.vonage.upstreamCrossCheck;
    expect(vonageSignature(params, signatureSecret, method)).toBe(expected[method]);
  });

  it('verifies receipts case-insensitively, and refuses forged, unsigned and stale ones', () => {
    const dlr = vectors.vonage.vectors.filter((v) => v.name.startsWith('vonage-dlr-'));
    expect(dlr).toHaveLength(5);
    for (const v of dlr) {
      const now = Number(v.params.timestamp);
      const signed = { ...v.params, sig: v.expectedSig };
      expect(verifyVonageSignature(signed, v.signatureSecret, v.method, now, 300)).toBe('valid');
      expect(verifyVonageSignature({ ...signed, sig: v.expectedSig.toLowerCase() }, v.signatureSecret, v.method, now, 300)).toBe('valid');
      expect(verifyVonageSignature({ ...signed, sig: v.expectedSig.toUpperCase() }, v.signatureSecret, v.method, now, 300)).toBe('valid');
      expect(verifyVonageSignature({ ...signed, status: 'failed' }, v.signatureSecret, v.method, now, 300)).toBe('mismatch');
      expect(verifyVonageSignature(signed, 'another-secret-value', v.method, now, 300)).toBe('mismatch');
      expect(verifyVonageSignature(v.params, v.signatureSecret, v.method, now, 300)).toBe('missing');
      expect(verifyVonageSignature(signed, v.signatureSecret, v.method, now + 301, 300)).toBe('stale');
      expect(verifyVonageSignature(signed, v.signatureSecret, v.method, now - 301, 300)).toBe('stale');
    }
  });
});
