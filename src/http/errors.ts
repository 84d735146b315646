/**
 * Error mapping: every failure leaves as the one envelope, with a stable code. Client mistakes get 4xx
 * (never 500); anything unexpected is logged with its cause and answered as `internal_error` without detail.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionError, FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorObject } from 'ajv';
import { AppError, appError, errorDetail, type ErrorDetail } from '../errors.js';

/** `/sms/twilio` + `auth_token` → `sms.twilio.auth_token`. */
function paramPath(instancePath: string, child?: string): string {
  const parts = instancePath
    .split('/')
    .filter(Boolean)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (child !== undefined) parts.push(child);
  return parts.join('.');
}

function describeType(type: unknown): string {
  const types = Array.isArray(type) ? type : [type];
  return types
    .map((t) =>
      t === 'null' ? 'null' : t === 'integer' ? 'an integer' : t === 'object' ? 'an object' : t === 'array' ? 'an array' : `a ${String(t)}`,
    )
    .join(' or ');
}

export function validationDetail(error: ErrorObject, context: string): ErrorDetail {
  const params = error.params as Record<string, unknown>;
  const at = (child?: string) => {
    const path = paramPath(error.instancePath, child);
    return path === '' ? context : path;
  };
  switch (error.keyword) {
    case 'additionalProperties': {
      const name = at(String(params.additionalProperty));
      return errorDetail('form_param_unknown', { paramName: name, longMessage: `${name} is not a known parameter` });
    }
    case 'required': {
      const name = at(String(params.missingProperty));
      return errorDetail('form_param_missing', { paramName: name, longMessage: `${name} is required` });
    }
    case 'type': {
      const name = at();
      return errorDetail('form_param_type_invalid', { paramName: name, longMessage: `${name} must be ${describeType(params.type)}` });
    }
    case 'enum':
    case 'const': {
      const name = at();
      const allowed = (params.allowedValues as unknown[] | undefined) ?? [params.allowedValue];
      return errorDetail('form_param_value_invalid', {
        paramName: name,
        longMessage: `${name} must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`,
      });
    }
    default: {
      const name = at();
      // Ajv's own wording ("must be <= 500", "must match format \"uri\"") names the rule, never the value.
      return errorDetail('form_param_format_invalid', { paramName: name, longMessage: `${name} ${error.message ?? 'is invalid'}` });
    }
  }
}

/** The router refuses a longer path parameter before any schema sees it (Fastify's `maxParamLength`). */
export const MAX_PATH_PARAM_LENGTH = 100;

// The router's own errors carry the raw path in their message: the answer never repeats it.
const FASTIFY_ERRORS: Record<string, () => AppError> = {
  FST_ERR_BAD_URL: () => appError('malformed_request_url', { longMessage: 'The request path is not valid percent-encoded UTF-8.' }),
  FST_ERR_MAX_PARAM_LENGTH: () =>
    appError('path_param_too_long', { longMessage: `A path parameter is over ${MAX_PATH_PARAM_LENGTH} characters.` }),
  FST_ERR_CTP_INVALID_JSON_BODY: () => appError('malformed_request_body', { longMessage: 'The request body could not be parsed as JSON.' }),
  FST_ERR_CTP_EMPTY_JSON_BODY: () =>
    appError('malformed_request_body', { longMessage: 'The request has Content-Type application/json but no body.' }),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => appError('malformed_request_body', { longMessage: 'Content-Length does not match the body.' }),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => appError('unsupported_media_type', { longMessage: 'Send the body as application/json.' }),
  FST_ERR_CTP_BODY_TOO_LARGE: () =>
    appError('request_body_too_large', { longMessage: 'The request body is over the size limit (AUTHN_BODY_LIMIT_BYTES).' }),
};

/** Turns whatever was thrown into an `AppError`; `null` means "unexpected", to be logged and hidden. */
export function toAppError(error: FastifyError | Error): AppError | null {
  if (error instanceof AppError) return error;
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const context = fastifyError.validationContext ?? 'body';
    return new AppError(fastifyError.validation.map((e) => validationDetail(e as ErrorObject, context)));
  }
  const mapped = fastifyError.code ? FASTIFY_ERRORS[fastifyError.code] : undefined;
  if (mapped) return mapped();
  // Any other 4xx Fastify raises is about the request's form (a bad header…).
  if (fastifyError.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return appError('malformed_request_body', { longMessage: 'The request could not be read.' });
  }
  return null;
}

export function sendError(reply: FastifyReply, error: AppError): FastifyReply {
  return reply.code(error.status).headers(error.headers).send({ errors: error.details });
}

export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const appErr = toAppError(error);
  if (appErr) return sendError(reply, appErr);
  request.log.error({ err: error }, 'unhandled error');
  return sendError(
    reply,
    appError('internal_error', { longMessage: 'Something went wrong on our side. The request id is in the x-request-id header.' }),
  );
}

/**
 * Node's HTTP parser refuses some requests before Fastify sees them (a malformed request line or header, headers
 * over the size limit, headers that take too long to arrive): the same envelope, written straight to the socket,
 * which is then closed. Never the request's bytes.
 */
export function clientErrorHandler(error: ConnectionError, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const appErr =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? appError('request_timeout', { longMessage: 'The request headers did not arrive in time.' })
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? appError('request_headers_too_large', { longMessage: 'The request line and headers are over the size limit.' })
        : appError('malformed_request', { longMessage: 'The request could not be parsed as HTTP/1.1.' });
  const body = JSON.stringify({ errors: appErr.details });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${appErr.status} ${STATUS_CODES[appErr.status]}\r\nContent-Type: application/json; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
