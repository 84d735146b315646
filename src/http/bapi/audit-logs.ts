/** `GET /v1/audit_logs`: the append-only audit log, newest first, filtered and paginated. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Nullable, Page, PageQuery, errorResponses } from '../schemas.js';
import type { RouteOptions } from '../route-options.js';

const AuditEntry = Type.Object({
  id: Type.String(),
  object: Type.Literal('audit_log'),
  created_at: Type.Integer({ description: 'ms since the epoch' }),
  actor: Type.Object({ type: Type.String(), id: Nullable(Type.String()) }),
  action: Type.String(),
  target: Nullable(Type.Object({ type: Type.String(), id: Type.String() })),
  data: Type.Object({}, { additionalProperties: true }),
});

const AuditQuery = Type.Object(
  {
    action: Type.Optional(Type.String({ description: 'Exact action, or a prefix ending in * (sms.*)', minLength: 1 })),
    target_type: Type.Optional(Type.String({ minLength: 1 })),
    target_id: Type.Optional(Type.String({ minLength: 1 })),
    actor_id: Type.Optional(Type.String({ minLength: 1 })),
    created_after: Type.Optional(Type.Integer({ minimum: 0, description: 'ms since the epoch, inclusive' })),
    created_before: Type.Optional(Type.Integer({ minimum: 0, description: 'ms since the epoch, exclusive' })),
    ...PageQuery,
  },
  { additionalProperties: false },
);

export const auditLogRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  app.get(
    '/v1/audit_logs',
    {
      schema: {
        summary: 'List audit log entries',
        querystring: AuditQuery,
        response: { 200: Page(AuditEntry), ...errorResponses(401, 422) },
      },
    },
    async (request) => {
      const { starting_after, ...filter } = request.query;
      return services.audit.list(filter, starting_after);
    },
  );
};
