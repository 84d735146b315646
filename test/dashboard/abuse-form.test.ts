/** The abuse form's patch: only what changed, whole numbers as numbers, anything else as typed; countries tidied. */
import { describe, expect, it } from 'vitest';
import type { InstanceSettings } from '../../src/dashboard/app/api-types.js';
import { defaultSettings } from '../../src/instance/settings.js';
import { abuseDraftFrom, buildAbusePatch, parseCountries } from '../../src/dashboard/app/abuse-form.js';

const view = defaultSettings() as InstanceSettings;

describe('buildAbusePatch', () => {
  it('is empty when nothing changed', () => {
    expect(buildAbusePatch(view, abuseDraftFrom(view))).toEqual({});
  });

  it('sends whole numbers as numbers, only for the fields that changed', () => {
    const draft = abuseDraftFrom(view);
    draft.numbers['abuse.sends_per_phone_number.max'] = ' 3 ';
    draft.numbers['abuse.hourly_send_budget'] = '1000';
    expect(buildAbusePatch(view, draft)).toEqual({ abuse: { sends_per_phone_number: { max: 3 } } });
  });

  it('shows the code lifetime and the wait after wrong codes, and sends a change to either as a nested merge patch', () => {
    const draft = abuseDraftFrom(view);
    expect(draft.numbers).toMatchObject({
      'abuse.code_lifetime_minutes': '10',
      'abuse.wrong_code_backoff.initial_seconds': '60',
      'abuse.wrong_code_backoff.max_seconds': '1920',
    });
    draft.numbers['abuse.code_lifetime_minutes'] = '1';
    draft.numbers['abuse.wrong_code_backoff.max_seconds'] = '600';
    expect(buildAbusePatch(view, draft)).toEqual({ abuse: { code_lifetime_minutes: 1, wrong_code_backoff: { max_seconds: 600 } } });
  });

  it('sends anything else as typed, for the API to explain beside the field', () => {
    const draft = abuseDraftFrom(view);
    draft.numbers['abuse.attempts_per_ip.window_seconds'] = '1.5';
    draft.numbers['abuse.attempts_per_challenge'] = '';
    expect(buildAbusePatch(view, draft)).toEqual({ abuse: { attempts_per_ip: { window_seconds: '1.5' }, attempts_per_challenge: '' } });
  });

  it('sends the country list upper-cased and split on commas or spaces, and the mode when it changed', () => {
    const draft = { ...abuseDraftFrom(view), countryMode: 'deny' as const, countries: ' ru,ng  kp ' };
    expect(buildAbusePatch(view, draft)).toEqual({ abuse: { sms_countries: { mode: 'deny', countries: ['RU', 'NG', 'KP'] } } });
    expect(buildAbusePatch(view, { ...abuseDraftFrom(view), countries: 'US,CA' })).toEqual({});
    expect(parseCountries('')).toEqual([]);
  });
});
