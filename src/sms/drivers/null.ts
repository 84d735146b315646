/**
 * The null driver (development, CI, staging with SMS switched off): nothing leaves the server. The dispatcher
 * records the drop with a no-op audit entry (and, for a verification code, echoes the body to the log).
 */
import type { SendOutcome, SmsDriver } from './driver.js';

export class NullDriver implements SmsDriver {
  readonly name = 'null' as const;

  async send(): Promise<SendOutcome> {
    return { kind: 'dropped' };
  }
}
