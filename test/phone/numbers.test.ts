/** Recipient numbers: normalisation, refusals, the test range, and answers that stay right when served again. */
import { describe, expect, it } from 'vitest';
import { parseRecipient } from '../../src/phone/numbers.js';

describe('parseRecipient', () => {
  it('normalises an international number written with spaces, dashes, dots and brackets', () => {
    expect(parseRecipient('+44 (20) 7946-0958')).toEqual({ ok: true, e164: '+442079460958', country: 'GB' });
    expect(parseRecipient('+1.415.555.2671')).toEqual({ ok: true, e164: '+14155552671', country: 'US' });
  });

  it('refuses what is not E.164, and numbers no range holds', () => {
    expect(parseRecipient('4155552671')).toMatchObject({ ok: false, reason: expect.stringContaining('E.164') });
    expect(parseRecipient('+1415555267')).toEqual({ ok: false, reason: 'is not a valid phone number' });
  });

  it('accepts the reserved test range as is', () => {
    expect(parseRecipient('+15555550142')).toEqual({ ok: true, e164: '+15555550142', country: 'US' });
  });

  it('answers the same input alike every time, and no caller can change a served answer', () => {
    const first = parseRecipient('+33 6 12 34 56 78');
    expect(() => Object.assign(first, { e164: '+10000000000' })).toThrow(TypeError);
    expect(parseRecipient('+33 6 12 34 56 78')).toEqual({ ok: true, e164: '+33612345678', country: 'FR' });
  });

  it('stays right past the number of answers it keeps', () => {
    for (let i = 0; i < 3_000; i++)
      expect(parseRecipient(`+1415${2_000_000 + i}`)).toMatchObject({ ok: true, e164: `+1415${2_000_000 + i}` });
    expect(parseRecipient('+1415555267')).toEqual({ ok: false, reason: 'is not a valid phone number' });
    expect(parseRecipient('+14152000000')).toEqual({ ok: true, e164: '+14152000000', country: 'US' });
  });
});
