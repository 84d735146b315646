/**
 * `authn serve`'s start-up (`startServer` with the environment's config), held until a line arrives on stdin:
 * a test loads several of these, then releases them at the same moment (see `spawnServersTogether`).
 */
import { loadConfig } from '../../src/config.js';
import { startServer } from '../../src/server.js';

process.stdin.once('data', () => {
  process.stdin.destroy();
  startServer(loadConfig()).then(
    (server) => process.once('SIGTERM', () => void server.close().then(() => process.exit(0))),
    (error: unknown) => {
      process.stderr.write(`authn: ${String(error)}\n`);
      process.exit(1);
    },
  );
});
process.stdout.write('ready\n');
