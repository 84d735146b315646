/**
 * Configure → Messaging → SMS: the wizard over `GET` / `PATCH /v1/instance`. One form in numbered steps; saving
 * sends one merge patch with only what changed, and the API's field errors come back beside their fields.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { asApiError, type ApiError } from '../api.js';
import type { InstanceSettings, SignatureMethod, SmsDriver, TestMode } from '../api-types.js';
import { CheckboxField, ErrorSummary, FieldError, RadioOption, SaveBar, SelectField, TextField, fieldErrorsOf } from '../components/fields.js';
import { SecretField } from '../components/secret-field.js';
import { ErrorPanel, Loading } from '../components/states.js';
import { speakErrors, type FormField } from '../form-errors.js';
import { useSave } from '../hooks.js';
import { useSession } from '../session.js';
import { TestSmsStep } from './test-sms.js';
import {
  buildPatch,
  draftFrom,
  fieldId,
  patchPaths,
  secretFieldsOf,
  secretIsSet,
  storesSettings,
  type DriverChoice,
  type SecretField as SecretFieldName,
  type SecretValues,
  type WizardDraft,
} from '../settings-form.js';

export const SMS_SETTINGS_PATH = '/dashboard/configure/messaging/sms';

const DRIVERS: { id: DriverChoice; name: string; use: string; needs: string; optional?: string }[] = [
  {
    id: 'null',
    name: 'Null driver',
    use: 'Development, CI and staging, where no real SMS should leave. Sends are dropped with an audit-log entry; verification codes are logged so you can sign in.',
    needs: 'Nothing.',
  },
  { id: 'twilio', name: 'Twilio', use: 'Production. The default choice for US and EU coverage.', needs: 'Account SID and auth token.', optional: 'Messaging service SID.' },
  {
    id: 'vonage',
    name: 'Vonage',
    use: 'Production. Often better rates outside the US and EU; supports more numbering ranges.',
    needs: 'API key and API secret.',
    optional: 'Signature secret for signed delivery receipts.',
  },
];

const DRIVER_NAMES: Record<SmsDriver, string> = { twilio: 'Twilio', vonage: 'Vonage' };

const TEST_MODES: { id: TestMode; name: string; effect: string }[] = [
  { id: 'enabled', name: 'Enabled', effect: 'The magic code 424242 verifies any challenge sent to a test number. For development and automated tests.' },
  { id: 'disabled', name: 'Disabled', effect: 'Test numbers still send nothing, and 424242 is refused, so verification with a test number fails.' },
  { id: 'rejected', name: 'Rejected', effect: 'Sign-ups and phone MFA enrolments with a test number are refused outright. Production hardening.' },
];

const SIGNATURE_METHODS: { value: SignatureMethod; label: string }[] = [
  { value: 'md5hash', label: 'MD5 hash (Vonage default)' },
  { value: 'md5', label: 'MD5 HMAC' },
  { value: 'sha1', label: 'SHA-1 HMAC' },
  { value: 'sha256', label: 'SHA-256 HMAC' },
  { value: 'sha512', label: 'SHA-512 HMAC' },
];

/**
 * Every setting of the wizard in page order: its label (errors speak of it so) and how the "saved" notice names it.
 * Removing a driver's stored settings is a setting of its own (`sms.twilio: null`).
 */
const SETTINGS: (FormField & { saved: string })[] = [
  { param: 'sms.driver', label: 'SMS driver', saved: 'driver' },
  { param: 'sms.twilio.account_sid', label: 'Account SID', saved: 'Twilio account SID' },
  { param: 'sms.twilio.auth_token', label: 'Auth token', saved: 'Twilio auth token' },
  { param: 'sms.vonage.api_key', label: 'API key', saved: 'Vonage API key' },
  { param: 'sms.vonage.api_secret', label: 'API secret', saved: 'Vonage API secret' },
  { param: 'sms.vonage.signature_secret', label: 'Signature secret', saved: 'Vonage signature secret' },
  { param: 'sms.vonage.signature_method', label: 'Signature method', saved: 'Vonage signature method' },
  { param: 'sms.twilio', label: 'Stored Twilio settings', saved: 'stored Twilio settings (removed)' },
  { param: 'sms.vonage', label: 'Stored Vonage settings', saved: 'stored Vonage settings (removed)' },
  { param: 'sms.twilio.messaging_service_sid', label: 'Messaging service SID', saved: 'Twilio messaging service' },
  { param: 'sms.from_number', label: 'From number', saved: 'from number' },
  { param: 'app_name', label: 'App name', saved: 'app name' },
  { param: 'test_mode', label: 'Test mode', saved: 'test mode' },
  { param: 'multi_factor.phone_code.enabled', label: 'Phone second factor', saved: 'phone second factor' },
];

