/** The webhook endpoint form's bodies: what creating sends, and a change that sends only what changed. */
import { describe, expect, it } from 'vitest';
import type { EventType, WebhookEndpoint } from '../../src/dashboard/app/api-types.js';
import { NEW_ENDPOINT, createBody, endpointDraftFrom, eventTypeChoices, updateBody } from '../../src/dashboard/app/webhook-form.js';

const catalogue: EventType[] = ['sms.queued', 'sms.delivered', 'sms.failed', 'webhook.test'].map((type) => ({
  type,
  description: type,
  example: {},
}));
const order = catalogue.map((entry) => entry.type);

const endpoint: WebhookEndpoint = {
  id: 'whe_1',
  object: 'webhook_endpoint',
  url: 'https://example.com/hooks',
  description: null,
  event_types: ['sms.failed', 'sms.delivered'],
  enabled: true,
  failing_since: null,
  created_at: 1,
  updated_at: 1,
};

describe('createBody', () => {
  it('sends every event as null, a trimmed URL, and no blank description', () => {
    expect(createBody({ ...NEW_ENDPOINT, url: ' https://example.com/hooks ', description: ' ' }, order)).toEqual({
      url: 'https://example.com/hooks',
      event_types: null,
      enabled: true,
    });
  });

  it('sends the chosen types in the catalogue order, and an empty choice for the API to refuse', () => {
    const draft = {
      ...NEW_ENDPOINT,
      url: 'https://x.example',
      allEvents: false,
      eventTypes: ['webhook.test', 'sms.queued'],
      description: 'CRM',
      enabled: false,
    };
    expect(createBody(draft, order)).toEqual({
      url: 'https://x.example',
      description: 'CRM',
      event_types: ['sms.queued', 'webhook.test'],
      enabled: false,
    });
    expect(createBody({ ...draft, eventTypes: [] }, order).event_types).toEqual([]);
  });
});

describe('updateBody', () => {
  it('is empty when nothing changed, whatever the stored order of the types', () => {
    expect(updateBody(endpoint, endpointDraftFrom(endpoint), order)).toEqual({});
  });

  it('sends only what changed: every event, a cleared description, a new URL', () => {
    const described = { ...endpoint, description: 'old' };
    expect(
      updateBody(described, { ...endpointDraftFrom(described), allEvents: true, description: '', url: 'https://example.com/new' }, order),
    ).toEqual({
      url: 'https://example.com/new',
      description: null,
      event_types: null,
    });
  });
});

describe('eventTypeChoices', () => {
  it('offers the catalogue, then types the endpoint holds that the catalogue does not list', () => {
    expect(eventTypeChoices(catalogue, ['sms.failed', 'billing.future'])).toEqual([...order, 'billing.future']);
  });
});
