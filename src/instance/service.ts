/**
 * Reads and changes the instance settings. A PATCH is one transaction: load, merge, validate the result,
 * compare-and-swap the document's version, write the credentials (sealed with the secret box, their path as
 * associated data) and the audit entry. A rejected PATCH writes nothing.
 */
import type { Clock } from '../clock.js';
import { AppError, type ErrorDetail } from '../errors.js';
import type { SecretBox } from '../secret-box.js';
import { fromJson, toJson, type Db, type Executor, type Tx } from '../store/database.js';
import { recordAudit, SYSTEM_ACTOR, type Actor } from '../audit/audit-log.js';
import {
  defaultSettings,
  diffSettings,
  dropRedactionMarkers,
  patchSettings,
  redact,
  REDACTED,
  SECRET_PATHS,
  splitSecrets,
  validateSettings,
  getPath,
  setPath,
  type InstanceSettings,
  type SettingsChange,
} from './settings.js';

/** How long a process may serve settings it read before re-reading; writes in this process apply at once. */
const CACHE_TTL_MS = 1_000;
/**
 * Past the TTL, a copy younger than this is still served while a re-read runs in the background. `current()`
 * is called inside open transactions (the send engine's, within a challenge's): waiting there for a read on
 * another connection would deadlock SQLite's single connection, or a PostgreSQL pool whose connections are
 * all in such transactions. Callers that are not in a transaction get a fresh copy after an idle spell.
 */
const STALE_GRACE_MS = 10_000;
/** Compare-and-swap retries when two processes PATCH at the same moment (PostgreSQL). */
const MAX_WRITE_ATTEMPTS = 5;

/**
 * A rule of another domain about the merged settings, run in the PATCH's transaction once the settings' own
 * rules pass (stored SMS templates must stay valid under the new driver, for instance).
 */
export type SettingsCheck = (tx: Tx, before: InstanceSettings, after: InstanceSettings) => Promise<ErrorDetail[]>;

export class InstanceService {
  private cached: { settings: InstanceSettings; at: number } | null = null;
  private refreshing: Promise<InstanceSettings> | null = null;
  /** Bumped by every write here, so a re-read that started before it does not bring the old settings back. */
  private generation = 0;
  /** Writes under way in this process. */
  private writing = 0;
  private readonly checks: SettingsCheck[] = [];

  private readonly db: Db;
  private readonly box: SecretBox;
  private readonly clock: Clock;

  constructor(deps: { db: Db; box: SecretBox; clock: Clock }) {
    this.db = deps.db;
    this.box = deps.box;
    this.clock = deps.clock;
  }

  /** The settings as BAPI shows them: credentials redacted. */
  async view(): Promise<InstanceSettings> {
    return redact(await this.current());
  }

  /**
   * The settings with credentials decrypted, for the code that sends (drivers, callbacks). Cached briefly:
   * this sits on the request path of every send and challenge. A caller inside a transaction passes it: on
   * SQLite the one connection is the transaction's until it ends, so a read outside it would wait forever.
   */
  async current(executor?: Executor): Promise<InstanceSettings> {
    const age = this.cached ? this.clock.now() - this.cached.at : Infinity;
    if (age < CACHE_TTL_MS) return this.cached!.settings;
    if (age < CACHE_TTL_MS + STALE_GRACE_MS) {
      void this.refresh().catch(() => undefined);
      return this.cached!.settings;
    }
    // Read in the caller's transaction, and kept like any other read: a server whose every send runs in a
    // transaction (a busy one) would otherwise read and decrypt the settings once per send.
    if (executor?.isTransaction) return this.read(executor);
    return this.refresh();
  }

  /** Reads the settings and caches them, unless a write here began meanwhile (it would be older than that write). */
  private async read(executor: Executor): Promise<InstanceSettings> {
    const at = this.clock.now();
    const generation = this.generation;
    const settings = await this.load(executor, 'decrypt');
    if (generation === this.generation && this.writing === 0) this.cached = { settings, at };
    return settings;
  }

