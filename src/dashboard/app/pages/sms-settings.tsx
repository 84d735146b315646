/**
 * Configure → Messaging → SMS: the wizard over `GET` / `PATCH /v1/instance`. One form in numbered steps; saving
 * sends one merge patch with only what changed, and the API's field errors come back beside their fields.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { asApiError, type ApiError } from '../api.js';
import type { InstanceSettings, SignatureMethod, SmsDriver, SmsRoute, TestMode } from '../api-types.js';
import {
  CheckboxField,
  ErrorSummary,
  FieldError,
  RadioOption,
  SaveBar,
  SelectField,
  TextField,
  fieldErrorsOf,
  type FieldErrors,
} from '../components/fields.js';
import { SecretField } from '../components/secret-field.js';
import { ErrorPanel, Loading } from '../components/states.js';
import { speakErrors, type FormField } from '../form-errors.js';
import { useSave } from '../hooks.js';
import { useSession } from '../session.js';
import { TestSmsStep } from './test-sms.js';
import {
  RECEIPT_WAIT_TEMPLATES,
  addRoutingChanges,
  nameRouteCountries,
  newRoute,
  routesOf,
  routingDraftFrom,
  routingFields,
  type RouteDraft,
  type RoutingDraft,
} from '../routing-form.js';
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
  {
    id: 'twilio',
    name: 'Twilio',
    use: 'Production. The default choice for US and EU coverage.',
    needs: 'Account SID and auth token.',
    optional: 'Messaging service SID.',
  },
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
  {
    id: 'enabled',
    name: 'Enabled',
    effect: 'The magic code 424242 verifies any challenge sent to a test number. For development and automated tests.',
  },
  {
    id: 'disabled',
    name: 'Disabled',
    effect: 'Test numbers still send nothing, and 424242 is refused, so verification with a test number fails.',
  },
  {
    id: 'rejected',
    name: 'Rejected',
    effect: 'Sign-ups and phone MFA enrolments with a test number are refused outright. Production hardening.',
  },
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

const DRIVER_OPTIONS: { value: SmsDriver; label: string }[] = [
  { value: 'twilio', label: 'Twilio' },
  { value: 'vonage', label: 'Vonage' },
];

const STEPS = [
  { id: 'step-driver', title: 'Choose a driver' },
  { id: 'step-credentials', title: 'Credentials' },
  { id: 'step-sender', title: 'Sender' },
  { id: 'step-test-numbers', title: 'Test numbers' },
  { id: 'step-mfa', title: 'Phone second factor' },
  { id: 'step-routing', title: 'Routing & failover' },
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

/** The wizard's settings and, after them, the routing step's (with `routeCount` routes on the page). */
const settingsWith = (routeCount: number) => [...SETTINGS, ...routingFields(routeCount)];

/** "Saved: driver, Twilio account SID, …", in page order. */
function describeSaved(paths: string[]): string {
  const settings = settingsWith(0);
  const order = settings.map((setting) => setting.param);
  const sorted = [...paths].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  return `Saved: ${sorted.map((path) => settings.find((setting) => setting.param === path)?.saved ?? path).join(', ')}.`;
}

function currentSummary(view: InstanceSettings): string {
  const { sms } = view;
  if (sms.driver === null) return 'Null driver: no SMS leaves this server.';
  const sender =
    sms.driver === 'twilio' && sms.twilio.messaging_service_sid
      ? `messaging service ${sms.twilio.messaging_service_sid}`
      : (sms.from_number ?? 'no sender');
  return `${DRIVER_NAMES[sms.driver]}, sending from ${sender}.`;
}

