/**
 * Generated bad input over every route of the OpenAPI document, on both stores. For each route and each of its
 * parameters (path, query, body fields, the body as a whole) the test sends values a client may send by mistake or
 * on purpose — NUL and other control characters, unpaired surrogates, bad percent-encoding, non-finite and
 * over-long numbers, over-long text, wrong types, empty and huge arrays — with valid credentials, and checks that
 * no answer is a 5xx, every refusal is the documented envelope with a catalogued code and a request id, nothing
 * is logged at error level, and a refusal leaves every table of the store as it was.
 *
 * Every value marked "always" is sent to every parameter of its kind; a fixed-seed sample of the others is added,
 * so a run is repeatable and bounded.
 */
import { describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { ERROR_CODES } from '../../src/errors.js';
import { STORES, storeFingerprint, type TestServer } from '../helpers/server.js';
import { type Fapi, numbers, useAuthServer } from '../auth/helpers.js';

interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minItems?: number;
}

interface Operation {
  security?: Record<string, string[]>[];
  parameters?: { in: 'path' | 'query' | 'header'; name: string; schema: JsonSchema }[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
}

interface BadRequest {
  /** What is wrong, for the failure list. */
  label: string;
  method: string;
  url: string;
  /** Raw JSON text (not always valid JSON). */
  body?: string;
  /** A raw path segment that the answer must never repeat. */
  pathSegment?: string;
}

interface Values {
  always: string[];
  sampled: string[];
}

/** A query value that stands for "the parameter twice" (an array). */
const REPEATED = '\u0000repeated';
const EXTRA_SAMPLES = 3;
const SEED = 17;
/** A well-formed id that names nothing: the route's own checks run, and nothing can be changed through it. */
const ABSENT_ID = 'absent_01J00000000000000000000000';

const PATH_VALUES: Values = {
  always: ['%00', 'a%00b', '%ZZ', '%C0%AE', '%ED%A0%80', 'a'.repeat(101)],
  sampled: ['%01%1F%7F', '%FF', 'a'.repeat(65), '%F0%9F%98%80', '..%2F..', '%2500', '-1', 'Infinity', '%E2%80%AE', '%20'],
};

const QUERY_TEXT: Values = {
  // `AA` is the base64url form of a NUL: a cursor that decodes to one.
  always: ['%00', 'a%00b', '%ED%A0%80', '%ZZ', 'AA'],
  sampled: ['%01', '%7F', 'x'.repeat(5_000), '', '%EF%BF%BF', '%F0%9F%98%80', '%5B%5D', REPEATED],
};

const QUERY_INTEGER: Values = {
  always: ['Infinity', '-Infinity', '1e400', '-1e400', 'NaN', '123456789012345678901234'],
  sampled: ['-123456789012345678901234', '1.5', '', 'abc', '%00', '0x10', '9007199254740993', '-1', REPEATED],
};

function typesOf(schema: JsonSchema): string[] {
  return (Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : []).filter((t) => t !== 'null');
}

function nullable(schema: JsonSchema): boolean {
  return Array.isArray(schema.type) && schema.type.includes('null');
}

/** Raw JSON texts for one body field, by its type. */
function bodyValues(schema: JsonSchema): Values {
  const notNull = nullable(schema) ? [] : ['null'];
  switch (typesOf(schema)[0]) {
    case 'string':
      return {
        always: ['"\\u0000"', '"a\\u0000b"', '"\\ud800"', '"x\\udc00"'],
        sampled: [
          '"\\u0001\\u001f\\u007f"',
          JSON.stringify('x'.repeat(20_000)),
          '""',
          '"\\ud83d\\ude00"',
          '123',
          'true',
          '{}',
          '[]',
          ...notNull,
        ],
      };
    case 'integer':
    case 'number':
      return {
        always: ['1e400', '-1e400', '123456789012345678901234'],
        sampled: ['1.5', '"5"', '"Infinity"', 'true', '-1', '9007199254740993', '[]', ...notNull],
      };
    case 'boolean':
      return { always: ['"true"', '0'], sampled: ['"\\u0000"', '[]', '{}', ...notNull] };
    case 'array': {
      const item = schema.items ? JSON.stringify(validSample(schema.items)) : '"a"';
      return {
        always: ['[]', `[${new Array(20_000).fill(item).join(',')}]`, '["\\u0000"]', '["\\ud800"]', '[1e400]'],
        sampled: ['"x"', '[null]', '[[]]', '{}', ...notNull],
      };
    }
    case 'object':
      return { always: ['{"\\u0000":"x"}', '{"k":"\\u0000"}', '[]'], sampled: ['"x"', '1', '{"k":1e400}', '{"k\\udc00":1}', ...notNull] };
    default:
      return { always: ['"\\u0000"', '1e400', '{"\\u0000":1}'], sampled: [] };
  }
}

/** Whole bodies, for every route that takes one. */
const WHOLE_BODIES: Values = {
  always: ['{"\\u0000":"x"}', '{"k\\ud800":1}', '{"k":"\\u0000"}', '"\\u0000"', '1e400', '{"k":1e400}', 'null', '[]'],
  sampled: [
    '{"k":NaN}',
    `${'['.repeat(5_000)}${']'.repeat(5_000)}`,
    '{',
    '{"k":"\\ud800\\ud800"}',
    `[${new Array(20_000).fill('1').join(',')}]`,
  ],
};

/** A value the schema accepts (enough for the other fields of a request to be right). */
function validSample(schema: JsonSchema): unknown {
  if (schema.enum) return schema.enum.find((v) => v !== null);
  switch (typesOf(schema)[0]) {
    case 'string': {
      const candidates = ['x', '123456', 'US', 'sms.delivered', '+12015550100', 'http://127.0.0.1:9/hook', 'password-1234'];
      const fits = (c: string) =>
        c.length >= (schema.minLength ?? 0) &&
        c.length <= (schema.maxLength ?? Infinity) &&
        (!schema.pattern || new RegExp(schema.pattern, 'u').test(c));
      return candidates.find(fits) ?? 'x';
    }
    case 'integer':
    case 'number':
      return Math.min(Math.max(1, schema.minimum ?? 1), schema.maximum ?? Infinity);
    case 'boolean':
      return true;
    case 'array':
      return new Array(schema.minItems ?? 0).fill(schema.items ? validSample(schema.items) : 'x');
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const name of schema.required ?? []) out[name] = validSample(schema.properties?.[name] ?? {});
      return out;
    }
    default:
      return 'x';
  }
}

