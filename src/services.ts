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
  webhooks: { endpoints: WebhookEndpoints; deliveries: WebhookDeliveries; worker: WebhookWorker };
}

export function buildServices(deps: { config: Config; clock: Clock; logger: Logger; store: Store; box: SecretBox }): Services {
  const { store, clock, box, config, logger } = deps;
  const instance = new InstanceService(store.db, box, clock);
  const templates = new TemplateService(store.db, store.dialect, clock, instance);
  instance.addCheck(templates.settingsCheck);
  const endpoints = new WebhookEndpoints(store.db, box, clock, config.webhooks);
  return {
    ...deps,
    audit: new AuditLog(store.db),
    secretKeys: new SecretKeys(store.db, clock),
    instance,
    templates,
    sms: new SmsEngine(store.db, clock, instance, templates),
    webhooks: {
      endpoints,
      deliveries: new WebhookDeliveries(store.db, store.dialect, clock),
      worker: new WebhookWorker(store, clock, logger, config.webhooks, endpoints),
    },
  };
}
