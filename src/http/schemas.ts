/**
 * Shared pieces of the HTTP schemas (TypeBox: JSON Schema that Fastify validates with Ajv and
 * @fastify/swagger publishes as OpenAPI). Nullable fields use `type: [T, "null"]` rather than `anyOf`, so a
 * wrong type is reported once, with the field's path.
 */
import { Type, type Static, type TSchema, type TUnsafe } from 'typebox';

export function Nullable<T extends TSchema>(schema: T): TUnsafe<Static<T> | null> {
  const base = schema as unknown as { type?: string; enum?: unknown[] };
  if (typeof base.type !== 'string') throw new TypeError('Nullable() takes a schema with a single type');
  return Type.Unsafe<Static<T> | null>({ ...schema, type: [base.type, 'null'], ...(base.enum ? { enum: [...base.enum, null] } : {}) });
}

export function StringEnum<const V extends readonly string[]>(values: V, options: { description?: string } = {}) {
  return Type.Unsafe<V[number]>({ type: 'string', enum: [...values], ...options });
}

export const ErrorEnvelope = Type.Object(
  {
    errors: Type.Array(
      Type.Object({
        code: Type.String(),
        message: Type.String(),
        long_message: Type.String(),
        meta: Type.Object({ param_name: Type.Optional(Type.String()) }, { additionalProperties: true }),
      }),
    ),
  },
  { $id: 'ErrorEnvelope', description: 'Every error response has this shape.' },
);

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50, description: 'Page size' })),
  starting_after: Type.Optional(Type.String({ description: 'The `next_cursor` of the previous page' })),
};

export function Page<T extends TSchema>(item: T) {
  return Type.Object({ data: Type.Array(item), next_cursor: Nullable(Type.String()) });
}

/** Response schemas for the errors a route can answer with, for the OpenAPI document. */
export function errorResponses(...statuses: number[]): Record<number, TSchema> {
  const out: Record<number, TSchema> = {};
  for (const status of statuses) out[status] = Type.Ref('ErrorEnvelope');
  return out;
}