/** Every field of a body schema, nested objects included, with its path. */
function bodyFields(schema: JsonSchema, path: string[] = []): { path: string[]; schema: JsonSchema }[] {
  const out: { path: string[]; schema: JsonSchema }[] = [];
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    out.push({ path: [...path, name], schema: child });
    if (typesOf(child)[0] === 'object') out.push(...bodyFields(child, [...path, name]));
  }
  return out;
}

const PLACEHOLDER = 'generated-bad-value-placeholder';

/** The valid base body with one field (created along its path if absent) replaced by raw JSON text. */
function bodyWith(base: unknown, path: string[], raw: string): string {
  const root = structuredClone(base) as Record<string, unknown>;
  let node = root;
  for (const name of path.slice(0, -1)) {
    const next = node[name];
    const child = typeof next === 'object' && next !== null && !Array.isArray(next) ? next : {};
    node[name] = child;
    node = child as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = PLACEHOLDER;
  return JSON.stringify(root).replace(`"${PLACEHOLDER}"`, () => raw);
}

/** mulberry32: a small seeded generator, so every run sends the same sample. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function pick(values: Values, random: () => number): string[] {
  const pool = [...values.sampled];
  const chosen: string[] = [];
  while (chosen.length < EXTRA_SAMPLES && pool.length > 0) chosen.push(...pool.splice(Math.floor(random() * pool.length), 1));
  return [...values.always, ...chosen];
}

function queryPart(name: string, raw: string): string {
  return raw === REPEATED ? `${name}=1&${name}=2` : `${name}=${raw}`;
}

/** Every bad request for one operation. */
function badRequests(method: string, template: string, op: Operation, random: () => number): BadRequest[] {
  const params = op.parameters ?? [];
  const pathNames = params.filter((p) => p.in === 'path').map((p) => p.name);
  const url = (path: Record<string, string> = {}, query = '') =>
    template.replace(/\{(\w+)\}/g, (_m, name: string) => path[name] ?? ABSENT_ID) + (query ? `?${query}` : '');
  const schema = op.requestBody?.content['application/json']?.schema;
  const base = schema ? JSON.stringify(validSample(schema)) : undefined;
  const out: BadRequest[] = [];

  for (const name of pathNames) {
    for (const raw of pick(PATH_VALUES, random))
      out.push({ label: `path ${name}=${raw.slice(0, 40)}`, method, url: url({ [name]: raw }), body: base, pathSegment: raw });
  }
  for (const param of params.filter((p) => p.in === 'query')) {
    const values = typesOf(param.schema)[0] === 'integer' ? QUERY_INTEGER : QUERY_TEXT;
    for (const raw of pick(values, random))
      out.push({ label: `query ${queryPart(param.name, raw).slice(0, 40)}`, method, url: url({}, queryPart(param.name, raw)), body: base });
  }
  // A parameter name no route knows, made of bad text: ignored where there is no query schema, refused where there is.
  for (const raw of ['%00', 'a%ED%A0%80']) out.push({ label: `query name ${raw}`, method, url: url({}, `${raw}=1`), body: base });
  if (schema) {
    const sample = validSample(schema);
    for (const field of bodyFields(schema)) {
      for (const raw of pick(bodyValues(field.schema), random))
        out.push({
          label: `body ${field.path.join('.')}=${raw.slice(0, 40)}`,
          method,
          url: url(),
          body: bodyWith(sample, field.path, raw),
        });
    }
  }
  if (method !== 'GET')
    for (const raw of pick(WHOLE_BODIES, random)) out.push({ label: `whole body ${raw.slice(0, 40)}`, method, url: url(), body: raw });
  return out;
}

describe.each(STORES)('generated bad input over every route of the OpenAPI document on %s', (kind) => {
  let server!: TestServer;
  let fapi!: Fapi;
  let sessionId = '';
  useAuthServer(
    kind,
    async (s, f) => {
      server = s;
      fapi = f;
      ({ sessionId } = await fapi.signedUpUser(numbers(7_000)()));
    },
    // Webhook endpoints a generated request creates may point at this host; their failed deliveries wait an hour.
    { env: { AUTHN_WEBHOOKS_ALLOW_PRIVATE: 'true', AUTHN_WEBHOOKS_RETRY_SCHEDULE: '1h' } },
  );

  /** A session token lives 60 s: a fresh one for each route. */
  async function sessionToken(): Promise<string> {
    const res = await fapi.call('POST', `/v1/client/sessions/${sessionId}/tokens`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json().jwt;
  }

  async function credentials(op: Operation): Promise<string | null> {
    const scheme = Object.keys(op.security?.[0] ?? {})[0];
    if (scheme === 'secretKey') return server.key;
    if (scheme === 'clientToken') return fapi.token;
    if (scheme === 'sessionToken') return sessionToken();
    return null;
  }

  /** What an accepted request set going (an SMS to dispatch, a webhook to deliver) has finished. */
  async function settled(): Promise<Record<string, string>> {
    let previous = await storeFingerprint(server);
    for (let i = 0; i < 50; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const next = await storeFingerprint(server);
      if (JSON.stringify(next) === JSON.stringify(previous)) return next;
      previous = next;
    }
    throw new Error('the store never settled after an accepted request');
  }

  function envelopeProblem(res: LightMyRequestResponse): string | null {
    let body: { errors?: { code?: string; message?: unknown; long_message?: unknown; meta?: unknown }[] };
    try {
      body = res.json();
    } catch {
      return 'the body is not JSON';
    }
    const errors = body.errors;
    if (!Array.isArray(errors) || errors.length === 0) return 'no errors array';
    for (const error of errors) {
      if (typeof error.code !== 'string' || !(error.code in ERROR_CODES)) return `code ${String(error.code)} is not in the catalogue`;
      if (typeof error.message !== 'string' || typeof error.long_message !== 'string') return 'message or long_message missing';
      if (error.meta !== undefined && (typeof error.meta !== 'object' || error.meta === null)) return 'meta is not an object';
    }
    const expected = ERROR_CODES[errors[0]!.code as keyof typeof ERROR_CODES].status;
    return expected === res.statusCode ? null : `status ${res.statusCode} but ${errors[0]!.code} is ${expected}`;
  }

  it('answers every one below 500, refuses in the envelope, logs no error and changes nothing when it refuses', {
    timeout: 300_000,
  }, async () => {
    const doc = (await server.inject({ method: 'GET', url: '/v1/openapi.json' })).json() as {
      paths: Record<string, Record<string, Operation>>;
    };
    const random = seeded(SEED);
    const failures: string[] = [];
    const routes = new Set<string>();
    const refusedCodes = new Set<string>();
    let sent = 0;
    let before = await storeFingerprint(server);

    for (const [template, ops] of Object.entries(doc.paths)) {
      for (const [lowerMethod, op] of Object.entries(ops)) {
        const method = lowerMethod.toUpperCase();
        const auth = await credentials(op);
        before = await settled();
        for (const request of badRequests(method, template, op, random)) {
          routes.add(`${method} ${template}`);
          const logsBefore = server.logs.length;
          const res = await server.inject({
            method: request.method as 'GET',
            url: request.url,
            remoteAddress: '203.0.113.7',
            headers: {
              ...(auth ? { authorization: `Bearer ${auth}` } : {}),
              ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}),
            },
            ...(request.body !== undefined ? { payload: request.body } : {}),
          });
          sent++;
          const where = `${method} ${template} ${request.label}: ${res.statusCode}`;
          const errorLines = server.logs.slice(logsBefore).filter((line) => /"level":(50|60)\b/.test(line));
          if (errorLines.length > 0) failures.push(`${where}: logged ${errorLines[0]!.slice(0, 200)}`);
          if (res.statusCode >= 500) failures.push(`${where}: ${res.body.slice(0, 200)}`);
          if (!res.headers['x-request-id']) failures.push(`${where}: no x-request-id`);
          if (res.statusCode < 300) {
            before = await settled();
            continue;
          }
          const problem = envelopeProblem(res);
          if (problem) failures.push(`${where}: ${problem}: ${res.body.slice(0, 200)}`);
          else refusedCodes.add((res.json() as { errors: { code: string }[] }).errors[0]!.code);
          if (request.pathSegment && (res.statusCode === 400 || res.statusCode === 414) && res.body.includes(request.pathSegment))
            failures.push(`${where}: the answer repeats the path`);
          const after = await storeFingerprint(server);
          // Per-address abuse counters count attempts, refused or not; nothing else may move.
          const changed = Object.keys(after).filter((table) => table !== 'rate_limits' && after[table] !== before[table]);
          if (changed.length > 0) {
            failures.push(`${where}: the refusal changed ${changed.join(', ')}`);
            before = after;
          }
        }
      }
    }

    expect(failures).toEqual([]);
    // The document was read and walked: every route got its share.
    expect(routes.size).toBe(Object.values(doc.paths).reduce((n, ops) => n + Object.keys(ops).length, 0));
    expect(routes.size).toBeGreaterThan(40);
    expect(sent).toBeGreaterThan(1_000);
    for (const code of ['form_param_format_invalid', 'malformed_request_url', 'path_param_too_long']) expect(refusedCodes).toContain(code);
  });
});
