/**
 * Start-up, in order: logger → encryption key → store and migrations → key check (and rotation) → env
 * bootstrap → first secret key → HTTP. Any problem before listening is a `StartupError`: one clear line.
 */
import path from 'node:path';
import type { DestinationStream } from 'pino';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { SecretBox, loadOrCreateKeyFile } from './secret-box.js';
import { migrate, openStore, type Store } from './store/database.js';
import { checkEncryptionKey } from './store/encryption-key.js';
import { buildServices, type Services } from './services.js';
import { applyBootstrap } from './instance/bootstrap.js';
import { SYSTEM_ACTOR } from './audit/audit-log.js';
import { DASHBOARD_PREFIX } from './dashboard/serve.js';
import { buildApp, type App } from './http/app.js';
import { resealCallbackSecret } from './sms/callback-urls.js';
import { resealPayloads } from './store/sms-outbox.js';

/** How often each process looks for messages whose delivery report is overdue (see src/sms/status-checks.ts). */
const STATUS_CHECK_ROUND_MS = 60_000;

export interface StartOptions {
  clock?: Clock;
  /** Where log lines go (default stdout). */
  logDestination?: DestinationStream;
  /** Where the notices for the person starting the server go (the dashboard's address, the generated first secret key). Default stdout. */
  print?: (line: string) => void;
  /** false: build everything but do not open a port (in-process tests use `app.inject`). */
  listen?: boolean;
}

export interface RunningServer {
  app: App;
  services: Services;
  /** `http://host:port` once listening. */
  url: string | null;
  close(): Promise<void>;
}

/** Opens the store with the configured key, applying migrations and the key check. Shared with the CLI. */
export async function openConfiguredStore(config: Config, logger: Logger, clock: Clock): Promise<{ store: Store; services: Services }> {
  let key = config.encryptionKey;
  if (!key) {
    const file = path.join(config.dataDir, 'encryption.key');
    const loaded = loadOrCreateKeyFile(file);
    key = loaded.key;
    logger.warn(
      { file },
      `!!! DEVELOPMENT MODE: AUTHN_ENCRYPTION_KEY is not set, so credentials are encrypted with ${loaded.created ? 'a new key written to' : 'the key in'} ${file}. ` +
        'Anyone who can read the data folder can read them. Set AUTHN_ENCRYPTION_KEY (32 random bytes, base64) in production. !!!',
    );
  }
  const box = new SecretBox(key, config.previousEncryptionKeys);
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  let services: Services | null = null;
  try {
    const applied = await migrate(store);
    if (applied.length) logger.info({ migrations: applied }, 'migrations applied');
    const built = buildServices({ config, clock, logger, store, box });
    services = built;
    const rotation = await checkEncryptionKey(store.db, box, [
      (tx) => built.instance.reseal(tx),
      (tx) => built.webhooks.endpoints.reseal(tx),
      (tx) => built.authKeys.reseal(tx),
      (tx) => resealCallbackSecret(tx, box),
      (tx) => resealPayloads(tx, box),
    ]);
    if (rotation.rotatedFrom)
      logger.warn({ from: rotation.rotatedFrom, to: box.keyId, resealed: rotation.resealed }, 'encryption key rotated');
    await built.instance.checkSecretsDecrypt();
    await built.callbackUrls.init(store.db, box);
    return { store, services: built };
  } catch (error) {
    await services?.limits.close();
    await store.close();
    throw error;
  }
}

export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const clock = options.clock ?? systemClock;
  const logger = createLogger(config.logLevel, options.logDestination);
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const { store, services } = await openConfiguredStore(config, logger, clock);

  let app: App | null = null;
  try {
    await applyBootstrap(services.instance, config.bootstrap, logger);
    await createFirstSecretKey(services, config, print);
    await services.authKeys.init();
    app = await buildApp({ services, logger, bodyLimitBytes: config.bodyLimitBytes, trustProxy: config.trustProxy });
    let url: string | null = null;
    if (options.listen !== false) {
      await app.listen({ port: config.port, host: config.host });
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
      logger.info({ url, store: store.description }, 'authn.sh listening');
      // With port 0 (chosen by the system) the configured public URL cannot name the port: the listening address can.
      print(`The dashboard is at ${config.port === 0 ? url : config.publicUrl}${DASHBOARD_PREFIX} (sign in with a secret key).`);
    }
    services.webhooks.worker.start();
    services.housekeeping.start();
    if (config.sms.dispatcher) {
      services.dispatcher.start();
      services.smsStatusChecks.start(STATUS_CHECK_ROUND_MS);
    }
    const running = app;
    return {
      app: running,
      services,
      url,
      async close() {
        // The dispatcher first: its in-flight sends may still get carrier callbacks, which the app answers.
        await services.dispatcher.stop();
        await services.smsStatusChecks.stop();
        await running.close();
        await services.webhooks.worker.stop();
        services.housekeeping.stop();
        await services.carrierHttp.close();
        await services.limits.close();
        await store.close();
      },
    };
  } catch (error) {
    await services.webhooks.worker.stop();
    await app?.close();
    await services.carrierHttp.close();
    await services.limits.close();
    await store.close();
    throw error;
  }
}

/** On the very first start (no key at all): AUTHN_SECRET_KEY becomes the first key, or one is made and shown once. */
async function createFirstSecretKey(services: Services, config: Config, print: (line: string) => void): Promise<void> {
  const created = await services.secretKeys.createFirst({ key: config.secretKey ?? undefined, name: 'first key', actor: SYSTEM_ACTOR });
  if (created && !config.secretKey) {
    const { key } = created;
    // Printed, not logged: log lines are shipped and kept; this is the only time the key is visible.
    print(
      `\nYour first secret key (shown once, store it now):\n\n    ${key}\n\nUse it as "Authorization: Bearer ${key.slice(0, 8)}…". Make more with "authn keys create".\n`,
    );
  }
}
