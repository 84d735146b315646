/**
 * Which driver sends to a destination country first, and which one a message may move to when that one fails
 * (`sms.routes`, `sms.failover`). Pure: the dispatcher asks it for each message.
 */
import type { InstanceSettings, SmsDriverName } from '../instance/settings.js';

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
