/**
 * `GET /v1/environment`: what the SDK and its components need to render sign-up, sign-in and profile screens —
 * from the instance settings and the auth rules (code length, password bounds), never a credential.
 */
import { CODE_LENGTH } from '../challenges/codes.js';
import type { InstanceService } from '../instance/service.js';
import { smsCountryChoices, type InstanceSettings } from '../instance/settings.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './passwords.js';

/** What `GET /v1/environment` shows a browser: what the SDK and its components need to render, nothing secret. */
export interface PublicEnvironment {
  object: 'environment';
  app_name: string;
  sms: { driver: InstanceSettings['sms']['driver']; from_number: string | null };
  /** The countries a phone number may be from (sign-up, sign-in, second factor); test numbers always work. */
  phone_number: { countries: string[] };
  phone_code: { length: number };
  /** Passwords are optional at sign-up; when set, password sign-in is offered. */
  password: { enabled: boolean; min_length: number; max_length: number };
  multi_factor: { phone_code: { enabled: boolean } };
}

export async function publicEnvironment(instance: InstanceService): Promise<PublicEnvironment> {
  const s = await instance.current();
  // Built field by field from an allow-list: nothing reaches a browser unless named here.
  return {
    object: 'environment',
    app_name: s.app_name,
    sms: { driver: s.sms.driver, from_number: s.sms.from_number },
    phone_number: { countries: smsCountryChoices(s.abuse.sms_countries) },
    phone_code: { length: CODE_LENGTH },
    password: { enabled: true, min_length: PASSWORD_MIN_LENGTH, max_length: PASSWORD_MAX_LENGTH },
    multi_factor: { phone_code: { enabled: s.multi_factor.phone_code.enabled } },
  };
}
