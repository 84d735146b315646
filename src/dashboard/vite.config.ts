/**
 * Builds the dashboard (Preact + TypeScript) into `dist/dashboard`, served by the server at /dashboard.
 * `npm run dev:dashboard` serves it with live reload and forwards the API to a server on :3000.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export const dashboardOutDir = fileURLToPath(new URL('../../dist/dashboard', import.meta.url));

export default defineConfig({
  root: fileURLToPath(new URL('./app', import.meta.url)),
  base: '/dashboard/',
  // Preact's JSX runtime, without a framework plugin: the production build needs nothing else.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: dashboardOutDir,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
  },
  server: { proxy: { '/v1': 'http://127.0.0.1:3000' } },
  clearScreen: false,
});
