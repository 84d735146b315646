/**
 * Configure → Allowed origins: `allowed_origins` of `GET` / `PATCH /v1/instance`, the web origins whose pages may
 * call the FAPI from a browser. One origin per line; saving sends the whole list, and the API's error, which
 * names the entry at fault, comes back beside the field.
 */
import { useEffect, useState } from 'preact/hooks';
import { asApiError, type ApiError } from '../api.js';
import type { InstanceSettings } from '../api-types.js';
import { ErrorSummary, SaveBar, TextField, fieldErrorsOf } from '../components/fields.js';
import { speakErrors, type FormField } from '../form-errors.js';
import { ErrorPanel, Loading } from '../components/states.js';
import { useSave } from '../hooks.js';
import { useSession } from '../session.js';

export const ALLOWED_ORIGINS_PATH = '/dashboard/configure/allowed-origins';

const PARAM = 'allowed_origins';
const FIELDS: FormField[] = [{ param: PARAM, label: 'Allowed origins' }];

/** The textarea's lines (or comma-separated entries) as the list the API takes; blank lines are dropped. */
export function parseOrigins(text: string): string[] {
  return text
    .split(/[\n,]+/)
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '');
}

export function AllowedOriginsPage() {
  const { api } = useSession();
  const [saved, setSaved] = useState<string[] | null>(null);
  const [draft, setDraft] = useState('');
  const [loadError, setLoadError] = useState<ApiError | null>(null);
  const form = useSave();

  const show = (settings: InstanceSettings) => {
    setSaved(settings.allowed_origins);
    setDraft(settings.allowed_origins.join('\n'));
  };
  const load = () => {
    setLoadError(null);
    api.get<InstanceSettings>('/v1/instance').then(show, (error: unknown) => setLoadError(asApiError(error)));
  };
  useEffect(load, [api]);

  if (loadError) return <ErrorPanel title="The allowed origins could not be loaded" error={loadError} onRetry={load} />;
  if (!saved) return <Loading what="allowed origins" />;

  const origins = parseOrigins(draft);
  const dirty = origins.join('\n') !== saved.join('\n');
  const save = (event: Event) => {
    event.preventDefault();
    if (!dirty) return form.reset('Nothing to save: the list has not changed.');
    void form.run(async () => {
      show(await api.patch<InstanceSettings>('/v1/instance', { [PARAM]: origins }));
      return 'Saved.';
    });
  };
  const discard = () => {
    setDraft(saved.join('\n'));
    form.reset();
  };

  return (
    <form class="wizard" onSubmit={save} autocomplete="off" noValidate aria-describedby="origins-intro">
      <p id="origins-intro" class="lede">
        Web pages on these origins may use the Frontend API from a browser: sign-up, sign-in and sessions, with the client token kept in a
        cookie no script can read. Pages on any other origin are refused. Apps and servers that call the API directly need no entry.
      </p>
      <ErrorSummary errors={speakErrors(form.errors, FIELDS)} visibleParams={new Set([PARAM])} summaryRef={form.summaryRef} />
      <TextField
        param={PARAM}
        label="Allowed origins"
        hint={
          <>
            One per line, exactly as the browser shows it: <code>https://app.example.com</code>, with a port only when it is not the default
            one, no path and no trailing slash. Plain <code>http</code> only for <code>localhost</code> (local development). The Frontend
            API must be on the same site as the pages, such as <code>auth.example.com</code> for <code>app.example.com</code>.
          </>
        }
        type="textarea"
        value={draft}
        onInput={(value) => {
          setDraft(value);
          form.setNotice(null);
        }}
        errors={fieldErrorsOf(speakErrors(form.errors, FIELDS))}
        placeholder="https://app.example.com"
        code
      />
      <SaveBar notice={form.notice} dirty={dirty} saving={form.saving} saveLabel="Save allowed origins" onDiscard={discard} />
    </form>
  );
}
