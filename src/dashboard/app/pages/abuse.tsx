/**
 * Configure → Abuse defences: the `abuse` block of `GET` / `PATCH /v1/instance`. The limits that stop SMS
 * pumping and guessing, as one form; saving sends one merge patch with only what changed, and the API's field
 * errors come back beside their fields.
 */
import { useEffect, useState } from 'preact/hooks';
import { asApiError, type ApiError } from '../api.js';
import type { InstanceSettings } from '../api-types.js';
import { ABUSE_NUMBERS, abuseDraftFrom, buildAbusePatch, type AbuseDraft } from '../abuse-form.js';
import { ErrorSummary, FieldError, RadioOption, SaveBar, TextField, fieldErrorsOf } from '../components/fields.js';
import { ErrorPanel, Loading } from '../components/states.js';
import { speakErrors, type FormField } from '../form-errors.js';
import { useSave } from '../hooks.js';
import { useSession } from '../session.js';
import { fieldId, patchPaths } from '../settings-form.js';

export const ABUSE_PATH = '/dashboard/configure/abuse';

const COUNTRIES_PARAM = 'abuse.sms_countries.countries';
const MODE_PARAM = 'abuse.sms_countries.mode';
const GROUPS = [...new Set(ABUSE_NUMBERS.map((field) => field.group))];

/** The page's fields in page order, as errors name them. */
const FIELDS: FormField[] = [
  // An empty or fractional box reaches the API as text, which it refuses as "an integer or null".
  ...ABUSE_NUMBERS.map(({ param, name }) => ({ param, label: name, says: { form_param_type_invalid: `${name} must be a whole number.` } })),
  { param: MODE_PARAM, label: 'Countries codes may be sent to' },
  { param: COUNTRIES_PARAM, label: 'Countries' },
];

export function AbusePage() {
  const { api } = useSession();
  const [view, setView] = useState<InstanceSettings | null>(null);
  const [draft, setDraft] = useState<AbuseDraft | null>(null);
  const [loadError, setLoadError] = useState<ApiError | null>(null);
  const form = useSave();

  const load = () => {
    setLoadError(null);
    api.get<InstanceSettings>('/v1/instance').then(
      (settings) => {
        setView(settings);
        setDraft(abuseDraftFrom(settings));
      },
      (error: unknown) => setLoadError(asApiError(error)),
    );
  };
  useEffect(load, [api]);

  if (loadError) return <ErrorPanel title="The abuse defences could not be loaded" error={loadError} onRetry={load} />;
  if (!view || !draft) return <Loading what="abuse defences" />;

  const spokenErrors = speakErrors(form.errors, FIELDS);
  const errors = fieldErrorsOf(spokenErrors);
  const patch = buildAbusePatch(view, draft);
  const dirty = patchPaths(patch).length > 0;
  const update = (changes: Partial<AbuseDraft>) => {
    setDraft({ ...draft, ...changes });
    form.setNotice(null);
  };

  const save = (event: Event) => {
    event.preventDefault();
    if (!dirty) return form.reset('Nothing to save: no setting has changed.');
    void form.run(async () => {
      const saved = await api.patch<InstanceSettings>('/v1/instance', patch);
      setView(saved);
      setDraft(abuseDraftFrom(saved));
      return 'Saved.';
    });
  };
  const discard = () => {
    setDraft(abuseDraftFrom(view));
    form.reset();
  };

  const visibleParams = new Set<string>([...ABUSE_NUMBERS.map((field) => field.param), MODE_PARAM, COUNTRIES_PARAM]);

  return (
    <form class="wizard" onSubmit={save} autocomplete="off" noValidate aria-describedby="abuse-intro">
      <p id="abuse-intro" class="lede">
        Limits that stop SMS pumping and code guessing. A refused request sends nothing and changes nothing; the first refusal in a window
        is written to the audit log and sent as the <code>abuse.limit_reached</code> event. Test numbers are never sent, so the send limits
        skip them.
      </p>
      <ErrorSummary errors={spokenErrors} visibleParams={visibleParams} summaryRef={form.summaryRef} />

      {GROUPS.map((group) => (
        <fieldset class="subsection" key={group}>
          <legend>{group}</legend>
          {ABUSE_NUMBERS.filter((field) => field.group === group).map((field) => (
            <TextField
              key={field.param}
              param={field.param}
              label={field.label}
              hint={field.hint}
              value={draft.numbers[field.param]}
              onInput={(value) => update({ numbers: { ...draft.numbers, [field.param]: value } })}
              errors={errors}
              code
            />
          ))}
        </fieldset>
      ))}

      <fieldset class="subsection" id={fieldId(MODE_PARAM)} tabindex={-1}>
        <legend>Countries codes may be sent to</legend>
        <FieldError param={MODE_PARAM} error={errors.get(MODE_PARAM)} />
        <RadioOption
          name="country-mode"
          id="country-mode-allow"
          label="Only the countries listed"
          checked={draft.countryMode === 'allow'}
          onChange={() => update({ countryMode: 'allow' })}
        />
        <RadioOption
          name="country-mode"
          id="country-mode-deny"
          label="Every country but those listed"
          checked={draft.countryMode === 'deny'}
          onChange={() => update({ countryMode: 'deny' })}
        />
        <TextField
          param={COUNTRIES_PARAM}
          label="Countries"
          hint="Two-letter country codes (ISO 3166-1), separated by commas, such as US, CA. The default allows the US and Canada only."
          value={draft.countries}
          onInput={(countries) => update({ countries })}
          errors={errors}
          code
        />
      </fieldset>

      <SaveBar notice={form.notice} dirty={dirty} saving={form.saving} saveLabel="Save abuse defences" onDiscard={discard} />
    </form>
  );
}