const STEPS = [
  { id: 'step-driver', title: 'Choose a driver' },
  { id: 'step-credentials', title: 'Credentials' },
  { id: 'step-sender', title: 'Sender' },
  { id: 'step-test-numbers', title: 'Test numbers' },
  { id: 'step-mfa', title: 'Phone second factor' },
  { id: 'step-test-sms', title: 'Send a test SMS' },
];

/** The draft's free-text fields. */
type DraftText = 'accountSid' | 'messagingServiceSid' | 'fromNumber' | 'apiKey' | 'appName';

function Step({ index, children }: { index: number; children: ComponentChildren }) {
  const step = STEPS[index]!;
  return (
    <section class="step" id={step.id} aria-labelledby={`${step.id}-title`}>
      <h2 id={`${step.id}-title`}>
        <span class="step-number" aria-hidden="true">
          {index + 1}
        </span>
        <span class="visually-hidden">Step {index + 1}: </span>
        {step.title}
      </h2>
      {children}
    </section>
  );
}

/** "Saved: driver, Twilio account SID, …", in page order. */
function describeSaved(paths: string[]): string {
  const order = SETTINGS.map((setting) => setting.param);
  const sorted = [...paths].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  return `Saved: ${sorted.map((path) => SETTINGS.find((setting) => setting.param === path)?.saved ?? path).join(', ')}.`;
}

function currentSummary(view: InstanceSettings): string {
  const { sms } = view;
  if (sms.driver === null) return 'Null driver: no SMS leaves this server.';
  const sender = sms.driver === 'twilio' && sms.twilio.messaging_service_sid ? `messaging service ${sms.twilio.messaging_service_sid}` : (sms.from_number ?? 'no sender');
  return `${DRIVER_NAMES[sms.driver]}, sending from ${sender}.`;
}

