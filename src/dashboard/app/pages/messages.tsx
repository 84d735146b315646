/**
 * Activity → Messages over `GET /v1/sms_messages`: every SMS the engine took, newest first, filtered by status,
 * recipient and template (filters kept in the address), refreshing itself while the tab is visible; and one
 * message (`?message=<id>`) with its carrier attempts and status history, followed until it settles.
 */
import { useEffect, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import type { ApiErrorDetail, Page, SmsMessage, SmsMessageDetail, SmsStatus, SmsTemplate } from '../api-types.js';
import { DataTable, type Column } from '../components/data-table.js';
import { CheckboxField, SelectField, TextField, fieldErrorsOf } from '../components/fields.js';
import { speakErrors, type FormField } from '../form-errors.js';
import { LoadMore } from '../components/load-more.js';
import { FAILOVER_REASON_TEXT, SMS_STATUSES, SmsStatusBadge, isUnderWay, statusName } from '../components/sms-status.js';
import { EmptyState, ErrorPanel, Loading } from '../components/states.js';
import { Time } from '../components/time.js';
import { useDraft, usePagedList, useSmsMessage } from '../hooks.js';
import { useSession } from '../session.js';
import { PHONE_SEARCH_HINT } from './users.js';

/** The filters, in page order, as the page labels them (a refused filter is named so). */
const FILTER_FIELDS: FormField[] = [
  { param: 'status', label: 'Status' },
  { param: 'to', label: 'Recipient' },
  { param: 'template', label: 'Template' },
];

export const MESSAGES_PATH = '/dashboard/activity/messages';
const PAGE_SIZE = 25;
/** The log refreshes this often while the tab is visible. */
const LIST_REFRESH_MS = 3000;
/** The template of `POST /v1/sms_messages/test`. */
const TEST_TEMPLATE = 'test_message';

interface Filters {
  status: string;
  to: string;
  template: string;
}
const FILTER_NAMES = ['status', 'to', 'template'] as const;

export const messageUrl = (id: string) => `${MESSAGES_PATH}?message=${encodeURIComponent(id)}`;

function messagesUrl(filters: Filters): string {
  const params = new URLSearchParams();
  for (const name of FILTER_NAMES) if (filters[name].trim()) params.set(name, filters[name].trim());
  const text = params.toString();
  return text ? `${MESSAGES_PATH}?${text}` : MESSAGES_PATH;
}

export function MessagesPage() {
  const { query } = useLocation();
  if (query.message !== undefined) return <MessageView key={query.message} id={query.message} />;
  return <MessageLog />;
}

function MessageLog() {
  const { api } = useSession();
  const location = useLocation();
  const applied: Filters = { status: location.query.status ?? '', to: location.query.to ?? '', template: location.query.template ?? '' };
  const appliedKey = messagesUrl(applied);
  const [form, setForm] = useDraft(applied, appliedKey);
  const [autoRefresh, setAutoRefresh] = useState(true);
  const [templates, setTemplates] = useState<SmsTemplate[]>([]);

  // Names for the template filter; without them the slugs still work.
  useEffect(() => {
    api.get<Page<SmsTemplate>>('/v1/templates/sms').then(
      (page) => setTemplates(page.data),
      () => setTemplates([]),
    );
  }, [api]);

  const list = usePagedList<SmsMessage>(
    (cursor, limit) =>
      api.get<Page<SmsMessage>>('/v1/sms_messages', {
        status: applied.status,
        to: applied.to,
        template: applied.template,
        limit,
        starting_after: cursor,
      }),
    appliedKey,
    { pageSize: PAGE_SIZE, refreshMs: autoRefresh ? LIST_REFRESH_MS : undefined },
  );
  // A refused filter (a recipient that is not a phone number) is shown beside its field.
  const filterErrors: ApiErrorDetail[] = list.error?.errors.every((e) => e.meta?.param_name && e.meta.param_name in applied)
    ? list.error.errors
    : [];
  const errors = fieldErrorsOf(speakErrors(filterErrors, FILTER_FIELDS));
  const templateChoices = [
    ...templates.map((t) => ({ value: t.slug, label: t.name })),
    { value: TEST_TEMPLATE, label: 'Test message (from the SMS settings)' },
  ];

  return (
    <div class="messages">
      <p class="lede">
        Every SMS the server took, newest first, with where it stands. Verification codes are masked once a real driver sends them.
      </p>
      <form
        class="filters"
        role="search"
        aria-label="Filter the messages"
        onSubmit={(event) => {
          event.preventDefault();
          if (messagesUrl(form) === appliedKey) list.reload();
          else location.route(messagesUrl(form));
        }}
      >
        <div class="filter-grid">
          <SelectField
            param="status"
            label="Status"
            options={[{ value: '', label: 'Any status' }, ...SMS_STATUSES.map((status) => ({ value: status.id, label: status.name }))]}
            value={form.status}
            onChange={(status) => setForm({ ...form, status })}
            errors={errors}
          />
          <TextField
            param="to"
            label="Recipient"
            hint={PHONE_SEARCH_HINT}
            type="tel"
            code
            value={form.to}
            onInput={(to) => setForm({ ...form, to })}
            errors={errors}
          />
          <SelectField
            param="template"
            label="Template"
            options={[{ value: '', label: 'Any template' }, ...templateChoices]}
            value={form.template}
            onChange={(template) => setForm({ ...form, template })}
            errors={errors}
          />
        </div>
        <div class="filter-actions">
          <button type="submit" class="button button-primary">
            Apply filters
          </button>
          <button type="button" class="button button-secondary" onClick={() => location.route(MESSAGES_PATH)}>
            Clear filters
          </button>
        </div>
      </form>

      <div class="refresh-bar">
        <CheckboxField
          param="auto_refresh"
          label="Refresh automatically"
          hint={`Every ${LIST_REFRESH_MS / 1000} seconds while this tab is visible (it pauses while the tab is hidden).`}
          checked={autoRefresh}
          onChange={setAutoRefresh}
          errors={new Map()}
        />
        {!autoRefresh && (
          <button type="button" class="button button-secondary" onClick={() => list.refresh()}>
            Refresh now
          </button>
        )}
      </div>

      {filterErrors.length > 0 ? (
        <p class="state">Fix the filters above to see messages.</p>
      ) : list.error && !list.items ? (
        <ErrorPanel title="The messages could not be loaded" error={list.error} onRetry={list.reload} />
      ) : !list.items ? (
        <Loading what="messages" />
      ) : list.items.length === 0 ? (
        <EmptyState title="No messages">
          <p>
            {appliedKey === MESSAGES_PATH
              ? 'No SMS has been sent yet. Send a test SMS from the SMS settings.'
              : 'No messages match these filters.'}
          </p>
        </EmptyState>
      ) : (
        <>
          {list.error && <p class="field-error">The list could not be refreshed ({list.error.code}); it shows what was last loaded.</p>}
          <MessageTable messages={list.items} />
          <LoadMore list={list} label="Load older messages" end="End of the messages for these filters." />
        </>
      )}
    </div>
  );
}

const MESSAGE_COLUMNS: readonly Column<SmsMessage>[] = [
  {
    header: 'Time',
    cell: (message) => (
      // Named by what it shows, then which message it opens (a name that starts with the visible text).
      <a href={messageUrl(message.id)}>
        <Time ms={message.created_at} />
        <span class="visually-hidden">
          : message to {message.to_phone_number}, {statusName(message.status)}
        </span>
      </a>
    ),
  },
  { header: 'Recipient', cell: (message) => <code>{message.to_phone_number}</code> },
  {
    header: 'Status',
    cell: (message) => (
      <>
        <SmsStatusBadge status={message.status} />
        {message.error_code && (
          <span class="muted">
            {' '}
            <code>{message.error_code}</code>
          </span>
        )}
        {message.failover && (
          <span class="muted" data-failover>
            {' '}
            moved to {message.failover.to}
          </span>
        )}
      </>
    ),
  },
  { header: 'Template', cell: (message) => <code>{message.template}</code> },
  { header: 'Message', cell: (message) => message.body, class: 'message-text' },
];

function MessageTable({ messages }: { messages: SmsMessage[] }) {
  return (
    <DataTable
      class="messages-table"
      caption="SMS messages, newest first"
      columns={MESSAGE_COLUMNS}
      rows={messages}
      rowKey={(message) => message.id}
      keyAttribute="data-message"
    />
  );
}

function MessageView({ id }: { id: string }) {
  const { message, error, reload } = useSmsMessage(id);
  if (error && !message) {
    return error.code === 'resource_not_found' ? (
      <EmptyState title="No such message">
        <p>
          There is no SMS message <code>{id}</code>. <a href={MESSAGES_PATH}>See all messages</a>
        </p>
      </EmptyState>
    ) : (
      <ErrorPanel title="The message could not be loaded" error={error} onRetry={reload} />
    );
  }
  if (!message) return <Loading what="the message" />;
  return (
    <div class="message-view">
      <p>
        <a href={MESSAGES_PATH}>← All messages</a>
      </p>
      <h2 class="message-title">
        To <code>{message.to_phone_number}</code> <SmsStatusBadge status={message.status} />
      </h2>
      {isUnderWay(message.status) && <p class="hint">Still moving: this page follows it every second while the tab is visible.</p>}
      <MessageFacts message={message} />
      <section aria-labelledby="attempts-title">
        <h3 id="attempts-title">Carrier attempts</h3>
        {message.attempts.length === 0 ? (
          <p class="muted">None: this message was not given to a carrier.</p>
        ) : (
          <DataTable
            class="sms-attempts-table"
            caption="Carrier attempts, oldest first"
            columns={ATTEMPT_COLUMNS}
            rows={message.attempts}
            rowKey={(attempt) => String(attempt.attempt)}
            keyAttribute="data-attempt"
          />
        )}
      </section>
      <section aria-labelledby="history-title">
        <h3 id="history-title">Status history</h3>
        <StatusHistory message={message} />
      </section>
    </div>
  );
}

const ATTEMPT_COLUMNS: readonly Column<SmsMessageDetail['attempts'][number]>[] = [
  {
    header: 'Attempt',
    cell: (attempt) => (
      <>
        {attempt.attempt} <span class="muted">({attempt.driver})</span>
      </>
    ),
  },
  { header: 'Started', cell: (attempt) => <Time ms={attempt.started_at} /> },
  { header: 'Outcome', cell: (attempt) => <code>{attempt.outcome}</code> },
  { header: 'Duration', cell: (attempt) => `${attempt.finished_at - attempt.started_at} ms` },
  {
    header: 'Carrier answer',
    cell: (attempt) => (
      <CarrierAnswer
        httpStatus={attempt.http_status}
        carrierId={attempt.carrier_message_id}
        code={attempt.error_code}
        text={attempt.error_message}
      />
    ),
  },
];

function CarrierAnswer({
  httpStatus,
  carrierId,
  code,
  text,
}: {
  httpStatus: number | null;
  carrierId: string | null;
  code: string | null;
  text: string | null;
}) {
  const parts = [httpStatus !== null ? `HTTP ${httpStatus}` : null, carrierId ? `id ${carrierId}` : null].filter(Boolean).join(' · ');
  return (
    <>
      {parts || <span class="muted">—</span>}
      {(code || text) && (
        <p class="carrier-error">
          {code && <code>{code}</code>} {text}
        </p>
      )}
    </>
  );
}

function MessageFacts({ message }: { message: SmsMessageDetail }) {
  const sender = message.messaging_service_sid ? `Messaging service ${message.messaging_service_sid}` : (message.from_phone_number ?? '—');
  return (
    <dl class="facts">
      <dt>Message</dt>
      <dd class="message-text">{message.body}</dd>
      <dt>Size</dt>
      <dd>
        {message.encoding} · {message.segments} {message.segments === 1 ? 'segment' : 'segments'}
        {message.carrier_parts !== null && ` (the carrier counted ${message.carrier_parts})`}
      </dd>
      <dt>Template</dt>
      <dd>
        <code>{message.template}</code>
        {!message.delivered_by_us && ' (delivered by you)'}
      </dd>
      <dt>From</dt>
      <dd>{sender}</dd>
      <dt>Driver</dt>
      <dd>{message.driver ?? <span class="muted">None</span>}</dd>
      {message.failover && (
        <>
          <dt>Failover</dt>
          <dd data-failover-reason={message.failover.reason}>
            Moved from {message.failover.from} to {message.failover.to} at <Time ms={message.failover.at} />:{' '}
            {FAILOVER_REASON_TEXT[message.failover.reason]}.
          </dd>
        </>
      )}
      {(message.error_code || message.error_message) && (
        <>
          <dt>Error</dt>
          <dd class="carrier-error">
            {message.error_code && <code>{message.error_code}</code>} {message.error_message}
          </dd>
        </>
      )}
      {message.carrier_message_id && (
        <>
          <dt>Carrier id</dt>
          <dd>
            <code>{message.carrier_message_id}</code>
            {message.carrier_status && <span class="muted"> (carrier status: {message.carrier_status})</span>}
          </dd>
        </>
      )}
      <dt>Queued</dt>
      <dd>
        <Time ms={message.created_at} />
      </dd>
      {message.sent_at !== null && (
        <>
          <dt>Sent</dt>
          <dd>
            <Time ms={message.sent_at} />
          </dd>
        </>
      )}
      {message.completed_at !== null && (
        <>
          <dt>Settled</dt>
          <dd>
            <Time ms={message.completed_at} />
          </dd>
        </>
      )}
      {message.next_attempt_at !== null && (
        <>
          <dt>Next attempt</dt>
          <dd>
            <Time ms={message.next_attempt_at} />
          </dd>
        </>
      )}
      {message.next_status_check_at !== null && (
        <>
          <dt>Status check</dt>
          <dd>
            <Time ms={message.next_status_check_at} /> <span class="muted">(asks the carrier if no delivery report comes first)</span>
          </dd>
        </>
      )}
      <dt>Id</dt>
      <dd>
        <code>{message.id}</code>
      </dd>
    </dl>
  );
}

export function StatusHistory({ message }: { message: SmsMessageDetail }) {
  return (
    <ol class="status-history">
      {message.status_history.map((change, index) => (
        <li key={index} class={change.applied ? '' : 'not-applied'} data-status={change.status}>
          <Time ms={change.created_at} />{' '}
          <span class="history-step">
            <SmsStatusBadge status={change.status as SmsStatus} /> <span class="muted">from {change.source}</span>
            {change.carrier_status && <span class="muted"> (carrier: {change.carrier_status})</span>}
          </span>
          {(change.error_code || change.error_message) && (
            <p class="carrier-error">
              {change.error_code && <code>{change.error_code}</code>} {change.error_message}
            </p>
          )}
          {!change.applied && <p class="muted">Came after a later status, so it changed nothing.</p>}
        </li>
      ))}
    </ol>
  );
}
