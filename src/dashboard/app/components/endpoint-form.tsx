/** Pieces of the webhooks pages: the endpoint form (add, change), and how an endpoint's events and state read. */
import { useLayoutEffect, useState } from 'preact/hooks';
import { asApiError } from '../api.js';
import type { ApiErrorDetail, EventType } from '../api-types.js';
import { fieldId } from '../settings-form.js';
import { eventTypeChoices, type EndpointDraft } from '../webhook-form.js';
import { speakErrors, type FormField } from '../form-errors.js';
import { useErrorFocus } from '../hooks.js';
import { CheckboxField, ErrorSummary, FieldError, RadioOption, TextField, fieldErrorsOf, type FieldErrors } from './fields.js';

/** "All events" or the subscribed types. */
export function EventsSummary({ eventTypes }: { eventTypes: string[] | null }) {
  if (eventTypes === null) return <>All events</>;
  return (
    <ul class="inline-list">
      {eventTypes.map((type) => (
        <li key={type}>
          <code>{type}</code>
        </li>
      ))}
    </ul>
  );
}

export function EnabledBadge({ enabled }: { enabled: boolean }) {
  return <span class={`badge ${enabled ? 'badge-set' : 'badge-unset'}`}>{enabled ? 'Enabled' : 'Disabled'}</span>;
}

/** The form's fields in page order, as the page names them. */
const FIELDS: FormField[] = [
  { param: 'url', label: 'URL' },
  { param: 'description', label: 'Description' },
  // The page offers only the catalogue's types, so the one refusal it can meet is an empty choice.
  { param: 'event_types', label: 'Events', says: { form_param_format_invalid: 'Choose at least one event, or All events.' } },
  { param: 'enabled', label: 'Enabled' },
];

interface EndpointFormProps {
  title: string;
  submitLabel: string;
  catalogue: EventType[];
  initial: EndpointDraft;
  /** The "enabled" box: at creation (afterwards, the endpoint's view has Enable / Disable). */
  showEnabled?: boolean;
  /** Sends the draft (types in `order`); a rejection's field errors are shown beside the fields. */
  submit(draft: EndpointDraft, order: string[]): Promise<void>;
  onCancel(): void;
}

/** Adding or changing an endpoint: its URL, a description, and which events it receives. */
export function EndpointForm({ title, submitLabel, catalogue, initial, showEnabled, submit, onCancel }: EndpointFormProps) {
  const [draft, setDraft] = useState(initial);
  const [errors, setErrors] = useState<ApiErrorDetail[]>([]);
  const [busy, setBusy] = useState(false);
  const summaryRef = useErrorFocus(errors);
  const choices = eventTypeChoices(catalogue, initial.eventTypes);

  // Focus moves at once on mounting (a later move would take keystrokes meant for another field).
  useLayoutEffect(() => document.getElementById(fieldId('url'))?.focus(), []);

  const onSubmit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    try {
      await submit(draft, choices);
    } catch (error) {
      setErrors(asApiError(error).errors);
      setBusy(false);
    }
  };

  const spokenErrors = speakErrors(errors, FIELDS);
  const fieldErrors = fieldErrorsOf(spokenErrors);
  const update = (changes: Partial<EndpointDraft>) => setDraft({ ...draft, ...changes });
  return (
    <form class="panel endpoint-form" onSubmit={onSubmit} autocomplete="off" noValidate aria-labelledby="endpoint-form-title">
      <h2 id="endpoint-form-title">{title}</h2>
      <ErrorSummary
        title="The endpoint was not saved"
        errors={spokenErrors}
        visibleParams={new Set(['url', 'description', 'event_types', 'enabled'])}
        summaryRef={summaryRef}
      />
      <TextField
        param="url"
        label="URL"
        type="url"
        code
        hint="Where the POSTs go: an http or https URL of your receiver, such as https://example.com/webhooks/authn."
        value={draft.url}
        onInput={(url) => update({ url })}
        errors={fieldErrors}
      />
      <TextField
        param="description"
        label="Description (optional)"
        hint="For you: what this endpoint is for."
        value={draft.description}
        onInput={(description) => update({ description })}
        errors={fieldErrors}
      />
      <EventTypesField catalogue={catalogue} choices={choices} draft={draft} update={update} errors={fieldErrors} />
      {showEnabled && (
        <CheckboxField
          param="enabled"
          label="Enabled"
          hint="A disabled endpoint receives nothing until you enable it."
          checked={draft.enabled}
          onChange={(enabled) => update({ enabled })}
          errors={fieldErrors}
        />
      )}
      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled={busy}>
          {busy ? 'Saving…' : submitLabel}
        </button>
        <button type="button" class="button button-secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function EventTypesField({
  catalogue,
  choices,
  draft,
  update,
  errors,
}: {
  catalogue: EventType[];
  choices: string[];
  draft: EndpointDraft;
  update(changes: Partial<EndpointDraft>): void;
  errors: FieldErrors;
}) {
  const error = errors.get('event_types');
  const describe = (type: string) => catalogue.find((entry) => entry.type === type)?.description ?? "Not in this version's catalogue.";
  const toggle = (type: string, on: boolean) =>
    update({ eventTypes: on ? [...draft.eventTypes, type] : draft.eventTypes.filter((t) => t !== type) });
  return (
    <fieldset class={`event-types${error ? ' field-invalid' : ''}`} id={fieldId('event_types')} tabindex={-1}>
      <legend>Events</legend>
      <FieldError param="event_types" error={error} />
      <RadioOption
        name="event-scope"
        id="event-scope-all"
        label="All events"
        hint="Including event types that later versions add."
        checked={draft.allEvents}
        onChange={() => update({ allEvents: true })}
      />
      <RadioOption
        name="event-scope"
        id="event-scope-some"
        label="Only the events I choose"
        checked={!draft.allEvents}
        onChange={() => update({ allEvents: false })}
      />
      {!draft.allEvents && (
        <ul class="event-choices plain">
          {choices.map((type) => {
            const id = `event-type-${type.replace(/\./g, '-')}`;
            return (
              <li key={type} class="checkbox">
                <input
                  type="checkbox"
                  id={id}
                  checked={draft.eventTypes.includes(type)}
                  onChange={(event) => toggle(type, event.currentTarget.checked)}
                  aria-describedby={`${id}-hint`}
                />
                <label for={id}>
                  <code>{type}</code>
                </label>
                <p class="hint" id={`${id}-hint`}>
                  {describe(type)}
                </p>
              </li>
            );
          })}
        </ul>
      )}
    </fieldset>
  );
}
