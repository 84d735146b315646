import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The example app imports the backend helper and the elements' styles by their package names, as an app does; here they are the sources.
  resolve: {
    alias: [
      { find: /^@authn\.sh\/js\/server$/, replacement: fileURLToPath(new URL('packages/sdk/src/server.ts', import.meta.url)) },
      { find: /^@authn\.sh\/elements\/styles$/, replacement: fileURLToPath(new URL('packages/elements/src/styles.ts', import.meta.url)) },
    ],
  },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Suites start real servers, PostgreSQL databases and child processes; two at a time suits 2 cores.
    maxWorkers: 2,
    fileParallelism: true,
    projects: [
      { extends: true, test: { name: 'server', include: ['test/**/*.test.ts'], exclude: ['test/dashboard/**'] } },
      // Browser tests against the built dashboard: the global setup builds it once per run (only when one of them runs).
      // A browser test walks a whole page flow (some take heap snapshots): a busy 2-core machine can double its time.
      { extends: true, test: { name: 'dashboard', include: ['test/dashboard/**/*.test.ts'], globalSetup: ['test/dashboard/build.global.ts'], testTimeout: 60_000 } },
    ],
  },
});