export function SmsSettingsPage() {
  const { api } = useSession();
  const [view, setView] = useState<InstanceSettings | null>(null);
  const [draft, setDraft] = useState<WizardDraft | null>(null);
  const [routing, setRouting] = useState<RoutingDraft | null>(null);
  /** The routes of the last save, which the API's errors about a country entry point into. */
  const [sentRoutes, setSentRoutes] = useState<SmsRoute[]>([]);
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
        setRouting(routingDraftFrom(settings));
      },
      (error: unknown) => setLoadError(asApiError(error)),
    );
  };
  useEffect(load, [api]);

  // Inputs come and go with the driver and Replace / Cancel.
  useEffect(noteSecretTyping, [draft]);

  if (loadError) return <ErrorPanel title="The SMS settings could not be loaded" error={loadError} onRetry={load} />;
  if (!view || !draft || !routing) return <Loading what="SMS settings" />;

  const spokenErrors = speakErrors(
    nameRouteCountries(form.errors, sentRoutes),
    settingsWith(Math.max(routing.routes.length, sentRoutes.length)),
  );
  const errors = fieldErrorsOf(spokenErrors);
  const update = (changes: Partial<WizardDraft>) => {
    setDraft({ ...draft, ...changes });
    form.setNotice(null);
  };
  const updateRouting = (changes: Partial<RoutingDraft>) => {
    setRouting({ ...routing, ...changes });
    form.setNotice(null);
  };
  const updateRoute = (index: number, changes: Partial<RouteDraft>) =>
    updateRouting({ routes: routing.routes.map((route, i) => (i === index ? { ...route, ...changes } : route)) });
  /** The whole patch: the wizard's fields and the routing step's. */
  const patchOf = (secretValues: SecretValues) => {
    const patch = buildPatch(view, draft, secretValues);
    addRoutingChanges(patch, view, routing);
    return patch;
  };
  const secretRef = (field: SecretFieldName) => (input: HTMLInputElement | null) => {
    if (input) secretInputs.current.set(field, input);
    else secretInputs.current.delete(field);
  };
  const clearSecretInputs = () => {
    for (const input of secretInputs.current.values()) input.value = '';
    setSecretTyped(false);
  };
  const dirty = secretTyped || patchPaths(patchOf({})).length > 0 || Object.values(draft.secrets).some((intent) => intent !== 'keep');

  const save = (event: Event) => {
    event.preventDefault();
    const secretValues: SecretValues = {};
    for (const [field, input] of secretInputs.current) secretValues[field] = input.value;
    const patch = patchOf(secretValues);
    const paths = patchPaths(patch);
    if (paths.length === 0) return form.reset('Nothing to save: no setting has changed.');
    setSentRoutes(routesOf(routing));
    void form.run(async () => {
      const saved = await api.patch<InstanceSettings>('/v1/instance', patch);
      clearSecretInputs();
      setView(saved);
      setDraft(draftFrom(saved));
      setRouting(routingDraftFrom(saved));
      return describeSaved(paths);
    });
  };

  const discard = () => {
    clearSecretInputs();
    setDraft(draftFrom(view));
    setRouting(routingDraftFrom(view));
    form.reset();
  };

  const textField = (
    param: string,
    key: DraftText,
    label: string,
    hint: ComponentChildren,
    options: { code?: boolean; type?: 'tel' } = {},
  ) => (
    <TextField
      param={param}
      label={label}
      hint={hint}
      value={draft[key]}
      onInput={(value) => update({ [key]: value })}
      errors={errors}
      {...options}
    />
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
    ...routingFields(routing.routes.length).map((field) => field.param),
  ]);

  return (
    <>
      <form class="wizard" onSubmit={save} autocomplete="off" noValidate aria-describedby="wizard-intro">
        <p id="wizard-intro" class="lede">
          Who delivers your SMS, from which sender, and how test numbers behave. Changes apply as soon as you save. Now:{' '}
          <strong>{currentSummary(view)}</strong>
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
              {textField(
                'sms.twilio.account_sid',
                'accountSid',
                'Account SID',
                'AC followed by 32 letters or digits, from the Twilio Console (Account info).',
                { code: true },
              )}
              {secretField(
                'sms.twilio.auth_token',
                'Auth token',
                '32 letters or digits, from the Twilio Console. Write-only: stored encrypted, never shown again.',
              )}
            </>
          )}
          {draft.driver === 'vonage' && (
            <>
              {textField('sms.vonage.api_key', 'apiKey', 'API key', '8 letters or digits, from the Vonage API dashboard.', { code: true })}
              {secretField(
                'sms.vonage.api_secret',
                'API secret',
                '6 to 32 characters, from the Vonage API dashboard. Write-only: stored encrypted, never shown again.',
              )}
              <fieldset class="subsection">
                <legend>Signed delivery receipts (optional)</legend>
                <p class="hint">With a signature secret set, a delivery receipt without a valid signature is refused.</p>
                {secretField(
                  'sms.vonage.signature_secret',
                  'Signature secret',
                  '8 to 128 characters: the signature secret of your Vonage account (not the API secret). Write-only.',
                )}
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
                <p>{DRIVER_NAMES[driver]} settings are still stored but not used while another driver is chosen.</p>
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
            textField(
              'sms.twilio.messaging_service_sid',
              'messagingServiceSid',
              'Messaging service SID',
              'MG followed by 32 letters or digits.',
              { code: true },
            )}
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

        <Step index={5}>
          <RoutingStep view={view} routing={routing} errors={errors} update={updateRouting} updateRoute={updateRoute} />
        </Step>

        <SaveBar notice={form.notice} dirty={dirty} saving={form.saving} saveLabel="Save settings" onDiscard={discard} />
      </form>

      {/* After the settings form, as a form of its own: the test goes through what is saved. */}
      <Step index={6}>
        <TestSmsStep unsavedChanges={dirty} />
      </Step>
    </>
  );
}

/**
 * Routes by destination country and the failover driver. Each driver named here needs its credentials stored: they
 * are entered by choosing the driver in the first step, and kept when another is chosen.
 */
