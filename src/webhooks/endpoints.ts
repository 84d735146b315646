/**
 * Webhook endpoints: where events go. Each has a URL (checked against the egress rules at creation and on
 * change), the event types it wants (null: all), an enabled flag, and `whsec_` signing secrets sealed with the
 * secret box. A secret is shown once: in the answer that creates it (creation, rotation). After a rotation the
 * old secret keeps signing beside the new one for 24 hours, so receivers can switch without losing a delivery.
 */
import type { Clock } from '../clock.js';
import type { WebhooksConfig } from '../config.js';
import { appError } from '../errors.js';
import { newId } from '../ids.js';
import type { SecretBox } from '../secret-box.js';
import { recordAudit, type Actor } from '../audit/audit-log.js';
import { fromJson, toJson, type Db, type Executor, type Tx } from '../store/database.js';
import { decodeCursor, toPage, type Page } from '../store/pagination.js';
import type { WebhookEndpointsTable } from '../store/schema.js';
import { checkEndpointTarget, parseEndpointUrl, type Resolver } from './egress.js';
import { generateSecret } from './signing.js';

/** How long a rotated-out secret keeps signing. */
export const SECRET_OVERLAP_MS = 24 * 60 * 60 * 1000;

export interface EndpointView {
  id: string;
  object: 'webhook_endpoint';
  url: string;
  description: string | null;
  /** null: every event. */
  event_types: string[] | null;
  enabled: boolean;
  /** Since when every attempt to it has failed (ms); null while it is healthy. */
  failing_since: number | null;
  created_at: number;
  updated_at: number;
}

export interface EndpointWithSecret extends EndpointView {
  /** Shown once. */
  secret: string;
}

export interface EndpointInput {
  url: string;
  description?: string | null;
  event_types?: string[] | null;
  enabled?: boolean;
}

export type EndpointPatch = Partial<EndpointInput>;

function secretPath(endpointId: string): string {
  return `webhooks.endpoints.${endpointId}.secret`;
}

