/** Builds the dashboard once before its tests, exactly as `npm run build:dashboard` does, so a fresh clone passes. */
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

export async function setup(): Promise<void> {
  await build({ configFile: fileURLToPath(new URL('../../src/dashboard/vite.config.ts', import.meta.url)), logLevel: 'warn' });
}
