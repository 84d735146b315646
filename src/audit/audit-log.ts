/**
 * The audit log: append-only (the database refuses UPDATE and DELETE on the table), written in the same
 * transaction as the change it records, readable over BAPI with filters and cursor pagination.
 * Entries never hold a secret's value: callers pass "set" / "cleared" for credentials.
 */
import type { Clock } from '../clock.js';
import { firstIdAt, newId } from '../ids.js';
import { sql } from 'kysely';
import { fromJson, toJson, type Db, type Executor } from '../store/database.js';
import { decodeCursor, toPage, type Page } from '../store/pagination.js';
import { insertRow } from '../store/prepared.js';
import type { AuditLogsTable } from '../store/schema.js';
import { EVENT_CATALOGUE, type AuditedEventType, type EventType } from '../webhooks/catalogue.js';

export type ActorType = 'secret_key' | 'system' | 'user' | 'carrier' | 'dispatcher';

export interface Actor {
  type: ActorType;
  id: string | null;
}

export const SYSTEM_ACTOR: Actor = { type: 'system', id: null };

/**
 * The audit actions no event goes with (operators see them; webhooks do not). A message's moves are `sms.<status>`
 * (every status of `SmsStatus` that no event of the same name covers), plus a send released back to the queue and a
 * retry scheduled.
 */
export const OPERATOR_ONLY_ACTIONS = [
  'sms.sending',
  'sms.undelivered',
  'sms.dropped',
  'sms.test_noop',
  'sms.operator',
  'sms.expired',
  'sms.released',
  'sms.retry_scheduled',
  'sms_template.updated',
  'sms_template.reverted',
  'instance.bootstrapped',
  'instance.updated',
  'secret_key.created',
  'secret_key.revoked',
  'user.unlocked',
  'webhook_endpoint.created',
  'webhook_endpoint.updated',
  'webhook_endpoint.deleted',
  'webhook_endpoint.secret_rotated',
  'webhook_endpoint.disabled',
  'webhook_endpoint.test_sent',
  'webhook_delivery.retried',
] as const;

/** What an audit entry records: an action that webhooks report too (its event type, see the catalogue), or one of those. */
export type AuditAction = AuditedEventType | (typeof OPERATOR_ONLY_ACTIONS)[number];

export interface AuditInput {
  actor: Actor;
  action: AuditAction;
  target?: { type: string; id: string } | null;
  data?: Record<string, unknown>;
}

export interface AuditEntry {
  id: string;
  object: 'audit_log';
  created_at: number;
  actor: Actor;
  action: string;
  target: { type: string; id: string } | null;
  data: Record<string, unknown>;
}

export interface AuditFilter {
  /** Exact action, or a prefix ending in `*` (`sms.*`). */
  action?: string;
  target_type?: string;
  target_id?: string;
  actor_id?: string;
  /** Inclusive lower bound, ms since the epoch. */
  created_after?: number;
  /** Exclusive upper bound, ms since the epoch. */
  created_before?: number;
  limit?: number;
}

export function auditRow(clock: Clock, input: AuditInput): AuditLogsTable {
  const now = clock.now();
  return {
    id: newId('aud', now),
    created_at: now,
    actor_type: input.actor.type,
    actor_id: input.actor.id,
    action: input.action,
    target_type: input.target?.type ?? null,
    target_id: input.target?.id ?? null,
    data: toJson(input.data ?? {}),
  };
}

// Written on nearly every request: compiled once.
const insertAudit = insertRow('audit_logs');

export async function recordAudit(executor: Executor, clock: Clock, input: AuditInput): Promise<void> {
  await insertAudit(executor, auditRow(clock, input));
}

const AUDIT_OMITS = new Map(EVENT_CATALOGUE.map((info) => [info.type, info.auditOmits ?? []]));

/**
 * The data of the audit entry that goes with the event `type`: the event's `data` (less the fields the catalogue
 * keeps out of the audit log) over `details` that only operators see (the sign-up it came from, the caller's
 * address). The entry and the event are made from the same data here, so they cannot drift apart.
 */
export function eventAuditData(
  type: EventType,
  data: Record<string, unknown>,
  details: Record<string, unknown> = {},
): Record<string, unknown> {
  const out = { ...details, ...data };
  for (const field of AUDIT_OMITS.get(type) ?? []) delete out[field];
  return out;
}

export function toAuditEntry(row: AuditLogsTable): AuditEntry {
  return {
    id: row.id,
    object: 'audit_log',
    created_at: row.created_at,
    actor: { type: row.actor_type as ActorType, id: row.actor_id },
    action: row.action,
    target: row.target_type && row.target_id ? { type: row.target_type, id: row.target_id } : null,
    data: fromJson<Record<string, unknown>>(row.data),
  };
}

/** Reading the log (writing is `recordAudit`, inside the writer's transaction). */
export class AuditLog {
  private readonly db: Db;

  constructor(deps: { db: Db }) {
    this.db = deps.db;
  }

  /** Newest first; `startingAfter` is the `next_cursor` of the previous page. */
  async list(filter: AuditFilter, startingAfter?: string): Promise<Page<AuditEntry>> {
    return listAudit(this.db, filter, decodeCursor(startingAfter));
  }
}

async function listAudit(db: Db, filter: AuditFilter, after: string | null): Promise<Page<AuditEntry>> {
  const limit = filter.limit ?? 50;
  let query = db
    .selectFrom('audit_logs')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(limit + 1);
  if (filter.action) {
    const prefix = filter.action.endsWith('*') ? filter.action.slice(0, -1) : null;
    // substr rather than LIKE: action names contain `_`, a LIKE wildcard.
    query =
      prefix !== null
        ? query.where(sql<string>`substr(action, 1, ${prefix.length})`, '=', prefix)
        : query.where('action', '=', filter.action);
  }
  if (filter.target_type) query = query.where('target_type', '=', filter.target_type);
  if (filter.target_id) query = query.where('target_id', '=', filter.target_id);
  if (filter.actor_id) query = query.where('actor_id', '=', filter.actor_id);
  if (filter.created_after !== undefined) {
    // The id bound lets the primary key do the work (an id's time is never before its created_at).
    query = query.where('id', '>=', firstIdAt('aud', filter.created_after)).where('created_at', '>=', filter.created_after);
  }
  if (filter.created_before !== undefined) query = query.where('created_at', '<', filter.created_before);
  if (after) query = query.where('id', '<', after);
  return toPage(await query.execute(), limit, toAuditEntry);
}