function toView(row: WebhookEndpointsTable): EndpointView {
  return {
    id: row.id,
    object: 'webhook_endpoint',
    url: row.url,
    description: row.description,
    event_types: row.event_types === null ? null : fromJson<string[]>(row.event_types),
    enabled: row.enabled === 1,
    failing_since: row.failing_since,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/** Sorted and without repeats, so equal subscriptions are stored alike. */
function normaliseEventTypes(types: string[] | null | undefined): string | null {
  return types === null || types === undefined ? null : toJson([...new Set(types)].sort());
}

export class WebhookEndpoints {
  constructor(
    private readonly db: Db,
    private readonly box: SecretBox,
    private readonly clock: Clock,
    private readonly config: WebhooksConfig,
    /** Injected in tests; the system resolver otherwise. */
    private readonly resolve?: Resolver,
  ) {}

  async create(input: EndpointInput, actor: Actor): Promise<EndpointWithSecret> {
    const url = await this.checkUrl(input.url);
    const secret = generateSecret();
    return this.db.transaction().execute(async (tx) => {
      const now = this.clock.now();
      const row: WebhookEndpointsTable = {
        id: newId('whe', now),
        url,
        description: input.description ?? null,
        event_types: normaliseEventTypes(input.event_types),
        enabled: input.enabled === false ? 0 : 1,
        failing_since: null,
        created_at: now,
        updated_at: now,
      };
      await tx.insertInto('webhook_endpoints').values(row).execute();
      await this.addSecret(tx, row.id, secret, now);
      await recordAudit(tx, this.clock, {
        actor,
        action: 'webhook_endpoint.created',
        target: { type: 'webhook_endpoint', id: row.id },
        data: { url, event_types: toView(row).event_types, enabled: row.enabled === 1 },
      });
      return { ...toView(row), secret };
    });
  }

  async list(query: { limit?: number; starting_after?: string }): Promise<Page<EndpointView>> {
    const limit = query.limit ?? 50;
    const after = decodeCursor(query.starting_after);
    let select = this.db
      .selectFrom('webhook_endpoints')
      .selectAll()
      .orderBy('id', 'desc')
      .limit(limit + 1);
    if (after) select = select.where('id', '<', after);
    return toPage(await select.execute(), limit, toView);
  }

  async get(id: string): Promise<EndpointView> {
    return toView(await this.row(this.db, id));
  }

  async update(id: string, patch: EndpointPatch, actor: Actor): Promise<EndpointView> {
    const url = patch.url === undefined ? undefined : await this.checkUrl(patch.url);
    return this.db.transaction().execute(async (tx) => {
      const before = await this.row(tx, id);
      const after: WebhookEndpointsTable = {
        ...before,
        ...(url !== undefined ? { url } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        ...(patch.event_types !== undefined ? { event_types: normaliseEventTypes(patch.event_types) } : {}),
        ...(patch.enabled !== undefined ? { enabled: patch.enabled ? 1 : 0 } : {}),
        // Enabled again (after it was disabled for failing, say): its failures start counting afresh.
        ...(patch.enabled === true && !before.enabled ? { failing_since: null } : {}),
        updated_at: this.clock.now(),
      };
      await tx.updateTable('webhook_endpoints').set(after).where('id', '=', id).execute();
      const changed = (['url', 'description', 'event_types', 'enabled'] as const).filter((field) => before[field] !== after[field]);
      const [old, now] = [toView(before), toView(after)];
      await recordAudit(tx, this.clock, {
        actor,
        action: 'webhook_endpoint.updated',
        target: { type: 'webhook_endpoint', id },
        data: { changes: Object.fromEntries(changed.map((field) => [field, { from: old[field], to: now[field] }])) },
      });
      return now;
    });
  }

  /** Deletes the endpoint with its secrets, deliveries and their log. */
  async delete(id: string, actor: Actor): Promise<{ id: string; object: 'webhook_endpoint'; deleted: true }> {
    return this.db.transaction().execute(async (tx) => {
      const row = await this.row(tx, id);
      await tx.deleteFrom('webhook_attempts').where('endpoint_id', '=', id).execute();
      await tx.deleteFrom('webhook_deliveries').where('endpoint_id', '=', id).execute();
      await tx.deleteFrom('webhook_secrets').where('endpoint_id', '=', id).execute();
      await tx.deleteFrom('webhook_endpoints').where('id', '=', id).execute();
      await recordAudit(tx, this.clock, {
        actor,
        action: 'webhook_endpoint.deleted',
        target: { type: 'webhook_endpoint', id },
        data: { url: row.url },
      });
      return { id, object: 'webhook_endpoint', deleted: true };
    });
  }

  /** A new secret (shown once); the current one keeps signing for SECRET_OVERLAP_MS more. */
  async rotateSecret(id: string, actor: Actor): Promise<EndpointWithSecret> {
    const secret = generateSecret();
    return this.db.transaction().execute(async (tx) => {
      const row = await this.row(tx, id);
      const now = this.clock.now();
      await tx.deleteFrom('webhook_secrets').where('endpoint_id', '=', id).where('expires_at', '<=', now).execute();
      await tx
        .updateTable('webhook_secrets')
        .set({ expires_at: now + SECRET_OVERLAP_MS })
        .where('endpoint_id', '=', id)
        .where('expires_at', 'is', null)
        .execute();
      await this.addSecret(tx, id, secret, now);
      await recordAudit(tx, this.clock, {
        actor,
        action: 'webhook_endpoint.secret_rotated',
        target: { type: 'webhook_endpoint', id },
        data: { previous_secret_expires_at: now + SECRET_OVERLAP_MS },
      });
      return { ...toView(row), secret };
    });
  }

  /** The secrets that sign at `now`, newest first. */
  async signingSecrets(executor: Executor, endpointId: string, now: number): Promise<string[]> {
    const rows = await executor
      .selectFrom('webhook_secrets')
      .select('envelope')
      .where('endpoint_id', '=', endpointId)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .orderBy('id', 'desc')
      .execute();
    return rows.map((row) => this.box.open(row.envelope, secretPath(endpointId)));
  }

  /** Re-seals secrets sealed with an older key (key rotation); returns how many were re-sealed. */
  async reseal(tx: Tx): Promise<number> {
    const rows = await tx.selectFrom('webhook_secrets').selectAll().execute();
    let count = 0;
    for (const row of rows) {
      if (!this.box.isStale(row.envelope)) continue;
      const path = secretPath(row.endpoint_id);
      await tx
        .updateTable('webhook_secrets')
        .set({ envelope: this.box.seal(this.box.open(row.envelope, path), path) })
        .where('id', '=', row.id)
        .execute();
      count++;
    }
    return count;
  }

  private async checkUrl(text: string): Promise<string> {
    const url = parseEndpointUrl(text);
    await checkEndpointTarget(url, this.config.allowPrivate, this.resolve);
    return url.toString();
  }

  private async addSecret(tx: Tx, endpointId: string, secret: string, now: number): Promise<void> {
    await tx
      .insertInto('webhook_secrets')
      .values({
        id: newId('whs', now),
        endpoint_id: endpointId,
        envelope: this.box.seal(secret, secretPath(endpointId)),
        created_at: now,
        expires_at: null,
      })
      .execute();
  }

  private async row(executor: Executor, id: string): Promise<WebhookEndpointsTable> {
    const row = await executor.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw appError('resource_not_found', { paramName: 'id', longMessage: `No webhook endpoint ${id}` });
    return row;
  }
}
