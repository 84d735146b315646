/**
 * One ordered list of migrations for both stores. Each migration uses Kysely's schema builder, so the same
 * code creates the SQLite and the PostgreSQL schema; the rare dialect-specific statement branches on
 * `dialect`. Add new migrations at the end (each takes its type from `./migration.js`), never edit a released one.
 */
import type { Migration as KyselyMigration, MigrationProvider } from 'kysely';
import type { Dialect } from '../dialect.js';
import type { Migration } from './migration.js';
import { foundation } from './001_foundation.js';
import { messaging } from './002_messaging.js';
import { smsDispatch } from './003_sms_dispatch.js';
import { auth } from './005_auth.js';
import { webhooks } from './006_webhooks.js';
import { leanIndexes } from './007_lean_indexes.js';
import { webhookEndpointHealth } from './008_webhook_endpoint_health.js';
import { openFlows } from './009_open_flows.js';
import { smsStatusChecks } from './010_sms_status_checks.js';
import { challengeHistory } from './011_challenge_history.js';
import { smsCosts } from './012_sms_costs.js';
import { smsFailover } from './013_sms_failover.js';
import { deliveryState } from './014_delivery_state.js';
import { smsFailoverReason } from './015_sms_failover_reason.js';

const MIGRATIONS: Record<string, Migration> = {
  '001_foundation': foundation,
  '002_messaging': messaging,
  '003_sms_dispatch': smsDispatch,
  '005_auth': auth,
  '006_webhooks': webhooks,
  '007_lean_indexes': leanIndexes,
  '008_webhook_endpoint_health': webhookEndpointHealth,
  '009_open_flows': openFlows,
  '010_sms_status_checks': smsStatusChecks,
  '011_challenge_history': challengeHistory,
  '012_sms_costs': smsCosts,
  '013_sms_failover': smsFailover,
  '014_delivery_state': deliveryState,
  '015_sms_failover_reason': smsFailoverReason,
};

export function migrationProvider(dialect: Dialect): MigrationProvider {
  return {
    async getMigrations() {
      const out: Record<string, KyselyMigration> = {};
      for (const [name, migration] of Object.entries(MIGRATIONS)) {
        out[name] = { up: (db) => migration.up(db, dialect) };
      }
      return out;
    },
  };
}
