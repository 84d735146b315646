import { describe, expect, it } from 'vitest';
import { patchSettings } from '../../src/instance/settings.js';
import { routeFor } from '../../src/sms/routing.js';

/** Twilio first everywhere, Vonage first for GB and DE (falling back to Twilio), Twilio alone for FR. */
const sms = patchSettings({
  sms: {
    driver: 'twilio',
    routes: [
      { countries: ['GB', 'DE'], driver: 'vonage', failover_driver: 'twilio' },
      { countries: ['FR'], driver: 'twilio', failover_driver: null },
    ],
  },
}).sms;

describe('routeFor', () => {
  it('sends a routed country through its route, the rest through sms.driver', () => {
    expect(routeFor(sms, 'GB')).toEqual({ first: 'vonage', failover: 'twilio' });
    expect(routeFor(sms, 'DE')).toEqual({ first: 'vonage', failover: 'twilio' });
    expect(routeFor(sms, 'US')).toEqual({ first: 'twilio', failover: null });
    expect(routeFor(sms, 'FR')).toEqual({ first: 'twilio', failover: null });
  });

  it('a number of no known country takes the instance-wide drivers', () => {
    expect(routeFor(sms, null)).toEqual({ first: 'twilio', failover: null });
    expect(routeFor({ ...sms, failover: { ...sms.failover, driver: 'vonage' } }, null)).toEqual({ first: 'twilio', failover: 'vonage' });
  });

  it('a route without a failover driver of its own takes sms.failover.driver, unless it is the route driver', () => {
    const withFailover = { ...sms, failover: { ...sms.failover, driver: 'vonage' as const } };
    expect(routeFor(withFailover, 'FR')).toEqual({ first: 'twilio', failover: 'vonage' });
    expect(routeFor(withFailover, 'US')).toEqual({ first: 'twilio', failover: 'vonage' });
    const vonageOnly = { ...withFailover, routes: [{ countries: ['GB'], driver: 'vonage' as const, failover_driver: null }] };
    expect(routeFor(vonageOnly, 'GB')).toEqual({ first: 'vonage', failover: null });
  });

  it('never fails over from the null driver', () => {
    const nullDriver = { ...sms, driver: null, failover: { ...sms.failover, driver: 'vonage' as const } };
    expect(routeFor(nullDriver, 'US')).toEqual({ first: null, failover: null });
    expect(routeFor(nullDriver, 'GB')).toEqual({ first: 'vonage', failover: 'twilio' });
  });

  it('with no routes and no failover, everything goes through sms.driver alone', () => {
    const plain = patchSettings({}).sms;
    expect(routeFor(plain, 'GB')).toEqual({ first: null, failover: null });
    expect(routeFor({ ...plain, driver: 'vonage' }, 'GB')).toEqual({ first: 'vonage', failover: null });
  });
});
