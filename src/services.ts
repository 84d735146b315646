/**
 * The domain services, built once at start and handed to the HTTP layer and the workers. Routes reach the
 * store only through these.
 */
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import type { Store } from './store/database.js';
import type { SecretBox } from './secret-box.js';
import { AuditLog } from './audit/audit-log.js';
import { SecretKeys } from './auth/secret-keys.js';
import { InstanceService } from './instance/service.js';
import { TemplateService } from './sms/templates/service.js';
import { SmsEngine } from './sms/engine.js';
import { AuthKeys } from './auth/keys.js';
import { Clients } from './auth/clients.js';
import { Users } from './auth/users.js';
import { Sessions } from './auth/sessions.js';
import { SignUps } from './auth/sign-ups.js';
import { SignIns } from './auth/sign-ins.js';
import { Mfa } from './auth/mfa.js';
import { Limits } from './challenges/limits.js';
import { ChallengeService } from './challenges/service.js';
import { Transactions } from './store/group-commit.js';
import { WebhookEndpoints } from './webhooks/endpoints.js';
import { WebhookDeliveries } from './webhooks/deliveries.js';
import { WebhookWorker } from './webhooks/worker.js';

export interface Services {
  config: Config;
  clock: Clock;
  logger: Logger;
  store: Store;
  box: SecretBox;
  audit: AuditLog;
  secretKeys: SecretKeys;
  instance: InstanceService;
  templates: TemplateService;
  sms: SmsEngine;
  authKeys: AuthKeys;
  limits: Limits;
  challenges: ChallengeService;
  clients: Clients;
  users: Users;
  sessions: Sessions;
  signUps: SignUps;
  signIns: SignIns;
  mfa: Mfa;
  webhooks: { endpoints: WebhookEndpoints; deliveries: WebhookDeliveries; worker: WebhookWorker };
}

export function buildServices(deps: { config: Config; clock: Clock; logger: Logger; store: Store; box: SecretBox }): Services {
  const { store, clock, box, config, logger } = deps;
  const instance = new InstanceService(store.db, box, clock);
  const templates = new TemplateService(store.db, store.dialect, clock, instance);
  instance.addCheck(templates.settingsCheck);
  const endpoints = new WebhookEndpoints(store.db, box, clock, config.webhooks);
  const sms = new SmsEngine(store.db, clock, instance, templates);
  const authKeys = new AuthKeys(store.db, box, clock);
  const limits = new Limits(store, { databaseUrl: config.databaseUrl, redisUrl: config.redisUrl });
  const challenges = new ChallengeService(clock, authKeys, limits, sms);
  const users = new Users(store.db, clock);
  const sessions = new Sessions(store.db, clock, authKeys, config.publicUrl);
  const flows = { db: store.db, transactions: new Transactions(store), clock, instance, challenges, limits, users, sessions };
  return {
    ...deps,
    audit: new AuditLog(store.db),
    secretKeys: new SecretKeys(store.db, clock),
    instance,
    templates,
    sms,
    authKeys,
    limits,
    challenges,
    clients: new Clients(store.db, clock),
    users,
    sessions,
    signUps: new SignUps(flows),
    signIns: new SignIns(flows),
    mfa: new Mfa(flows),
    webhooks: {
      endpoints,
      deliveries: new WebhookDeliveries(store.db, store.dialect, clock),
      worker: new WebhookWorker(store, clock, logger, config.webhooks, endpoints),
    },
  };
}
