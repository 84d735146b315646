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
import { SmsMetrics } from './sms/metrics.js';
import { CallbackUrls } from './sms/callback-urls.js';
import { CarrierCallbacks } from './sms/callbacks.js';
import { Dispatcher, workerName } from './sms/dispatcher.js';
import { StatusChecks } from './sms/status-checks.js';
import { queueDepth } from './store/sms-outbox.js';
import { SmsMessageLog } from './sms/messages.js';
import { DeliveryStatsService } from './sms/delivery-stats.js';
import { CarrierHttp } from './sms/drivers/carrier-http.js';
import { AuthKeys } from './auth/keys.js';
import { Clients } from './auth/clients.js';
import { Housekeeping } from './auth/housekeeping.js';
import { Users } from './auth/users.js';
import { Sessions } from './auth/sessions.js';
import { SignUps } from './auth/sign-ups.js';
import { SignIns } from './auth/sign-ins.js';
import { OperatorUsers } from './auth/operator-users.js';
import { Mfa } from './auth/mfa.js';
import { Limits } from './limits/limits.js';
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
  /** Transactions with group commit on SQLite (src/store/group-commit.ts). */
  transactions: Transactions;
  audit: AuditLog;
  secretKeys: SecretKeys;
  instance: InstanceService;
  templates: TemplateService;
  sms: SmsEngine;
  smsMetrics: SmsMetrics;
  /** Carrier callback URLs; `init()` (at start, after the key check) loads the instance's callback secret. */
  callbackUrls: CallbackUrls;
  smsCallbacks: CarrierCallbacks;
  smsMessages: SmsMessageLog;
  /** The delivery & cost figures (dashboard page, BAPI). */
  deliveryStats: DeliveryStatsService;
  /** Started by `startServer` (unless AUTHN_SMS_DISPATCHER=off), stopped by `RunningServer.close()`. */
  dispatcher: Dispatcher;
  /** Asks the carrier about messages whose delivery report is overdue; runs beside the dispatcher. */
  smsStatusChecks: StatusChecks;
  carrierHttp: CarrierHttp;
  authKeys: AuthKeys;
  limits: Limits;
  challenges: ChallengeService;
  clients: Clients;
  housekeeping: Housekeeping;
  users: Users;
  /** Users as the BAPI shows them (with their password lockout). */
  operatorUsers: OperatorUsers;
  sessions: Sessions;
  signUps: SignUps;
  signIns: SignIns;
  mfa: Mfa;
  webhooks: { endpoints: WebhookEndpoints; deliveries: WebhookDeliveries; worker: WebhookWorker };
}

export function buildServices(deps: { config: Config; clock: Clock; logger: Logger; store: Store; box: SecretBox }): Services {
  const { store, clock, box, config, logger } = deps;
  const instance = new InstanceService({ db: store.db, box, clock });
  const templates = new TemplateService({ db: store.db, clock, instance });
  instance.addCheck(templates.settingsCheck);
  const endpoints = new WebhookEndpoints(store.db, box, clock, config.webhooks);
  const smsMetrics = new SmsMetrics(() => queueDepth(store.db));
  const worker = workerName();
  const transactions = new Transactions(store);
  const callbackUrls = new CallbackUrls(config.publicUrl);
  const carrierHttp = new CarrierHttp(config.carriers.timeoutMs, Math.max(16, config.sms.concurrency));
  const drivers = { http: carrierHttp, twilioApiUrl: config.carriers.twilioApiUrl, vonageApiUrl: config.carriers.vonageApiUrl };
  const smsCallbacks = new CarrierCallbacks({
    transactions,
    clock,
    logger,
    instance,
    urls: callbackUrls,
    metrics: smsMetrics,
    vonageDlrMaxAgeSeconds: config.sms.vonageDlrMaxAgeSeconds,
  });
  const smsStatusChecks = new StatusChecks({ store, clock, logger, instance, drivers, callbacks: smsCallbacks, metrics: smsMetrics });
  const dispatcher = new Dispatcher({
    clock,
    logger,
    box,
    instance,
    metrics: smsMetrics,
    urls: callbackUrls,
    drivers,
    options: config.sms,
    worker,
    transactions,
    onReceiptDue: (at) => smsStatusChecks.wakeAt(at),
  });
  const sms = new SmsEngine({
    db: store.db,
    clock,
    logger,
    worker,
    instance,
    templates,
    box,
    metrics: smsMetrics,
    onQueued: () => dispatcher.wake(),
  });
  const authKeys = new AuthKeys({ db: store.db, box, clock });
  const limits = new Limits({ store, options: { databaseUrl: config.databaseUrl, redisUrl: config.redisUrl } });
  const challenges = new ChallengeService({ clock, keys: authKeys, limits, sms });
  const users = new Users({ db: store.db, clock });
  const sessions = new Sessions({ db: store.db, clock, keys: authKeys, issuer: config.publicUrl });
  const flows = { db: store.db, transactions, clock, instance, challenges, limits, users, sessions };
  const signIns = new SignIns(flows);
  return {
    ...deps,
    transactions,
    audit: new AuditLog({ db: store.db }),
    secretKeys: new SecretKeys({ db: store.db, clock }),
    instance,
    templates,
    sms,
    smsMetrics,
    callbackUrls,
    smsCallbacks,
    smsMessages: new SmsMessageLog(store.db, sms, instance),
    deliveryStats: new DeliveryStatsService({ db: store.db, clock }),
    dispatcher,
    smsStatusChecks,
    carrierHttp,
    authKeys,
    limits,
    challenges,
    clients: new Clients({ db: store.db, clock, transactions, limits, instance }),
    housekeeping: new Housekeeping({ db: store.db, clock, logger }),
    users,
    sessions,
    signUps: new SignUps(flows),
    signIns,
    operatorUsers: new OperatorUsers({ users, signIns, instance }),
    mfa: new Mfa(flows),
    webhooks: {
      endpoints,
      deliveries: new WebhookDeliveries({ db: store.db, clock }),
      worker: new WebhookWorker({ db: store.db, clock, logger, config: config.webhooks, endpoints }),
    },
  };
}