export function SmsSettingsPage() {
  const { api } = useSession();
  const [view, setView] = useState<InstanceSettings | null>(null);
  const [draft, setDraft] = useState<WizardDraft | null>(null);
  const [loadError, setLoadError] = useState<ApiError | null>(null);
  const form = useSave();
  const secretInputs = useRef(new Map<SecretFieldName, HTMLInputElement>());
  // Whether a credential input holds something (for "unsaved changes"); the value itself stays in the input.
  const [secretTyped, setSecretTyped] = useState(false);
  const noteSecretTyping = () => setSecretTyped([...secretInputs.current.values()].some((input) => input.value !== ''));

  const load = () => {
    setLoadError(null);
    api.get<InstanceSettings>('/v1/instance').then(
      (settings) => {
        setView(settings);
        setDraft(draftFrom(settings));
      },
      (error: unknown) => setLoadError(asApiError(error)),
    );
  };
  useEffect(load, [api]);

  // Inputs come and go with the driver and Replace / Cancel.
  useEffect(noteSecretTyping, [draft]);

  if (loadError) return <ErrorPanel title="The SMS settings could not be loaded" error={loadError} onRetry={load} />;
  if (!view || !draft) return <Loading what="SMS settings" />;

  const spokenErrors = speakErrors(form.errors, SETTINGS);
  const errors = fieldErrorsOf(spokenErrors);
  const update = (changes: Partial<WizardDraft>) => {
    setDraft({ ...draft, ...changes });
    form.setNotice(null);
  };
  const secretRef = (field: SecretFieldName) => (input: HTMLInputElement | null) => {
    if (input) secretInputs.current.set(field, input);
    else secretInputs.current.delete(field);
  };
  const clearSecretInputs = () => {
    for (const input of secretInputs.current.values()) input.value = '';
    setSecretTyped(false);
  };
  const dirty = secretTyped || patchPaths(buildPatch(view, draft, {})).length > 0 || Object.values(draft.secrets).some((intent) => intent !== 'keep');

  const save = (event: Event) => {
    event.preventDefault();
    const secretValues: SecretValues = {};
    for (const [field, input] of secretInputs.current) secretValues[field] = input.value;
    const patch = buildPatch(view, draft, secretValues);
    const paths = patchPaths(patch);
    if (paths.length === 0) return form.reset('Nothing to save: no setting has changed.');
    void form.run(async () => {
      const saved = await api.patch<InstanceSettings>('/v1/instance', patch);
      clearSecretInputs();
      setView(saved);
      setDraft(draftFrom(saved));
      return describeSaved(paths);
    });
  };

  const discard = () => {
    clearSecretInputs();
    setDraft(draftFrom(view));
    form.reset();
  };

  const textField = (param: string, key: DraftText, label: string, hint: ComponentChildren, options: { code?: boolean; type?: 'tel' } = {}) => (
    <TextField param={param} label={label} hint={hint} value={draft[key]} onInput={(value) => update({ [key]: value })} errors={errors} {...options} />
  );
  const secretField = (field: SecretFieldName, label: string, hint: ComponentChildren) => (
    <SecretField
      param={field}
      label={label}
      hint={hint}
      isSet={secretIsSet(view, field)}
      intent={draft.secrets[field]}
      onIntent={(intent) => update({ secrets: { ...draft.secrets, [field]: intent } })}
      errors={errors}
      inputRef={secretRef(field)}
      onTyping={() => {
        form.setNotice(null);
        noteSecretTyping();
      }}
    />
  );
  const visibleParams = new Set([
    ...visibleFields(draft),
    ...secretFieldsOf(draft.driver),
  ]);

  return (
    <>
      <form class="wizard" onSubmit={save} autocomplete="off" noValidate aria-describedby="wizard-intro">
        <p id="wizard-intro" class="lede">
          Who delivers your SMS, from which sender, and how test numbers behave. Changes apply as soon as you save. Now: <strong>{currentSummary(view)}</strong>
        </p>
        <nav class="steps-nav" aria-label="Steps">
          <ol>
            {STEPS.map((step) => (
              <li key={step.id}>
                <a href={`#${step.id}`}>{step.title}</a>
              </li>
            ))}
          </ol>
        </nav>

        <ErrorSummary errors={spokenErrors} visibleParams={visibleParams} summaryRef={form.summaryRef} />

        <Step index={0}>
          <fieldset class="driver-options" id={fieldId('sms.driver')} tabindex={-1}>
            <legend>SMS driver</legend>
            <FieldError param="sms.driver" error={errors.get('sms.driver')} />
            {DRIVERS.map((driver) => (
              <div class={`driver-option${draft.driver === driver.id ? ' selected' : ''}`} key={driver.id}>
                <input
                  type="radio"
                  name="driver"
                  id={`driver-${driver.id}`}
                  value={driver.id}
                  checked={draft.driver === driver.id}
                  aria-describedby={`driver-${driver.id}-use`}
                  onChange={() => update({ driver: driver.id })}
                />
                <label for={`driver-${driver.id}`}>{driver.name}</label>
                <div class="driver-facts" id={`driver-${driver.id}-use`}>
                  <p>{driver.use}</p>
                  <p>
                    <span class="fact-name">Needs:</span> {driver.needs}
                    {driver.optional && (
                      <>
                        {' '}
                        <span class="fact-name">Optional:</span> {driver.optional}
                      </>
                    )}
                  </p>
                </div>
              </div>
            ))}
          </fieldset>
        </Step>

        <Step index={1}>
          {draft.driver === 'null' && <p>The null driver needs no credentials.</p>}
          {draft.driver === 'twilio' && (
            <>
              {textField('sms.twilio.account_sid', 'accountSid', 'Account SID', 'AC followed by 32 letters or digits, from the Twilio Console (Account info).', { code: true })}
              {secretField('sms.twilio.auth_token', 'Auth token', '32 letters or digits, from the Twilio Console. Write-only: stored encrypted, never shown again.')}
            </>
          )}
          {draft.driver === 'vonage' && (
            <>
              {textField('sms.vonage.api_key', 'apiKey', 'API key', '8 letters or digits, from the Vonage API dashboard.', { code: true })}
              {secretField('sms.vonage.api_secret', 'API secret', '6 to 32 characters, from the Vonage API dashboard. Write-only: stored encrypted, never shown again.')}
              <fieldset class="subsection">
                <legend>Signed delivery receipts (optional)</legend>
                <p class="hint">With a signature secret set, a delivery receipt without a valid signature is refused.</p>
                {secretField('sms.vonage.signature_secret', 'Signature secret', '8 to 128 characters: the signature secret of your Vonage account (not the API secret). Write-only.')}
                <SelectField
                  param="sms.vonage.signature_method"
                  label="Signature method"
                  options={SIGNATURE_METHODS}
                  value={draft.signatureMethod}
                  onChange={(signatureMethod) => update({ signatureMethod })}
                  errors={errors}
                />
              </fieldset>
            </>
          )}
          {(['twilio', 'vonage'] as const)
            .filter((driver) => driver !== draft.driver && storesSettings(view, driver))
            .map((driver) => (
              <div class="stored-settings" key={driver}>
                <p>
                  {DRIVER_NAMES[driver]} settings are still stored but not used while another driver is chosen.
                </p>
                <div class="checkbox">
                  <input
                    type="checkbox"
                    id={`forget-${driver}`}
                    checked={draft.forget[driver]}
                    onChange={(event) => update({ forget: { ...draft.forget, [driver]: event.currentTarget.checked } })}
                  />
                  <label for={`forget-${driver}`}>Remove the stored {DRIVER_NAMES[driver]} settings when I save</label>
                </div>
              </div>
            ))}
        </Step>

        <Step index={2}>
          {draft.driver === 'null' && <p>The null driver sends nothing, so it needs no sender.</p>}
          {draft.driver === 'twilio' && (
            <fieldset class="choice">
              <legend>Send from</legend>
              <RadioOption
                name="twilio-sender"
                id="twilio-sender-number"
                label="A phone number or short code"
                checked={draft.twilioSender === 'number'}
                onChange={() => update({ twilioSender: 'number' })}
              />
              <RadioOption
                name="twilio-sender"
                id="twilio-sender-messaging-service"
                label="A Twilio Messaging Service"
                hint="Pools numbers for throughput, failover and per-country routing; Twilio picks the number, so the from number and template overrides are ignored."
                checked={draft.twilioSender === 'messaging_service'}
                onChange={() => update({ twilioSender: 'messaging_service' })}
              />
            </fieldset>
          )}
          {draft.driver === 'twilio' &&
            draft.twilioSender === 'messaging_service' &&
            textField('sms.twilio.messaging_service_sid', 'messagingServiceSid', 'Messaging service SID', 'MG followed by 32 letters or digits.', { code: true })}
          {(draft.driver === 'vonage' || (draft.driver === 'twilio' && draft.twilioSender === 'number')) &&
            textField(
              'sms.from_number',
              'fromNumber',
              'From number',
              draft.driver === 'vonage'
                ? 'An E.164 number such as +447700900100, a short code, or a sender id of 1 to 11 letters and digits (no spaces).'
                : 'An E.164 number such as +14155550123, or a short code.',
              { code: true, type: 'tel' },
            )}
          {textField(
            'app_name',
            'appName',
            'App name',
            <>
              Your product's name, as messages speak of it (<code>{'{{app_name}}'}</code> in SMS templates). Up to 40 characters.
            </>,
          )}
        </Step>

        <Step index={3}>
          <p>
            The numbers <strong>+1 555 555-0100</strong> to <strong>+1 555 555-0199</strong> are test numbers, whatever the driver: a
            message to one is recorded (an <code>sms.queued</code> event and an audit entry) but never sent, so it costs nothing.
          </p>
          <fieldset class="choice" id={fieldId('test_mode')} tabindex={-1}>
            <legend>Test mode</legend>
            <FieldError param="test_mode" error={errors.get('test_mode')} />
            {TEST_MODES.map((mode) => (
              <RadioOption
                key={mode.id}
                name="test-mode"
                id={`test-mode-${mode.id}`}
                label={mode.name}
                hint={mode.effect}
                checked={draft.testMode === mode.id}
                onChange={() => update({ testMode: mode.id })}
              />
            ))}
          </fieldset>
        </Step>

        <Step index={4}>
          <CheckboxField
            param="multi_factor.phone_code.enabled"
            label="Let users enrol their phone as a second factor"
            hint="Switching this off stops new enrolments, for example during a carrier outage. Existing enrolments are kept and work again when you switch it back on."
            checked={draft.phoneCodeMfa}
            onChange={(phoneCodeMfa) => update({ phoneCodeMfa })}
            errors={errors}
          />
        </Step>

        <SaveBar notice={form.notice} dirty={dirty} saving={form.saving} saveLabel="Save settings" onDiscard={discard} />
      </form>

      {/* After the settings form, as a form of its own: the test goes through what is saved. */}
      <Step index={5}>
        <TestSmsStep unsavedChanges={dirty} />
      </Step>
    </>
  );
}

/** The API parameters whose inputs are on the page for this draft (for the error summary's links). */
function visibleFields(draft: WizardDraft): string[] {
  const fields = ['sms.driver', 'app_name', 'test_mode', 'multi_factor.phone_code.enabled'];
  if (draft.driver === 'twilio') {
    fields.push('sms.twilio.account_sid', draft.twilioSender === 'number' ? 'sms.from_number' : 'sms.twilio.messaging_service_sid');
  }
  if (draft.driver === 'vonage') fields.push('sms.vonage.api_key', 'sms.from_number', 'sms.vonage.signature_method');
  return fields;
}