function RoutingStep({
  view,
  routing,
  errors,
  update,
  updateRoute,
}: {
  view: InstanceSettings;
  routing: RoutingDraft;
  errors: FieldErrors;
  update(changes: Partial<RoutingDraft>): void;
  updateRoute(index: number, changes: Partial<RouteDraft>): void;
}) {
  const instanceFailover = routing.failoverDriver === 'none' ? 'no failover' : DRIVER_NAMES[routing.failoverDriver];
  return (
    <>
      <p>
        Send to some countries through another driver first, and move a message that the first driver cannot deliver to a second one, with
        the same code. A driver named here must have its credentials saved: choose it in step 1 to enter them (they are kept when you choose
        another).
      </p>
      <fieldset class="subsection" id={fieldId('sms.routes')} tabindex={-1}>
        <legend>Routes by destination country</legend>
        <FieldError param="sms.routes" error={errors.get('sms.routes')} />
        {routing.routes.length === 0 && <p class="hint">No routes: every country goes through the driver of step 1.</p>}
        {routing.routes.map((route, i) => (
          <fieldset class="route" key={i} id={fieldId(`sms.routes.${i}`)} tabindex={-1}>
            <legend>Route {i + 1}</legend>
            <FieldError param={`sms.routes.${i}`} error={errors.get(`sms.routes.${i}`)} />
            <TextField
              param={`sms.routes.${i}.countries`}
              label="Countries"
              hint="Two-letter country codes (ISO 3166-1), separated by commas, such as GB, DE. A country is in one route at most."
              value={route.countries}
              onInput={(countries) => updateRoute(i, { countries })}
              errors={errors}
              code
            />
            <SelectField
              param={`sms.routes.${i}.driver`}
              label="Send through"
              options={DRIVER_OPTIONS}
              value={route.driver}
              onChange={(driver) => updateRoute(i, { driver })}
              errors={errors}
            />
            <SelectField
              param={`sms.routes.${i}.failover_driver`}
              label="Fail over to"
              options={[{ value: 'instance' as const, label: `The failover driver (${instanceFailover})` }, ...DRIVER_OPTIONS]}
              value={route.failover}
              onChange={(failover) => updateRoute(i, { failover })}
              errors={errors}
            />
            <button
              type="button"
              class="button button-secondary"
              onClick={() => update({ routes: routing.routes.filter((_, j) => j !== i) })}
            >
              Remove route {i + 1}
            </button>
          </fieldset>
        ))}
        <button type="button" class="button button-secondary" onClick={() => update({ routes: [...routing.routes, newRoute(view)] })}>
          Add a route
        </button>
      </fieldset>

      <fieldset class="subsection">
        <legend>Failover</legend>
        <SelectField
          param="sms.failover.driver"
          label="Failover driver"
          options={[{ value: 'none' as const, label: 'None' }, ...DRIVER_OPTIONS]}
          value={routing.failoverDriver}
          onChange={(failoverDriver) => update({ failoverDriver })}
          errors={errors}
        />
        <p class="hint">
          For every country no route names, and for routes that fail over to it. A message never fails over to the driver that sent it
          first.
        </p>
        <TextField
          param="sms.failover.after_transient_failures"
          label="Transient failures before failover"
          hint="Failures the first driver may retry (timeouts, rate limits, carrier errors) before the message moves: 1 to 10 (default 2). A permanent refusal another carrier may not share moves it at once."
          value={routing.afterTransientFailures}
          onInput={(afterTransientFailures) => update({ afterTransientFailures })}
          errors={errors}
          code
        />
        <CheckboxField
          param="receipt-wait"
          label="Fail over when no delivery receipt arrives"
          checked={routing.receiptWait}
          onChange={(receiptWait) => update({ receiptWait })}
          errors={errors}
        />
        {routing.receiptWait && (
          <TextField
            param="sms.failover.receipt_wait_seconds"
            label="Wait for a delivery receipt (seconds)"
            hint="10 to 3600 (default 60). Only while the code has time left; a slow first carrier may still deliver, so the person can get two messages."
            value={routing.receiptWaitSeconds}
            onInput={(receiptWaitSeconds) => update({ receiptWaitSeconds })}
            errors={errors}
            code
          />
        )}
        <fieldset class="choice" id={fieldId('sms.failover.receipt_wait_templates')} tabindex={-1}>
          <legend>Messages that wait for a receipt</legend>
          <FieldError param="sms.failover.receipt_wait_templates" error={errors.get('sms.failover.receipt_wait_templates')} />
          {RECEIPT_WAIT_TEMPLATES.map(({ slug, name }) => (
            <div class="checkbox" key={slug}>
              <input
                type="checkbox"
                id={`receipt-wait-${slug}`}
                checked={routing.receiptWaitTemplates.includes(slug)}
                onChange={(event) =>
                  update({
                    receiptWaitTemplates: event.currentTarget.checked
                      ? [...routing.receiptWaitTemplates, slug]
                      : routing.receiptWaitTemplates.filter((s) => s !== slug),
                  })
                }
              />
              <label for={`receipt-wait-${slug}`}>{name}</label>
            </div>
          ))}
        </fieldset>
      </fieldset>
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
