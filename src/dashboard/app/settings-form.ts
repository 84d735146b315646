/**
 * The SMS wizard's form model: what the operator is editing (the draft), and the merge patch that saves it.
 * Pure functions, no DOM.
 *
 * Credentials are never part of the draft. The draft only says what to do with each one (keep / replace /
 * clear); a replacement is read from its input at the moment of saving and goes straight into the patch.
 */
import type { InstanceSettings, SignatureMethod, SmsDriver, TestMode } from './api-types.js';

export const SECRET_FIELDS = ['sms.twilio.auth_token', 'sms.vonage.api_secret', 'sms.vonage.signature_secret'] as const;
export type SecretField = (typeof SECRET_FIELDS)[number];
export type SecretIntent = 'keep' | 'replace' | 'clear';
/** Plaintext replacements, read from the inputs when saving and dropped with the request. */
export type SecretValues = Partial<Record<SecretField, string>>;

export type DriverChoice = SmsDriver | 'null';
export type TwilioSender = 'number' | 'messaging_service';

export interface WizardDraft {
  driver: DriverChoice;
  twilioSender: TwilioSender;
  fromNumber: string;
  accountSid: string;
  messagingServiceSid: string;
  apiKey: string;
  signatureMethod: SignatureMethod;
  appName: string;
  testMode: TestMode;
  phoneCodeMfa: boolean;
  secrets: Record<SecretField, SecretIntent>;
  /** Remove every stored setting of a driver that is not the chosen one. */
  forget: Record<SmsDriver, boolean>;
}

export type JsonValue = JsonPatch | JsonPatch[] | string | number | boolean | string[] | null;
export type JsonPatch = { [key: string]: JsonValue };

export function secretIsSet(view: InstanceSettings, field: SecretField): boolean {
  const [, driver, name] = field.split('.') as ['sms', 'twilio' | 'vonage', string];
  return (view.sms[driver] as Record<string, unknown>)[name] !== null;
}

export function draftFrom(view: InstanceSettings): WizardDraft {
  const { sms } = view;
  return {
    driver: sms.driver ?? 'null',
    twilioSender: sms.twilio.messaging_service_sid !== null ? 'messaging_service' : 'number',
    fromNumber: sms.from_number ?? '',
    accountSid: sms.twilio.account_sid ?? '',
    messagingServiceSid: sms.twilio.messaging_service_sid ?? '',
    apiKey: sms.vonage.api_key ?? '',
    signatureMethod: sms.vonage.signature_method,
    appName: view.app_name,
    testMode: view.test_mode,
    phoneCodeMfa: view.multi_factor.phone_code.enabled,
    secrets: { 'sms.twilio.auth_token': 'keep', 'sms.vonage.api_secret': 'keep', 'sms.vonage.signature_secret': 'keep' },
    forget: { twilio: false, vonage: false },
  };
}

/** Does a driver other than the chosen one still hold stored settings (which `forget` can remove)? */
export function storesSettings(view: InstanceSettings, driver: SmsDriver): boolean {
  if (driver === 'twilio') return Object.values(view.sms.twilio).some((value) => value !== null);
  // md5hash is the server's default method, not a stored choice.
  const { signature_method, ...rest } = view.sms.vonage;
  return signature_method !== 'md5hash' || Object.values(rest).some((value) => value !== null);
}

/** The secret fields the chosen driver uses, in the order the wizard shows them. */
export function secretFieldsOf(driver: DriverChoice): SecretField[] {
  if (driver === 'twilio') return ['sms.twilio.auth_token'];
  if (driver === 'vonage') return ['sms.vonage.api_secret', 'sms.vonage.signature_secret'];
  return [];
}

export function setIn(patch: JsonPatch, path: string, value: JsonValue): void {
  const parts = path.split('.');
  let node = patch;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null) node[part] = {};
    node = node[part] as JsonPatch;
  }
  node[parts[parts.length - 1]!] = value;
}

/** Text inputs: surrounding spaces are a paste accident; an empty field means "not set". */
export function blankToNull(value: string): string | null {
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

/**
 * The merge patch from the loaded settings to the draft: only what changed, only fields of the chosen driver
 * (fields of another driver are not shown, so they are not sent), and a credential only when it is replaced
 * (non-empty input) or cleared. An empty object means there is nothing to save.
 */
export function buildPatch(view: InstanceSettings, draft: WizardDraft, secretValues: SecretValues): JsonPatch {
  const patch: JsonPatch = {};
  const { sms } = view;
  const change = (path: string, before: string | boolean | null, after: string | boolean | null) => {
    if (before !== after) setIn(patch, path, after);
  };

  change('sms.driver', sms.driver, draft.driver === 'null' ? null : draft.driver);
  for (const driver of ['twilio', 'vonage'] as const) {
    if (draft.driver !== driver && draft.forget[driver] && storesSettings(view, driver)) setIn(patch, `sms.${driver}`, null);
  }
  if (draft.driver === 'twilio') {
    change('sms.twilio.account_sid', sms.twilio.account_sid, blankToNull(draft.accountSid));
    if (draft.twilioSender === 'messaging_service') {
      change('sms.twilio.messaging_service_sid', sms.twilio.messaging_service_sid, blankToNull(draft.messagingServiceSid));
    } else {
      change('sms.twilio.messaging_service_sid', sms.twilio.messaging_service_sid, null);
      change('sms.from_number', sms.from_number, blankToNull(draft.fromNumber));
    }
  } else if (draft.driver === 'vonage') {
    change('sms.vonage.api_key', sms.vonage.api_key, blankToNull(draft.apiKey));
    change('sms.from_number', sms.from_number, blankToNull(draft.fromNumber));
    change('sms.vonage.signature_method', sms.vonage.signature_method, draft.signatureMethod);
  }
  for (const field of secretFieldsOf(draft.driver)) {
    const intent = draft.secrets[field];
    if (intent === 'clear') {
      if (secretIsSet(view, field)) setIn(patch, field, null);
      continue;
    }
    const value = blankToNull(secretValues[field] ?? '');
    if (value !== null) setIn(patch, field, value);
  }
  change('app_name', view.app_name, draft.appName.trim());
  change('test_mode', view.test_mode, draft.testMode);
  change('multi_factor.phone_code.enabled', view.multi_factor.phone_code.enabled, draft.phoneCodeMfa);
  return patch;
}

/** The dotted paths a patch touches (`sms.twilio.auth_token`), for "nothing to save" and the saved notice. */
export function patchPaths(patch: JsonPatch, prefix = ''): string[] {
  return Object.entries(patch).flatMap(([key, value]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? patchPaths(value, path) : [path];
  });
}

/** The id of the input for an API parameter: `sms.twilio.account_sid` → `field-sms-twilio-account_sid`. */
export function fieldId(paramName: string): string {
  return `field-${paramName.replace(/\./g, '-')}`;
}
