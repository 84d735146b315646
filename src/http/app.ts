/**
 * The HTTP server: Fastify with TypeBox schemas, one error envelope, and three faces registered side by side:
 * BAPI (secret-key auth), FAPI (public) and carrier callbacks (verified by signature). Routes hold no
 * business rules: they validate input, call one service, and shape the answer.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import { Ajv, type Options as AjvOptions } from 'ajv';
import ajvFormats from 'ajv-formats';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from '../logger.js';
import type { Config } from '../config.js';
import { appError } from '../errors.js';
import { MAX_PATH_PARAM_LENGTH, clientErrorHandler, errorHandler, sendError } from './errors.js';
import { withInputRules } from './validation.js';
import { ErrorEnvelope } from './schemas.js';
import { bapiRoutes } from './bapi/index.js';
import { fapiRoutes } from './fapi/index.js';
import { CLIENT_COOKIE } from './fapi/browser.js';
import { callbackRoutes } from './callbacks/index.js';
import { metricsRoutes } from './metrics.js';
import { dashboardRoutes, defaultDashboardDir } from '../dashboard/serve.js';
import type { Services } from '../services.js';

// ajv-formats is CommonJS: under ESM its function is the module's `default` property.
const addFormats = ajvFormats.default;

/**
 * Headers of every answer, the router's refusals included. Answers carry personal data and tokens: no cache may keep
 * them, no browser may read them as another type; an answer that says how to cache it (the dashboard's files, the
 * JWKS) keeps its own rule.
 */
function withAnswerHeaders(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  reply.header('x-request-id', request.id);
  reply.header('x-content-type-options', 'nosniff');
  if (!reply.hasHeader('cache-control') && !reply.raw.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
  return reply;
}

function createFastify(logger: Logger, bodyLimitBytes: number, trustProxy: Config['trustProxy']) {
  return Fastify({
    loggerInstance: logger,
    bodyLimit: bodyLimitBytes,
    // request.ip (the per-address abuse limits, the audit log) comes from X-Forwarded-For only via these proxies.
    // A hop count is proxy-addr's own rule (trust the nearest n), written out: Fastify's types omit numbers.
    trustProxy: typeof trustProxy === 'number' ? (_address: string, hop: number) => hop < trustProxy : trustProxy,
    // One line per request comes from the onResponse hook below; Fastify's own two lines are off.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PATH_PARAM_LENGTH },
    // Bad percent-encoding and over-long path parameters are refused by the router, before any route or hook runs:
    // the same envelope, and the headers the onSend hook would have added.
    frameworkErrors: (error, request, reply) => errorHandler(error, request, withAnswerHeaders(request, reply)),
    clientErrorHandler,
  }).withTypeProvider<TypeBoxTypeProvider>();
}

export type App = ReturnType<typeof createFastify>;

export interface RouteEntry {
  method: string;
  url: string;
  tags: string[];
  documented: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    routeTable: readonly RouteEntry[];
  }
}

export interface AppOptions {
  services: Services;
  logger: Logger;
  bodyLimitBytes: number;
  trustProxy: Config['trustProxy'];
}

function makeAjv(options: AjvOptions): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, ...options });
  addFormats(ajv);
  // Keywords @fastify/swagger and TypeBox put in schemas for documentation only.
  ajv.addKeyword('example');
  return ajv;
}

export async function buildApp(options: AppOptions): Promise<App> {
  const app = createFastify(options.logger, options.bodyLimitBytes, options.trustProxy);

  // Bodies are checked strictly (a string is never silently turned into a number, unknown fields are
  // refused, not dropped); query strings and path parameters arrive as text, so they are coerced.
  const bodyAjv = makeAjv({ coerceTypes: false, removeAdditional: false, useDefaults: true });
  const textAjv = makeAjv({ coerceTypes: true, removeAdditional: false, useDefaults: true });
  for (const ajv of [bodyAjv, textAjv]) ajv.addSchema(ErrorEnvelope);
  app.setValidatorCompiler(({ schema, httpPart }) => withInputRules((httpPart === 'body' ? bodyAjv : textAjv).compile(schema)));
  app.addSchema(ErrorEnvelope);

  // Only JSON bodies (and, on carrier callback routes, forms): text/plain gets 415 like any other type.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, appError('route_not_found', { longMessage: `No route ${request.method} ${request.url.split('?')[0]}` })),
  );
  if (options.trustProxy === false) {
    // Behind a proxy that nobody said to trust, every client has the proxy's address, and shares its per-address
    // limits: say so once, in the log, at the first request that shows it.
    let warned = false;
    app.addHook('onRequest', async (request) => {
      if (warned || request.headers['x-forwarded-for'] === undefined) return;
      warned = true;
      request.log.warn(
        { peer: request.ip },
        'requests arrive through a proxy (X-Forwarded-For) but AUTHN_TRUST_PROXY is not set: every client shares the proxy address, and its per-address abuse limits',
      );
    });
  }
  // A request already under way when the server closes is still answered, but Node would keep its
  // connection alive for the keep-alive timeout (over a minute) and hold the close open that long.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (request, reply) => {
    withAnswerHeaders(request, reply);
    if (closing) reply.header('connection', 'close');
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        path: request.routeOptions.url ?? request.url.split('?')[0],
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request',
    );
    // Sent before the close began, finished after it: end the connection now that it is idle.
    if (closing) request.raw.socket?.end();
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'authn.sh',
        version: '0.4.0',
        description: 'Phone & SMS authentication server. BAPI routes need a secret key; FAPI routes are public.',
      },
      components: {
        securitySchemes: {
          secretKey: { type: 'http', scheme: 'bearer', description: 'sk_live_… or sk_test_…' },
          clientToken: { type: 'http', scheme: 'bearer', description: 'FAPI client token ct_… (from POST /v1/client)' },
          clientCookie: {
            type: 'apiKey',
            in: 'cookie',
            name: CLIENT_COOKIE,
            description: 'The client token in a browser: an HttpOnly cookie POST /v1/client sets for a page on an allowed origin',
          },
          sessionToken: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description: 'Session token (from POST /v1/client/sessions/{id}/tokens)',
          },
        },
      },
      tags: [
        { name: 'BAPI', description: 'Backend API (secret key)' },
        { name: 'FAPI', description: 'Frontend API (public)' },
        { name: 'Carrier callbacks', description: 'Called by Twilio and Vonage' },
      ],
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });

  // Every route with its OpenAPI tags, as registered: lets tests check auth and documentation route by route.
  const routeTable: RouteEntry[] = [];
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    // Read the schema lazily: the BAPI / FAPI plugins add their tags in onRoute hooks that run after this one.
    const schema = () => route.schema as { tags?: string[]; hide?: boolean } | undefined;
    for (const method of methods) {
      if (method === 'HEAD') continue;
      routeTable.push({
        method,
        url: route.url,
        get tags() {
          return schema()?.tags ?? [];
        },
        get documented() {
          return schema()?.hide !== true;
        },
      });
    }
  });
  app.decorate('routeTable', routeTable);

  app.get('/healthz', { schema: { hide: true } }, async () => {
    await options.services.store.db.selectFrom('store_meta').select('key').limit(1).execute();
    return { status: 'ok' };
  });
  app.get('/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(bapiRoutes, { services: options.services });
  await app.register(fapiRoutes, { services: options.services });
  await app.register(callbackRoutes, { services: options.services });
  await app.register(metricsRoutes, { services: options.services });
  // Static files only: the dashboard is a BAPI client like any other.
  await app.register(dashboardRoutes, { root: defaultDashboardDir() });
  return app;
}
