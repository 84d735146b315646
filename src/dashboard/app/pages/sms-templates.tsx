/**
 * Configure → Messaging → SMS templates over `/v1/templates/sms`: the four templates, and an editor (the template in
 * the address, `?template=<slug>`) with a live preview. The preview asks the API (`POST …/preview`) once typing
 * pauses, so the message, its encoding and its segments are the server's own, and so are the body's errors.
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { asApiError, type Api, type ApiError } from '../api.js';
import type { ApiErrorDetail, Page, SmsTemplate, SmsTemplatePreview, WebhookEndpoint } from '../api-types.js';
import { ConfirmDialog } from '../components/dialog.js';
import { DataTable, type Column } from '../components/data-table.js';
import { CheckboxField, ErrorSummary, SaveBar, TextField, fieldErrorsOf } from '../components/fields.js';
import { EmptyState, ErrorPanel, Loading } from '../components/states.js';
import { speakErrors, type FormField } from '../form-errors.js';
import { Time } from '../components/time.js';
import { useLoaded, useSave, useSettled, type Loaded } from '../hooks.js';
import { useSession } from '../session.js';
import { SMS_SETTINGS_PATH } from './sms-settings.js';
import {
  OPERATOR_EVENT,
  UNDELIVERED_CONSEQUENCE,
  operatorReceivers,
  previewRequest,
  stopsDeliveryUnreceived,
  templateDraftFrom,
  templatePatch,
  ucs2Characters,
  type TemplateDraft,
} from '../template-form.js';
import { WEBHOOKS_PATH, endpointUrl } from './webhooks.js';

export const SMS_TEMPLATES_PATH = '/dashboard/configure/messaging/sms-templates';
const PREVIEW_DELAY_MS = 300;

const templateUrl = (slug: string) => `${SMS_TEMPLATES_PATH}?template=${encodeURIComponent(slug)}`;

const plural = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;

function measure({ encoding, characters, segments }: { encoding: string; characters: number; segments: number }): string {
  return `${encoding} · ${plural(characters, 'character')} · ${plural(segments, 'segment')}`;
}

export function SmsTemplatesPage() {
  const { api } = useSession();
  const { query } = useLocation();
  const slug = query.template;
  const loaded = useLoaded(() => api.get<Page<SmsTemplate>>('/v1/templates/sms').then((page) => page.data), '');
  const templates = loaded.value;
  // Opened from within the page (not by loading its address): the editor then takes the focus.
  const firstSlug = useRef(slug);
  const moved = useRef(false);
  if (slug !== firstSlug.current) moved.current = true;

  if (loaded.error) return <ErrorPanel title="The SMS templates could not be loaded" error={loaded.error} onRetry={loaded.reload} />;
  if (!templates) return <Loading what="SMS templates" />;
  if (slug === undefined) return <TemplateList templates={templates} />;
  const template = templates.find((t) => t.slug === slug);
  if (!template) {
    return (
      <EmptyState title="No such template">
        <p>
          There is no SMS template <code>{slug}</code>. <a href={SMS_TEMPLATES_PATH}>See all SMS templates</a>
        </p>
      </EmptyState>
    );
  }
  return (
    <TemplateEditor
      key={template.slug}
      template={template}
      focusOnOpen={moved.current}
      onChange={(saved) => loaded.setValue(templates.map((t) => (t.slug === saved.slug ? saved : t)))}
    />
  );
}

function senderOf(template: SmsTemplate): string {
  if (template.from_number_override_ignored) return 'The Twilio messaging service';
  return template.from_number_override ?? 'The from number of the SMS settings';
}

const TEMPLATE_COLUMNS: readonly Column<SmsTemplate>[] = [
  {
    header: 'Template',
    cell: (template) => (
      <>
        <a href={templateUrl(template.slug)}>{template.name}</a>{' '}
        <span class={`badge ${template.customised ? 'badge-set' : 'badge-unset'}`}>{template.customised ? 'Customised' : 'Default'}</span>
        <br />
        <code class="muted">{template.slug}</code>
      </>
    ),
  },
  { header: 'Sample message', cell: (template) => template.sample_message, class: 'message-text' },
  { header: 'Size', cell: measure },
  { header: 'Sender', cell: senderOf },
  {
    header: 'Sent by',
    cell: (template) =>
      template.delivered_by_us ? (
        'authn.sh'
      ) : (
        <>
          You (from the <code>sms.queued</code> event)
        </>
      ),
  },
];

function TemplateList({ templates }: { templates: SmsTemplate[] }) {
  return (
    <div class="sms-templates">
      <p class="lede">
        What each SMS says. A change applies to the next message; <strong>Revert</strong> brings back the shipped text. The sample messages
        use sample values and your app name.
      </p>
      <DataTable
        class="templates-table"
        caption="SMS templates"
        columns={TEMPLATE_COLUMNS}
        rows={templates}
        rowKey={(template) => template.slug}
        keyAttribute="data-template"
      />
    </div>
  );
}

/** The editor's fields in page order, as the page names them. */
function templateFields(template: SmsTemplate): FormField[] {
  return [
    { param: 'body', label: 'Message' },
    ...template.available_variables.map((name) => ({ param: `variables.${name}`, label: `Preview value ${name}` })),
    { param: 'from_number_override', label: 'Sender for this template' },
    { param: 'delivered_by_us', label: '"authn.sh sends this message"' },
  ];
}

