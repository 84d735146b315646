/**
 * The SDK's FAPI types are generated from the server's OpenAPI document (and its error codes from `src/errors.ts`):
 * regenerating them from the server as it is now must give the checked-in file, byte for byte. On a difference, regenerate with
 * `npx tsx packages/sdk/scripts/generate-types.ts <openapi.json or server URL>` and review the SDK against it.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useTestServer } from '../helpers/server.js';
import { ERROR_CODES } from '../../src/errors.js';
import { GENERATED_FILE, renderFapiTypes, type OpenApiDocument } from '../../packages/sdk/scripts/generate-types.js';

describe('SDK types from the server OpenAPI document', () => {
  const suite = useTestServer('sqlite');

  it('the checked-in packages/sdk/src/fapi.generated.ts is what the server documents today', async () => {
    const res = await suite.server.inject({ method: 'GET', url: '/v1/openapi.json' });
    expect(res.statusCode).toBe(200);
    const document = res.json() as OpenApiDocument;
    const generated = renderFapiTypes(document, Object.keys(ERROR_CODES));
    // Every FAPI route is in it (a route the generator skipped would leave the SDK blind to it).
    const fapiRoutes = Object.entries(document.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([, op]) => op.tags?.includes('FAPI'))
        .map(([method]) => `'${method.toUpperCase()} ${path}'`),
    );
    expect(fapiRoutes.length).toBeGreaterThan(20);
    for (const route of fapiRoutes) expect(generated).toContain(route);
    expect(fs.readFileSync(GENERATED_FILE, 'utf8'), "fapi.generated.ts is stale: regenerate it (see this file's header)").toBe(generated);
  });

  it('the generator turns the schema forms the server uses into the types they mean', () => {
    const generated = renderFapiTypes(
      {
        paths: {
          '/v1/things/{id}': {
            post: {
              tags: ['FAPI'],
              summary: 'A thing',
              parameters: [{ in: 'path', name: 'id', required: true, schema: { type: 'string' } }],
              requestBody: {
                content: {
                  'application/json': {
                    schema: {
                      type: 'object',
                      required: ['kind'],
                      properties: { kind: { type: 'string', enum: ['a', 'b'] }, note: { type: 'string' } },
                      additionalProperties: false,
                    },
                  },
                },
              },
              responses: {
                '201': {
                  content: {
                    'application/json': {
                      schema: {
                        type: 'object',
                        required: ['n', 'at'],
                        properties: {
                          n: { type: 'integer' },
                          at: { type: ['integer', 'null'], description: 'ms' },
                          tags: { type: 'array', items: { type: 'string', enum: ['x', 'y'] } },
                        },
                      },
                    },
                  },
                },
                '422': { content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorEnvelope' } } } },
              },
            },
          },
          '/v1/secret': {
            get: { tags: ['BAPI'], responses: { '200': { content: { 'application/json': { schema: { type: 'object' } } } } } },
          },
        },
      },
      ['z_code', 'a_code'],
    );
    expect(generated).toContain(
      `'POST /v1/things/{id}': {\n    params: {\n      id: string;\n    };\n    body: {\n      kind: "a" | "b";\n      note?: string;\n    };\n    status: 201;\n    response: {\n      n: number;\n      /** ms */\n      at: number | null;\n      tags?: ("x" | "y")[];\n      [key: string]: unknown;\n    };\n  };`,
    );
    expect(generated).not.toContain('/v1/secret');
    expect(generated).toContain('export type ServerErrorCode =\n  | "a_code"\n  | "z_code";');
  });
});
