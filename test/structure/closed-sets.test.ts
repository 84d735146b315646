/**
 * Closed sets the compiler holds: an event type outside the catalogue, an audit action outside `AuditAction` and a
 * webhook delivery status outside `DELIVERY_STATUSES` do not compile. `npm run typecheck` covers test/ too, so each
 * `@ts-expect-error` below fails the run the day its line compiles.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OPERATOR_ONLY_ACTIONS, type AuditInput } from '../../src/audit/audit-log.js';
import { EVENT_CATALOGUE } from '../../src/webhooks/catalogue.js';
import { DELIVERY_STATUSES, type DeliveryFilter } from '../../src/webhooks/deliveries.js';
import type { EventInput } from '../../src/webhooks/events.js';

describe('closed sets', () => {
  const catalogued = EVENT_CATALOGUE.map((entry) => entry.type);

  it('an event is of a type in the catalogue', () => {
    const known: EventInput = { type: 'sms.delivered', data: {} };
    // @ts-expect-error: no such event type in the catalogue
    const unknown: EventInput = { type: 'sms.teleported', data: {} };
    expect(catalogued).toContain(known.type);
    expect(catalogued).not.toContain(unknown.type);
  });

  it('an audit action is an audited event type or an action only operators see', () => {
    const actions: AuditInput['action'][] = ['user.created', 'sms.retry_scheduled', 'webhook_endpoint.disabled'];
    // @ts-expect-error: the test event has no audit entry of its name
    const unaudited: AuditInput['action'] = 'webhook.test';
    // @ts-expect-error: a misspelt action
    const misspelt: AuditInput['action'] = 'webhook.endpoint_created';
    expect(catalogued).toContain(actions[0]);
    expect(EVENT_CATALOGUE.find((entry) => entry.type === unaudited)?.auditOmits).toBeNull();
    expect(catalogued).not.toContain(misspelt);
  });

  it('the audit actions no event goes with are documented, and none of them is an event type', () => {
    const api = readFileSync(resolve(import.meta.dirname, '../../docs/api.md'), 'utf8');
    expect(
      OPERATOR_ONLY_ACTIONS.filter((action) => !api.includes(`\`${action}\``)),
      'missing from docs/api.md',
    ).toEqual([]);
    expect(OPERATOR_ONLY_ACTIONS.filter((action) => (catalogued as readonly string[]).includes(action))).toEqual([]);
  });

  it('a webhook delivery status is one of three', () => {
    const filter: DeliveryFilter = { status: 'failed' };
    // @ts-expect-error: no such delivery status
    const unknown: DeliveryFilter = { status: 'bounced' };
    expect(DELIVERY_STATUSES).toEqual(['pending', 'succeeded', 'failed']);
    expect(DELIVERY_STATUSES).toContain(filter.status);
    expect(DELIVERY_STATUSES).not.toContain(unknown.status);
  });
});
