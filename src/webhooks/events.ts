/**
 * The event log: every event that operators can learn about (`sms.queued`, `sms.delivered`, …) is persisted
 * here, in the transaction of the change it reports, before anything is delivered anywhere. Webhook delivery
 * reads from this log, so an event recorded is an event that will be delivered.
 */
import type { Clock } from '../clock.js';
import { newId } from '../ids.js';
import { toJson, type Executor } from '../store/database.js';

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
  const now = clock.now();
  const event: StoredEvent = { id: newId('evt', now), object: 'event', type: input.type, timestamp: now, data: input.data };
  await executor.insertInto('events').values({ id: event.id, type: event.type, created_at: now, data: toJson(event.data) }).execute();
  return event;
}
