/**
 * Which driver sends to a destination country first, and which one a message may move to when that one fails
 * (`sms.routes`, `sms.failover`). Pure: the dispatcher asks it for each message.
 */
import type { InstanceSettings, SmsDriverName } from '../instance/settings.js';
import { TEST_RANGE_COUNTRY } from '../phone/numbers.js';
import type { SmsMessagesTable } from '../store/schema.js';

export interface SmsRouteChoice {
  /** null: the null driver (sends are dropped). */
  first: SmsDriverName | null;
  /** null: no failover; never the same driver as `first`. */
  failover: SmsDriverName | null;
}

/**
 * The route naming `country` decides, else `sms.driver`; a route's `failover_driver`, else `sms.failover.driver`,
 * is the second. A country the number has none of (null) takes the instance-wide drivers.
 */
export function routeFor(sms: InstanceSettings['sms'], country: string | null): SmsRouteChoice {
  const route = country === null ? undefined : sms.routes.find((candidate) => candidate.countries.includes(country));
  const first = route ? route.driver : sms.driver;
  if (first === null) return { first: null, failover: null };
  const failover = route?.failover_driver ?? sms.failover.driver;
  return { first, failover: failover === first ? null : failover };
}

/**
 * The drivers of a message: its country's route, or for a simulated message (a test number's message in the outbox,
 * queued so under `test_mode: enabled`) the carriers the simulation plays: the test range's route, or on an
 * instance with the null driver Twilio first and Vonage as failover, so that an app's CI without carrier
 * credentials still sees a failover.
 */
export function messageRoute(sms: InstanceSettings['sms'], message: Pick<SmsMessagesTable, 'test_number' | 'country'>): SmsRouteChoice {
  if (message.test_number !== 1) return routeFor(sms, message.country);
  const route = routeFor(sms, TEST_RANGE_COUNTRY);
  return route.first === null ? { first: 'twilio', failover: 'vonage' } : route;
}
