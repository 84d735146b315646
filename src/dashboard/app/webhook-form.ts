/** The webhook endpoint form's model: the draft, and the bodies that create or change an endpoint. Pure functions. */
import type { EventType, WebhookEndpoint } from './api-types.js';
import { blankToNull } from './settings-form.js';

export interface EndpointDraft {
  url: string;
  description: string;
  /** Every event, including types a later version adds (`event_types: null`). */
  allEvents: boolean;
  /** The chosen types when not all. */
  eventTypes: string[];
  enabled: boolean;
}

export interface EndpointBody {
  url?: string;
  description?: string | null;
  event_types?: string[] | null;
  enabled?: boolean;
}

export const NEW_ENDPOINT: EndpointDraft = { url: '', description: '', allEvents: true, eventTypes: [], enabled: true };

export function endpointDraftFrom(endpoint: WebhookEndpoint): EndpointDraft {
  return {
    url: endpoint.url,
    description: endpoint.description ?? '',
    allEvents: endpoint.event_types === null,
    eventTypes: endpoint.event_types ?? [],
    enabled: endpoint.enabled,
  };
}

/** The types to offer: the catalogue's, then any the endpoint holds that the catalogue does not list (yet). */
export function eventTypeChoices(catalogue: EventType[], chosen: string[]): string[] {
  const known = catalogue.map((entry) => entry.type);
  return [...known, ...chosen.filter((type) => !known.includes(type))];
}

/** `event_types` as the API takes it, in the catalogue's order. With none chosen, the API's refusal says so. */
function eventTypesOf(draft: EndpointDraft, order: string[]): string[] | null {
  if (draft.allEvents) return null;
  return [...draft.eventTypes].sort((a, b) => order.indexOf(a) - order.indexOf(b));
}

function sameTypes(a: string[] | null, b: string[] | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((type) => b.includes(type));
}

/** `POST /v1/webhooks/endpoints`: the URL as typed (trimmed), a description only when there is one. */
export function createBody(draft: EndpointDraft, order: string[]): EndpointBody {
  const description = blankToNull(draft.description);
  return {
    url: draft.url.trim(),
    ...(description !== null ? { description } : {}),
    event_types: eventTypesOf(draft, order),
    enabled: draft.enabled,
  };
}

/** `PATCH /v1/webhooks/endpoints/{id}`: only what changed. */
export function updateBody(endpoint: WebhookEndpoint, draft: EndpointDraft, order: string[]): EndpointBody {
  const body: EndpointBody = {};
  const url = draft.url.trim();
  if (url !== endpoint.url) body.url = url;
  const description = blankToNull(draft.description);
  if (description !== endpoint.description) body.description = description;
  const eventTypes = eventTypesOf(draft, order);
  if (!sameTypes(eventTypes, endpoint.event_types)) body.event_types = eventTypes;
  if (draft.enabled !== endpoint.enabled) body.enabled = draft.enabled;
  return body;
}
