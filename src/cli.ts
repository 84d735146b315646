#!/usr/bin/env node
/** The `authn` command: serve, migrate, and manage secret keys. */
import { Command } from 'commander';
import { loadConfig } from './config.js';
import { StartupError } from './errors.js';
import { createLogger } from './logger.js';
import { systemClock } from './clock.js';
import { openConfiguredStore, startServer } from './server.js';
import { SYSTEM_ACTOR } from './audit/audit-log.js';
import type { Services } from './services.js';

async function withStore<T>(fn: (services: Services) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, process.stderr as never);
  const { store, services } = await openConfiguredStore(config, logger, systemClock);
  try {
    return await fn(services);
  } finally {
    await store.close();
  }
}

const program = new Command('authn').description('authn.sh: phone & SMS authentication server').showHelpAfterError();

program
  .command('serve', { isDefault: true })
  .description('run the server (HTTP API, dashboard, SMS dispatcher)')
  .action(async () => {
    const server = await startServer(loadConfig());
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      server.services.logger.info({ signal }, 'shutting down');
      await server.close();
      process.exit(0);
    };
    process.on('SIGTERM', () => void stop('SIGTERM'));
    process.on('SIGINT', () => void stop('SIGINT'));
  });

program
  .command('migrate')
  .description('apply pending database migrations and exit')
  .action(async () => {
    await withStore(async () => undefined);
    process.stdout.write('migrations are up to date\n');
  });

const keys = program.command('keys').description('manage secret keys (BAPI authentication)');

keys
  .command('create')
  .description('create a secret key and print it (shown once)')
  .option('--test', 'make an sk_test_ key instead of sk_live_')
  .option('--name <name>', 'a label for the key')
  .action(async (opts: { test?: boolean; name?: string }) => {
    const { key, secretKey } = await withStore((s) =>
      s.secretKeys.create({ kind: opts.test ? 'test' : 'live', name: opts.name ?? null, actor: SYSTEM_ACTOR }),
    );
    process.stdout.write(`${secretKey.id}\n${key}\n`);
  });

keys
  .command('list')
  .description('list secret keys (without the keys themselves)')
  .action(async () => {
    const list = await withStore((s) => s.secretKeys.list());
    for (const k of list) {
      const state = k.revoked_at ? `revoked ${new Date(k.revoked_at).toISOString()}` : 'active';
      process.stdout.write(`${k.id}\t${k.hint}\t${state}\t${k.name ?? ''}\n`);
    }
  });

keys
  .command('revoke <id>')
  .description('revoke a secret key by id')
  .action(async (id: string) => {
    const revoked = await withStore((s) => s.secretKeys.revoke(id, SYSTEM_ACTOR));
    if (!revoked) {
      process.stderr.write(`authn: no secret key with id ${id}\n`);
      process.exit(1);
    }
    process.stdout.write(`revoked ${revoked.id} (${revoked.hint})\n`);
  });

program.parseAsync().catch((error: unknown) => {
  if (error instanceof StartupError) {
    process.stderr.write(`authn: ${error.message}\n`);
  } else {
    process.stderr.write(`authn: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exit(1);
});
