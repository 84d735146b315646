/**
 * The event log: every event that operators can learn about (`sms.queued`, `sms.delivered`, …) is persisted
 * here, in the transaction of the change it reports, before anything is delivered anywhere.
 *
 * Fan-out happens here too: in that same transaction, one delivery row is written for every enabled webhook
 * endpoint that subscribes to the event. So an event that commits has its deliveries committed with it, and
 * one that rolls back has none — no cursor over the log to keep, and nothing to miss when transactions on
 * several PostgreSQL processes commit out of id order (which a log-tailing cursor would have to guard
 * against). The cost is one small indexed read of the endpoints per batch of events.
 *
 * On PostgreSQL every statement is a network round trip, so `recordEvents` sends the events' insert, the
 * writes of the change they report and the read of the endpoints as one statement (`store/writes.ts`).
 */
import type { Clock } from '../clock.js';
import { newId } from '../ids.js';
import { fromJson, inTransaction, toJson, type Executor, type Tx } from '../store/database.js';
import { readAfterWrites, rowInsert, rowsInsertAsOne, runWrites, type ChangeWrite } from '../store/writes.js';
import type { Database, WebhookEndpointsTable } from '../store/schema.js';
import { insertDeliveries } from '../store/webhook-deliveries.js';
import { auditRow, eventAuditData, type Actor, type AuditInput } from '../audit/audit-log.js';
import type { AuditedEventType, EventType } from './catalogue.js';

export interface EventInput {
  type: EventType;
  data: Record<string, unknown>;
}

export interface StoredEvent {
  id: string;
  object: 'event';
  type: EventType;
  timestamp: number;
  data: Record<string, unknown>;
}

export async function recordEvent(executor: Executor, clock: Clock, input: EventInput): Promise<StoredEvent> {
  const [event] = await recordEvents(executor, clock, [input]);
  return event!;
}

/**
 * Records events and fans them out, together with `change` (the writes of what they report; with no events,
 * just those writes): one statement on PostgreSQL, plus one insert per event that an endpoint subscribes to.
 * On SQLite, where a statement costs microseconds rather than a round trip, they run one after the other.
 */
export async function recordEvents(
  executor: Executor,
  clock: Clock,
  inputs: readonly EventInput[],
  change: readonly ChangeWrite[] = [],
): Promise<StoredEvent[]> {
  if (inputs.length === 0 && change.length === 0) return [];
  return inTransaction(executor, async (tx) => {
    const now = clock.now();
    const events = inputs.map((input) => newEvent(now, input));
    const writes = [...change, ...rowsInsertAsOne(tx, 'events', events.map(eventRow))];
    const endpoints = await runWrites(tx, writes, events.length ? enabledEndpoints : undefined);
    if (endpoints.length) {
      const subscriptions = endpoints.map((endpoint) => ({
        id: endpoint.id,
        types: endpoint.event_types === null ? null : new Set(fromJson<string[]>(endpoint.event_types)),
      }));
      for (const event of events) {
        const matching = subscriptions.filter(({ types }) => types === null || types.has(event.type)).map(({ id }) => id);
        await insertDeliveries(tx, event, matching, now);
      }
    }
    return events;
  });
}

type Endpoint = Pick<WebhookEndpointsTable, 'id' | 'event_types'>;

/** Read with every batch of events: on SQLite on its own (compiled once), on PostgreSQL in the writes' statement. */
const enabledEndpoints = readAfterWrites<Endpoint>((db) =>
  db.selectFrom('webhook_endpoints').select(['id', 'event_types']).where('enabled', '=', 1),
);

/**
 * An action that webhooks and the audit log both report (`user.created`…): its event and its audit entry, made from
 * the same data, in the caller's transaction (one statement on PostgreSQL).
 */
export async function recordEventAndAudit(
  executor: Executor,
  clock: Clock,
  input: {
    type: AuditedEventType;
    actor: Actor;
    target: AuditInput['target'];
    data: Record<string, unknown>;
    details?: Record<string, unknown>;
  },
): Promise<void> {
  const audit = auditRow(clock, {
    actor: input.actor,
    action: input.type,
    target: input.target,
    data: eventAuditData(input.type, input.data, input.details),
  });
  await recordEvents(executor, clock, [{ type: input.type, data: input.data }], [rowInsert('audit_logs', audit)]);
}

/** Writes the event itself, without fan-out (the test event goes to one endpoint only). */
export async function insertEvent(tx: Tx, now: number, input: EventInput): Promise<StoredEvent> {
  const event = newEvent(now, input);
  await tx.insertInto('events').values(eventRow(event)).execute();
  return event;
}

function newEvent(now: number, input: EventInput): StoredEvent {
  return { id: newId('evt', now), object: 'event', type: input.type, timestamp: now, data: input.data };
}

function eventRow(event: StoredEvent): Database['events'] {
  return { id: event.id, type: event.type, created_at: event.timestamp, data: toJson(event.data) };
}
