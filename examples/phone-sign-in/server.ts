/**
 * The example app's server: the page (its HTML, its script bundled with the elements and the SDK by esbuild at
 * start-up, its CSS)
 * on an origin of its own, and `GET /api/me`, a backend route that answers only with a valid session token.
 *
 *   AUTHN_URL=http://localhost:3000 PORT=8080 npx tsx server.ts
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { createTokenVerifier, requireSession, type NodeRequest } from '@authn.sh/js/server';
// The CSP source of the elements' stylesheet, which each element puts in its shadow root as a <style>.
import { STYLES_CSP_HASH } from '@authn.sh/elements/styles';

const HERE = fileURLToPath(new URL('.', import.meta.url));

export interface ExampleServerOptions {
  /** The authn.sh server's public URL: the FAPI the page calls, and the issuer of the session tokens. */
  authnUrl: string;
  port?: number;
  host?: string;
  /** The clock (ms) the token check uses; tests pass a fake one. */
  now?: () => number;
}

export interface ExampleServer {
  url: string;
  close(): Promise<void>;
}

/** The page's script with the elements and the SDK in it, one ES module. */
async function bundlePage(): Promise<string> {
  const result = await build({
    entryPoints: [`${HERE}app.ts`],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    write: false,
    logLevel: 'warning',
  });
  return result.outputFiles[0]!.text;
}

/**
 * Nothing but this page's own files and the FAPI: an injected script could not load code or send data elsewhere.
 * The one inline style allowed is the elements' own, by its hash (not 'unsafe-inline').
 */
function contentSecurityPolicy(authnUrl: string): string {
  return `default-src 'none'; script-src 'self'; style-src 'self' ${STYLES_CSP_HASH}; connect-src 'self' ${new URL(authnUrl).origin}; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
}

export async function startExampleServer(options: ExampleServerOptions): Promise<ExampleServer> {
  // Parsed so a mistyped AUTHN_URL stops the start with a clear error; the parser also percent-encodes quotes.
  const authnUrl = new URL(options.authnUrl).href.replace(/\/+$/, '');
  const html = fs.readFileSync(`${HERE}index.html`, 'utf8').replace('{{AUTHN_URL}}', authnUrl.replaceAll('&', '&amp;'));
  const files: Record<string, { type: string; body: string }> = {
    '/': { type: 'text/html; charset=utf-8', body: html },
    '/app.js': { type: 'text/javascript; charset=utf-8', body: await bundlePage() },
    '/style.css': { type: 'text/css; charset=utf-8', body: fs.readFileSync(`${HERE}style.css`, 'utf8') },
  };
  const verifier = createTokenVerifier({ issuer: authnUrl, ...(options.now ? { now: options.now } : {}) });
  const protect = requireSession(verifier);
  const security = {
    'content-security-policy': contentSecurityPolicy(authnUrl),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };

  const server = http.createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    if (path === '/api/me' && request.method === 'GET') {
      // requireSession answers 401 with the error envelope itself; `next` runs only with a valid token.
      void protect(request, response, (error) => {
        const { auth } = request as NodeRequest;
        if (error || !auth) {
          console.error('GET /api/me failed', error);
          response
            .writeHead(500, { 'content-type': 'application/json' })
            .end(JSON.stringify({ errors: [{ code: 'internal_error', message: 'Something went wrong' }] }));
          return;
        }
        response
          .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
          .end(JSON.stringify({ user_id: auth.sub, session_id: auth.sid }));
      });
      return;
    }
    const file = request.method === 'GET' ? files[path] : undefined;
    if (!file) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
      return;
    }
    response.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-cache', ...security }).end(file.body);
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 8080, options.host ?? 'localhost', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://localhost:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  const app = await startExampleServer({
    authnUrl: process.env.AUTHN_URL ?? 'http://localhost:3000',
    port: Number(process.env.PORT ?? 8080),
  });
  console.log(`The example app is on ${app.url} (add it to allowed_origins)`);
}