/** Every webhook endpoint, page after page. */
async function allEndpoints(api: Api): Promise<WebhookEndpoint[]> {
  const endpoints: WebhookEndpoint[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.get<Page<WebhookEndpoint>>('/v1/webhooks/endpoints', { limit: 500, starting_after: cursor });
    endpoints.push(...page.data);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return endpoints;
}

/** What the preview panel shows: the API's answer for the request it was asked, or the errors it gave. */
type PreviewState =
  | { key: string; preview: SmsTemplatePreview; errors?: undefined }
  | { key: string; preview?: undefined; errors: ApiErrorDetail[] };

function TemplateEditor({
  template,
  focusOnOpen,
  onChange,
}: {
  template: SmsTemplate;
  focusOnOpen: boolean;
  onChange(saved: SmsTemplate): void;
}) {
  const { api } = useSession();
  const [draft, setDraft] = useState<TemplateDraft>(() => templateDraftFrom(template));
  const [shown, setShown] = useState<PreviewState | null>(null);
  const form = useSave();
  const [revert, setRevert] = useState<{ busy: boolean; error: ApiError | null } | null>(null);
  // Where the messages go when authn.sh does not send them: asked when the editor opens.
  const receivers = useLoaded(() => allEndpoints(api).then(operatorReceivers), '');
  const [confirmingStop, setConfirmingStop] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  const valuesBox = useRef<HTMLDetailsElement>(null);
  const bodyInput = useRef<HTMLInputElement | HTMLTextAreaElement | null>(null);
  const caretAfterInsert = useRef<number | null>(null);
  const path = `/v1/templates/sms/${encodeURIComponent(template.slug)}`;

  // Opening a template from the list starts reading at its name.
  useLayoutEffect(() => {
    if (focusOnOpen) heading.current?.focus();
  }, []);

  const requestKey = JSON.stringify(previewRequest(draft));
  const settledKey = useSettled(requestKey, PREVIEW_DELAY_MS);
  useEffect(() => {
    let current = true;
    api.post<SmsTemplatePreview>(`${path}/preview`, JSON.parse(settledKey)).then(
      (preview) => current && setShown({ key: settledKey, preview }),
      (error: unknown) => current && setShown({ key: settledKey, errors: asApiError(error).errors }),
    );
    return () => {
      current = false;
    };
  }, [api, path, settledKey]);

  const update = (changes: Partial<TemplateDraft>, param?: string) => {
    setDraft({ ...draft, ...changes });
    form.setNotice(null);
    // A save error about this field no longer describes what is typed.
    if (param) form.setErrors(form.errors.filter((error) => error.meta?.param_name !== param));
  };

  const insertVariable = (name: string) => {
    const input = bodyInput.current;
    const placeholder = `{{${name}}}`;
    const start = input?.selectionStart ?? draft.body.length;
    const end = input?.selectionEnd ?? draft.body.length;
    update({ body: draft.body.slice(0, start) + placeholder + draft.body.slice(end) }, 'body');
    caretAfterInsert.current = start + placeholder.length;
  };
  // Once the new value is in the field, the caret goes after the placeholder (and the focus back to the field).
  useLayoutEffect(() => {
    const position = caretAfterInsert.current;
    caretAfterInsert.current = null;
    if (position === null) return;
    bodyInput.current?.focus();
    bodyInput.current?.setSelectionRange(position, position);
  });

  const patch = templatePatch(template, draft);
  const dirty = Object.keys(patch).length > 0;

  const save = (event: Event) => {
    event.preventDefault();
    if (!dirty) return form.reset('Nothing to save: the template has not changed.');
    // Messages that would reach no one (or no one known yet): saved only once the operator confirms.
    if (stopsDeliveryUnreceived(template, draft, receivers.error ? null : receivers.value)) return setConfirmingStop(true);
    saveDraft();
  };

  const saveDraft = () => {
    void form.run(async () => {
      const saved = await api.patch<SmsTemplate>(path, patch);
      onChange(saved);
      setDraft(templateDraftFrom(saved, draft.values));
      return 'Saved. The next message uses it.';
    });
  };

  const discard = () => {
    setDraft(templateDraftFrom(template, draft.values));
    form.reset();
  };

  const confirmRevert = async () => {
    setRevert({ busy: true, error: null });
    try {
      const reverted = await api.post<SmsTemplate>(`${path}/revert`);
      onChange(reverted);
      setDraft(templateDraftFrom(reverted, draft.values));
      setRevert(null);
      form.reset('Reverted to the shipped default.');
    } catch (error) {
      setRevert({ busy: false, error: asApiError(error) });
    }
  };

  // Preview errors are about what is typed now; a save's errors stand until the field they name is edited.
  const fields = templateFields(template);
  const saveErrors = speakErrors(form.errors, fields);
  const errors = fieldErrorsOf(speakErrors([...form.errors, ...(shown?.errors ?? [])], fields));
  const updating = shown === null || shown.key !== requestKey;
  const valueRefused = [...errors.keys()].some((param) => param.startsWith('variables.'));
  // A refused value must be seen, even if its fields are folded away.
  useEffect(() => {
    if (valueRefused && valuesBox.current) valuesBox.current.open = true;
  }, [valueRefused]);

  return (
    <div class="template-editor">
      <p>
        <a href={SMS_TEMPLATES_PATH}>← All SMS templates</a>
      </p>
      <h2 class="editor-title" tabindex={-1} ref={heading}>
        {template.name} <code class="muted">{template.slug}</code>{' '}
        <span class={`badge ${template.customised ? 'badge-set' : 'badge-unset'}`}>{template.customised ? 'Customised' : 'Default'}</span>
      </h2>
      {template.updated_at !== null && (
        <p class="muted">
          Last changed <Time ms={template.updated_at} />
        </p>
      )}
      <ErrorSummary
        title="The template was not saved"
        errors={saveErrors}
        visibleParams={new Set(['body', 'from_number_override', 'delivered_by_us'])}
        summaryRef={form.summaryRef}
      />

      {/* The preview follows the message field: beside the form on a wide screen, under the field on a narrow one. */}
      <form class="editor-form" onSubmit={save} autocomplete="off" noValidate>
        <TextField
          param="body"
          label="Message"
          type="textarea"
          hint={
            <>
              Text with variables in double braces. Required:{' '}
              {template.required_variables.map((name) => (
                <code key={name}>{`{{${name}}}`}</code>
              ))}
              . At most 10 segments with sample values.
            </>
          }
          value={draft.body}
          onInput={(body) => update({ body }, 'body')}
          errors={errors}
          inputRef={bodyInput}
        />
        <div class="variable-buttons" role="group" aria-label="Insert a variable at the cursor">
          {template.available_variables.map((name) => (
            <button key={name} type="button" class="button button-small button-secondary" onClick={() => insertVariable(name)}>
              <span class="visually-hidden">Insert </span>
              {`{{${name}}}`}
            </button>
          ))}
        </div>
        <MessagePreview shown={shown} updating={updating} />

        <details class="preview-values" ref={valuesBox}>
          <summary>Preview with other values</summary>
          <p class="hint">Blank fields use the sample values. Values are cleaned as they are for a real send; nothing is saved.</p>
          {template.available_variables.map((name) => (
            <TextField
              key={name}
              param={`variables.${name}`}
              label={name}
              placeholder={shown?.preview?.variables[name]}
              value={draft.values[name] ?? ''}
              onInput={(value) => update({ values: { ...draft.values, [name]: value } })}
              errors={errors}
              code
            />
          ))}
        </details>

        <TextField
          param="from_number_override"
          label="Sender for this template (optional)"
          type="tel"
          code
          hint={
            template.from_number_override_ignored ? (
              <>
                <strong>Ignored now:</strong> a Twilio messaging service is set in the <a href={SMS_SETTINGS_PATH}>SMS settings</a>, and it
                picks the sender of every message, so neither the from number nor this override is used while it is set.
              </>
            ) : (
              'Instead of the from number of the SMS settings: an E.164 number, a short code, or (not with Twilio) a sender id of 1 to 11 letters and digits. Blank: the from number.'
            )
          }
          value={draft.fromNumberOverride}
          onInput={(fromNumberOverride) => update({ fromNumberOverride }, 'from_number_override')}
          errors={errors}
        />
        <CheckboxField
          param="delivered_by_us"
          label="authn.sh sends this message"
          hint={
            <>
              Untick to deliver it yourself: authn.sh then sends nothing for this template, under any driver, records the message with
              status <code>operator</code>, and the <code>sms.queued</code> webhook event carries the text and the recipient.
            </>
          }
          checked={draft.deliveredByUs}
          onChange={(deliveredByUs) => update({ deliveredByUs }, 'delivered_by_us')}
          errors={errors}
        />
        <div aria-live="polite">{!draft.deliveredByUs && <OperatorDelivery template={template} receivers={receivers} />}</div>

        <SaveBar
          notice={form.notice}
          dirty={dirty}
          saving={form.saving}
          saveLabel="Save template"
          onDiscard={discard}
          idle={template.customised ? 'Saved. This template differs from the default.' : 'This is the shipped default.'}
        >
          {template.customised && (
            <button type="button" class="button button-secondary" onClick={() => setRevert({ busy: false, error: null })}>
              Revert to default
            </button>
          )}
        </SaveBar>
      </form>

      {confirmingStop && (
        <ConfirmDialog
          title={`Stop sending "${template.name}" messages?`}
          confirmLabel="Save and stop sending"
          busy={false}
          error={null}
          onConfirm={() => {
            setConfirmingStop(false);
            saveDraft();
          }}
          onCancel={() => setConfirmingStop(false)}
        >
          <p>
            {receivers.error || receivers.value === null ? (
              <>
                It could not be checked whether a webhook endpoint receives <code>{OPERATOR_EVENT}</code>.
              </>
            ) : (
              <>
                No enabled webhook endpoint receives <code>{OPERATOR_EVENT}</code>.
              </>
            )}{' '}
            authn.sh would record each of these messages and send it nowhere. {UNDELIVERED_CONSEQUENCE[template.slug]}
          </p>
        </ConfirmDialog>
      )}
      {revert && (
        <ConfirmDialog
          title={`Revert "${template.name}"?`}
          confirmLabel="Revert"
          busy={revert.busy}
          error={revert.error}
          onConfirm={confirmRevert}
          onCancel={() => setRevert(null)}
          fallbackFocus={() => heading.current}
        >
          <p>
            The message, the sender override and who sends it go back to the shipped default. Your text is not kept
            {dirty ? ', nor your unsaved changes' : ''}.
          </p>
        </ConfirmDialog>
      )}
    </div>
  );
}

/**
 * Where a template's messages go while authn.sh does not send them: the `sms.queued` event, to the endpoints that
 * receive it; a warning when none does, since the messages then reach no one.
 */
function OperatorDelivery({ template, receivers }: { template: SmsTemplate; receivers: Loaded<WebhookEndpoint[]> }) {
  const event = <code>{OPERATOR_EVENT}</code>;
  if (receivers.error) {
    return (
      <div class="warning operator-delivery">
        <p>
          Which webhook endpoints receive {event} could not be checked ({receivers.error.code}). Make sure one does, or these messages go
          nowhere.{' '}
          <button type="button" class="button button-small button-secondary" onClick={receivers.reload}>
            Check again
          </button>
        </p>
      </div>
    );
  }
  if (!receivers.value) return <p class="muted operator-delivery">Checking which webhook endpoints receive {event}…</p>;
  if (receivers.value.length === 0) {
    return (
      <div class="warning operator-delivery" data-operator-delivery="nowhere">
        <p>
          <strong>No enabled webhook endpoint receives {event}: these messages would go nowhere.</strong>{' '}
          {UNDELIVERED_CONSEQUENCE[template.slug]}
        </p>
        <p>
          First <a href={WEBHOOKS_PATH}>add a webhook endpoint</a> that receives {event} and sends each message itself.
        </p>
      </div>
    );
  }
  return (
    <div class="notice operator-delivery" data-operator-delivery="endpoints">
      <p>authn.sh will send nothing for this template. Each message, with its text and recipient, goes in the {event} event to:</p>
      <ul>
        {receivers.value.map((endpoint) => (
          <li key={endpoint.id}>
            <a href={endpointUrl(endpoint.id)} class="code">
              {endpoint.url}
            </a>
          </li>
        ))}
      </ul>
      <p>Your receiver there sends it to the user.</p>
    </div>
  );
}

function MessagePreview({ shown, updating }: { shown: PreviewState | null; updating: boolean }) {
  const preview = shown?.preview;
  const errors = shown?.errors ?? [];
  // A body over the limit has no preview, but the refusal carries its measure.
  const tooLong = errors.find((error) => error.code === 'sms_template_too_long')?.meta as
    | { encoding: string; characters: number; segments: number }
    | undefined;
  const size = preview ?? tooLong;
  const ucs2 = preview ? ucs2Characters(preview.message) : [];
  return (
    <section class="message-preview" aria-labelledby="message-preview-title" data-preview-state={updating ? 'updating' : 'current'}>
      <h3 id="message-preview-title">Preview{updating && <span class="muted"> · updating…</span>}</h3>
      {preview ? (
        <p class="sms-bubble" data-preview-message>
          {preview.message}
        </p>
      ) : errors.length > 0 && errors.every((error) => error.meta?.param_name) ? (
        <p class="preview-problem">No preview until the fields marked with an error are fixed.</p>
      ) : errors.length > 0 ? (
        <ul class="preview-problem">
          {errors.map((error) => (
            <li key={error.code + error.long_message}>
              {error.long_message} <code>{error.code}</code>
            </li>
          ))}
        </ul>
      ) : (
        <p class="muted">Loading the preview…</p>
      )}
      {size && (
        <>
          <p class="measure" role="status" aria-live="polite" data-measure>
            {measure(size)}
          </p>
          <p class="hint">
            {size.encoding === 'GSM-7' ? (
              'GSM-7: 160 characters fit in one segment; a longer message is split into segments of 153.'
            ) : (
              <>
                UCS-2
                {ucs2.length > 0 && (
                  <>
                    {' '}
                    because of <span class="ucs2-characters">{ucs2.join(' ')}</span>
                  </>
                )}
                : 70 characters fit in one segment; a longer message is split into segments of 67. Without characters outside the GSM-7
                alphabet, a segment holds 160.
              </>
            )}
          </p>
        </>
      )}
    </section>
  );
}
