/**
 * Structured logs (pino). Nothing secret is ever passed to the logger; the redact list is a second line of
 * defence for the places where whole objects are logged (request headers).
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger };

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'authn' },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'req.headers["x-twilio-signature"]',
          '*.auth_token',
          '*.api_secret',
          '*.signature_secret',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
