/** The routing step's changes: only what changed, the route list whole, and refused countries named by their code. */
import { describe, expect, it } from 'vitest';
import type { InstanceSettings } from '../../src/dashboard/app/api-types.js';
import {
  addRoutingChanges,
  nameRouteCountries,
  newRoute,
  routingDraftFrom,
  type RoutingDraft,
} from '../../src/dashboard/app/routing-form.js';
import type { JsonPatch } from '../../src/dashboard/app/settings-form.js';
import { defaultSettings } from '../../src/instance/settings.js';

const view: InstanceSettings = (() => {
  const defaults = defaultSettings();
  return {
    ...defaults,
    sms: { ...defaults.sms, driver: 'twilio', routes: [{ countries: ['GB', 'DE'], driver: 'vonage', failover_driver: null }] },
  };
})();

function changes(edit: Partial<RoutingDraft>): JsonPatch {
  const patch: JsonPatch = {};
  addRoutingChanges(patch, view, { ...routingDraftFrom(view), ...edit });
  return patch;
}

describe('addRoutingChanges', () => {
  it('adds nothing when nothing changed', () => {
    expect(changes({})).toEqual({});
    // The same templates in another order are the same setting.
    expect(changes({ receiptWaitTemplates: ['verification_code'] })).toEqual({});
  });

  it('sends the whole route list when a route changed, countries upper-cased', () => {
    const draft = routingDraftFrom(view);
    expect(changes({ routes: [{ ...draft.routes[0]!, countries: 'gb de,fr', failover: 'twilio' }] })).toEqual({
      sms: { routes: [{ countries: ['GB', 'DE', 'FR'], driver: 'vonage', failover_driver: 'twilio' }] },
    });
    expect(changes({ routes: [] })).toEqual({ sms: { routes: [] } });
  });

  it('a new route goes through the driver that is not the first one', () => {
    expect(newRoute(view)).toEqual({ countries: '', driver: 'vonage', failover: 'instance' });
    expect(newRoute({ ...view, sms: { ...view.sms, driver: 'vonage' } }).driver).toBe('twilio');
  });

  it('sends the failover settings that changed; a number as typed when it is not a whole number; no wait as null', () => {
    expect(changes({ failoverDriver: 'vonage', afterTransientFailures: '4', receiptWait: false })).toEqual({
      sms: { failover: { driver: 'vonage', after_transient_failures: 4, receipt_wait_seconds: null } },
    });
    expect(
      changes({ afterTransientFailures: '2.5', receiptWaitSeconds: ' 90 ', receiptWaitTemplates: ['invitation', 'verification_code'] }),
    ).toEqual({
      sms: {
        failover: {
          after_transient_failures: '2.5',
          receipt_wait_seconds: 90,
          receipt_wait_templates: ['verification_code', 'invitation'],
        },
      },
    });
  });
});

describe('nameRouteCountries', () => {
  const error = (param: string, longMessage: string) => ({
    code: 'form_param_value_invalid',
    message: 'Invalid',
    long_message: longMessage,
    meta: { param_name: param },
  });
  const sent = [{ countries: ['GB', 'UK'], driver: 'vonage' as const, failover_driver: null }];

  it('names a refused country by the code that was sent, leaving other errors as they are', () => {
    expect(
      nameRouteCountries(
        [error('sms.routes.0.countries.1', 'sms.routes.0.countries.1 must be an upper-case ISO 3166-1 alpha-2 country code')],
        sent,
      )[0]!.long_message,
    ).toBe('sms.routes.0.countries: UK must be an upper-case ISO 3166-1 alpha-2 country code');
    const other = error(
      'sms.routes.0.driver',
      'sms.routes.0.driver is vonage, whose settings are incomplete: sms.vonage.api_key is not set',
    );
    expect(nameRouteCountries([other], sent)).toEqual([other]);
    const unknownEntry = error(
      'sms.routes.3.countries.0',
      'sms.routes.3.countries.0 must be an upper-case ISO 3166-1 alpha-2 country code',
    );
    expect(nameRouteCountries([unknownEntry], sent)).toEqual([unknownEntry]);
  });
});