  /** One re-read at a time; its result replaces the cached copy. */
  private refresh(): Promise<InstanceSettings> {
    this.refreshing ??= this.read(this.db).finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  addCheck(check: SettingsCheck): void {
    this.checks.push(check);
  }

  async patch(patch: unknown, actor: Actor): Promise<InstanceSettings> {
    for (let attempt = 1; ; attempt++) {
      // Nothing read while the write is under way is cached (a read in its transaction would see it uncommitted).
      this.writing++;
      let outcome: 'conflict' | 'done';
      try {
        outcome = await this.db.transaction().execute((tx) => this.applyPatch(tx, patch, actor));
      } finally {
        this.writing--;
        this.cached = null;
        this.refreshing = null;
        this.generation++;
      }
      if (outcome !== 'conflict') return this.view();
      if (attempt >= MAX_WRITE_ATTEMPTS) throw new Error('instance settings kept changing under a PATCH');
    }
  }

  /**
   * First start: creates the settings from `bootstrap` (the env-var patch) when the store has none yet.
   * Returns false when settings already existed (bootstrap is then not applied). Processes starting together
   * all try: the insert ignores the row another one made, and only the one whose row went in writes the rest.
   */
  async initialise(bootstrap: unknown): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const settings = patchSettings(bootstrap);
      const errors = validateSettings(settings);
      if (errors.length) throw new AppError(errors);
      const { document } = splitSecrets(settings);
      const inserted = await tx
        .insertInto('instance_settings')
        .values({ id: 1, document: toJson(document), version: 1, updated_at: this.clock.now() })
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows) === 0) return false;
      await this.writeSecrets(tx, settings);
      const changes = diffSettings(defaultSettings(), settings);
      await recordAudit(tx, this.clock, {
        actor: SYSTEM_ACTOR,
        action: 'instance.bootstrapped',
        target: { type: 'instance', id: 'instance' },
        data: { changes },
      });
      return true;
    });
  }

  async exists(): Promise<boolean> {
    return (await this.db.selectFrom('instance_settings').select('id').where('id', '=', 1).executeTakeFirst()) !== undefined;
  }

  /** Re-seals credentials sealed with an older key (key rotation); returns how many were re-sealed. */
  async reseal(tx: Tx): Promise<number> {
    const rows = await tx.selectFrom('instance_secrets').selectAll().execute();
    let count = 0;
    for (const row of rows) {
      if (!this.box.isStale(row.envelope)) continue;
      const envelope = this.box.seal(this.box.open(row.envelope, row.path), row.path);
      await tx.updateTable('instance_secrets').set({ envelope }).where('path', '=', row.path).execute();
      count++;
    }
    return count;
  }

  /** Opens every stored credential: at start, so a wrong key fails the start rather than a send. */
  async checkSecretsDecrypt(): Promise<void> {
    await this.load(this.db, 'decrypt');
  }

  private async applyPatch(tx: Tx, patch: unknown, actor: Actor): Promise<'conflict' | 'done'> {
    const row = await tx.selectFrom('instance_settings').select(['version']).where('id', '=', 1).executeTakeFirstOrThrow();
    const before = await this.load(tx, 'mark');
    const after = patchSettings(dropRedactionMarkers(patch), before);
    const errors = validateSettings(after);
    if (errors.length === 0) for (const check of this.checks) errors.push(...(await check(tx, before, after)));
    if (errors.length) throw new AppError(errors);
    const changes = diffSettings(before, after);
    if (changes.length === 0) return 'done';

    const { document } = splitSecrets(after);
    const updated = await tx
      .updateTable('instance_settings')
      .set({ document: toJson(document), version: row.version + 1, updated_at: this.clock.now() })
      .where('id', '=', 1)
      .where('version', '=', row.version)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) return 'conflict';
    await this.writeSecrets(tx, after);
    await recordAudit(tx, this.clock, {
      actor,
      action: 'instance.updated',
      target: { type: 'instance', id: 'instance' },
      data: { changes: changes satisfies SettingsChange[] },
    });
    return 'done';
  }

  /** Writes each secret slot: plaintext is sealed, null deletes, `REDACTED` (unchanged) is left alone. */
  private async writeSecrets(tx: Tx, settings: InstanceSettings): Promise<void> {
    const { secrets } = splitSecrets(settings);
    for (const path of SECRET_PATHS) {
      const value = secrets[path];
      if (value === REDACTED) continue;
      if (value === null) {
        await tx.deleteFrom('instance_secrets').where('path', '=', path).execute();
        continue;
      }
      const envelope = this.box.seal(value, path);
      const now = this.clock.now();
      await tx
        .insertInto('instance_secrets')
        .values({ path, envelope, updated_at: now })
        .onConflict((oc) => oc.column('path').doUpdateSet({ envelope, updated_at: now }))
        .execute();
    }
  }

  /** Loads the document and its secrets: decrypted, or as `REDACTED` markers when only presence matters. */
  private async load(executor: Executor, secrets: 'decrypt' | 'mark'): Promise<InstanceSettings> {
    const row = await executor.selectFrom('instance_settings').select('document').where('id', '=', 1).executeTakeFirst();
    // Fill fields added by later versions with their defaults.
    const settings = patchSettings(row ? fromJson<unknown>(row.document) : {});
    const stored = await executor.selectFrom('instance_secrets').select(['path', 'envelope']).execute();
    for (const { path, envelope } of stored) {
      if (getPath(settings, path) === undefined) continue;
      setPath(settings as never, path, secrets === 'decrypt' ? this.box.open(envelope, path) : REDACTED);
    }
    return settings;
  }
}
