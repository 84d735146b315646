/**
 * Env bootstrap: on the first start against an empty store, the AUTHN_SMS_* variables (and AUTHN_TEST_MODE,
 * AUTHN_ALLOWED_ORIGINS) seed the settings, validated by the same rules as a PATCH. Afterwards they are never
 * applied again; a start whose variables differ from the store only warns, naming the variable and never a value.
 */
import { isDeepStrictEqual } from 'node:util';
import { BOOTSTRAP_VARIABLES, type BootstrapEnv } from '../config.js';
import { AppError, StartupError } from '../errors.js';
import type { Logger } from '../logger.js';
import { getPath, type InstanceSettings } from './settings.js';
import type { InstanceService } from './service.js';

type BootstrapVariable = (typeof BOOTSTRAP_VARIABLES)[number];

const SETTING_OF: Record<BootstrapVariable, string> = {
  AUTHN_SMS_DRIVER: 'sms.driver',
  AUTHN_SMS_FROM_NUMBER: 'sms.from_number',
  AUTHN_SMS_TWILIO_ACCOUNT_SID: 'sms.twilio.account_sid',
  AUTHN_SMS_TWILIO_AUTH_TOKEN: 'sms.twilio.auth_token',
  AUTHN_SMS_TWILIO_MESSAGING_SERVICE_SID: 'sms.twilio.messaging_service_sid',
  AUTHN_SMS_VONAGE_API_KEY: 'sms.vonage.api_key',
  AUTHN_SMS_VONAGE_API_SECRET: 'sms.vonage.api_secret',
  AUTHN_SMS_ROUTES: 'sms.routes',
  AUTHN_SMS_FAILOVER_DRIVER: 'sms.failover.driver',
  AUTHN_TEST_MODE: 'test_mode',
  AUTHN_ALLOWED_ORIGINS: 'allowed_origins',
};
const SECRET_VARIABLES: ReadonlySet<BootstrapVariable> = new Set(['AUTHN_SMS_TWILIO_AUTH_TOKEN', 'AUTHN_SMS_VONAGE_API_SECRET']);

/**
 * The value a variable stands for: empty means unset; AUTHN_SMS_DRIVER=null and AUTHN_SMS_FAILOVER_DRIVER=null
 * mean none; AUTHN_ALLOWED_ORIGINS is a comma-separated list (empty: none); AUTHN_SMS_ROUTES is read by `parseRoutes`.
 */
function settingValue(name: BootstrapVariable, raw: string): string | string[] | SmsRouteEntry[] | null {
  const value = raw.trim();
  if (name === 'AUTHN_ALLOWED_ORIGINS')
    return value
      .split(',')
      .map((origin) => origin.trim())
      .filter((origin) => origin !== '');
  if (name === 'AUTHN_SMS_ROUTES') return parseRoutes(name, value);
  if ((name === 'AUTHN_SMS_DRIVER' || name === 'AUTHN_SMS_FAILOVER_DRIVER') && value === 'null') return null;
  return value === '' ? null : value;
}

/** A route as the variable gives it; the settings rules judge the countries and drivers. */
interface SmsRouteEntry {
  countries: string[];
  driver: string;
  failover_driver: string | null;
}

const ROUTE_ENTRY = /^([^=>]+)=([^=>]+)(?:>([^=>]+))?$/;

/**
 * Routes written `COUNTRIES=DRIVER` or `COUNTRIES=DRIVER>FAILOVER_DRIVER`, separated by semicolons, the countries
 * by commas: `GB,DE=vonage>twilio;US=twilio`. Empty: no routes.
 */
function parseRoutes(name: string, value: string): SmsRouteEntry[] {
  const entries = value
    .split(';')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  return entries.map((entry, i) => {
    const match = ROUTE_ENTRY.exec(entry);
    if (!match) {
      throw new StartupError(
        `${name} entry ${i + 1} must be COUNTRIES=DRIVER or COUNTRIES=DRIVER>FAILOVER_DRIVER, entries separated by semicolons, such as GB,DE=vonage>twilio;US=twilio (got "${entry}")`,
      );
    }
    const [, countries, driver, failover] = match;
    return {
      countries: countries!.split(',').map((country) => country.trim()),
      driver: driver!.trim(),
      failover_driver: failover?.trim() ?? null,
    };
  });
}

/** The variables as a merge patch. */
export function bootstrapPatch(env: BootstrapEnv): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const name of BOOTSTRAP_VARIABLES) {
    const raw = env[name];
    if (raw === undefined) continue;
    const parts = SETTING_OF[name].split('.');
    let node = patch;
    for (const part of parts.slice(0, -1)) {
      node[part] ??= {};
      node = node[part] as Record<string, unknown>;
    }
    node[parts[parts.length - 1]!] = settingValue(name, raw);
  }
  return patch;
}

/** Seeds the settings on the first start, or warns about variables that no longer match the store. */
export async function applyBootstrap(instance: InstanceService, env: BootstrapEnv, logger: Logger): Promise<'seeded' | 'existing'> {
  if (!(await instance.exists())) {
    let created: boolean;
    try {
      created = await instance.initialise(bootstrapPatch(env));
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      // A list's entries (sms.routes.0.driver) belong to the variable of the list.
      const variableOf = (param: string | undefined) =>
        BOOTSTRAP_VARIABLES.find((n) => param === SETTING_OF[n] || param?.startsWith(`${SETTING_OF[n]}.`));
      const problems = error.details.map((d) => {
        const variable = variableOf(d.meta.param_name);
        // A requirement on a setting no variable provided names the variable that would provide it.
        return `${variable ?? d.meta.param_name}: ${d.long_message}`;
      });
      throw new StartupError(`Invalid env bootstrap, nothing was seeded: ${problems.join('; ')}`);
    }
    if (created) {
      const seeded = BOOTSTRAP_VARIABLES.filter((n) => env[n] !== undefined);
      logger.info({ variables: seeded }, 'instance settings seeded from the environment (first start)');
      return 'seeded';
    }
    // Another process starting at the same moment seeded them: compared below like any later start.
  }
  const current: InstanceSettings = await instance.current();
  for (const name of BOOTSTRAP_VARIABLES) {
    const raw = env[name];
    if (raw === undefined) continue;
    const stored = getPath(current, SETTING_OF[name]) ?? null;
    if (!isDeepStrictEqual(settingValue(name, raw), stored)) {
      logger.warn(
        { variable: name, setting: SETTING_OF[name], secret: SECRET_VARIABLES.has(name) },
        `${name} differs from the stored setting ${SETTING_OF[name]} and is ignored: env bootstrap is read on the first start only. Change settings with PATCH /v1/instance or the dashboard.`,
      );
    }
  }
  return 'existing';
}
