/**
 * The event log: every event that operators can learn about (`sms.queued`, `sms.delivered`, …) is persisted
 * here, in the transaction of the change it reports, before anything is delivered anywhere.
 *
 * Fan-out happens here too: in that same transaction, one delivery row is written for every enabled webhook
 * endpoint that subscribes to the event. So an event that commits has its deliveries committed with it, and
 * one that rolls back has none — no cursor over the log to keep, and nothing to miss when transactions on
 * several PostgreSQL processes commit out of id order (which a log-tailing cursor would have to guard
 * against). The cost is one small indexed read of the endpoints per event.
 */
import type { Clock } from '../clock.js';
import { newId } from '../ids.js';
import { fromJson, inTransaction, toJson, type Executor, type Tx } from '../store/database.js';
import { insertDeliveries } from './deliveries.js';

export interface EventInput {
  type: string;
  data: Record<string, unknown>;
}

export interface StoredEvent {
  id: string;
  object: 'event';
  type: string;
  timestamp: number;
  data: Record<string, unknown>;
}

export async function recordEvent(executor: Executor, clock: Clock, input: EventInput): Promise<StoredEvent> {
  return inTransaction(executor, async (tx) => {
    const event = await insertEvent(tx, clock.now(), input);
    const endpoints = await tx.selectFrom('webhook_endpoints').select(['id', 'event_types']).where('enabled', '=', 1).execute();
    const matching = endpoints.filter((endpoint) => subscribes(endpoint.event_types, event.type)).map((endpoint) => endpoint.id);
    await insertDeliveries(tx, event, matching, event.timestamp);
    return event;
  });
}

/** Writes the event itself, without fan-out (the test event goes to one endpoint only). */
export async function insertEvent(tx: Tx, now: number, input: EventInput): Promise<StoredEvent> {
  const event: StoredEvent = { id: newId('evt', now), object: 'event', type: input.type, timestamp: now, data: input.data };
  await tx.insertInto('events').values({ id: event.id, type: event.type, created_at: now, data: toJson(event.data) }).execute();
  return event;
}

/** `event_types` is the endpoint's JSON list, or null for every event. */
function subscribes(eventTypes: string | null, type: string): boolean {
  return eventTypes === null || fromJson<string[]>(eventTypes).includes(type);
}
