/**
 * Activity → Audit log over `GET /v1/audit_logs`: filters kept in the URL (so a filtered view can be shared or
 * reloaded), newest first, and "Load older entries" following the API's cursor.
 */
import { useEffect, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { ApiError, type Query } from '../api.js';
import type { ApiErrorDetail, AuditEntry, Page } from '../api-types.js';
import { DataTable, type Column } from '../components/data-table.js';
import { TextField, fieldErrorsOf } from '../components/fields.js';
import { speakErrors, type FormField } from '../form-errors.js';
import { LoadMore } from '../components/load-more.js';
import { EmptyState, ErrorPanel, Loading } from '../components/states.js';
import { Time } from '../components/time.js';
import { useDraft, usePagedList } from '../hooks.js';
import { useCurrentKey, useSession } from '../session.js';

/** The filters, in page order, as the page labels them (a refused filter is named so). */
const FILTER_FIELDS: FormField[] = [
  { param: 'action', label: 'Action' },
  { param: 'target_type', label: 'Target type' },
  { param: 'target_id', label: 'Target id' },
  { param: 'actor_id', label: 'Actor id' },
  { param: 'created_after', label: 'From' },
  { param: 'created_before', label: 'To' },
];

export const AUDIT_LOG_PATH = '/dashboard/activity/audit-log';
const PAGE_SIZE = 25;

/** The filter form, as typed; `created_after` / `created_before` are `datetime-local` values in local time. */
interface Filters {
  action: string;
  target_type: string;
  target_id: string;
  actor_id: string;
  created_after: string;
  created_before: string;
}
const FILTER_NAMES = ['action', 'target_type', 'target_id', 'actor_id', 'created_after', 'created_before'] as const;
const NO_FILTERS: Filters = { action: '', target_type: '', target_id: '', actor_id: '', created_after: '', created_before: '' };

const QUICK_FILTERS = [
  { label: 'Everything', action: '' },
  { label: 'Settings changes', action: 'instance.*' },
  { label: 'SMS', action: 'sms.*' },
  { label: 'Secret keys', action: 'secret_key.*' },
];

function filtersFrom(query: Record<string, string>): Filters {
  const filters = { ...NO_FILTERS };
  for (const name of FILTER_NAMES) filters[name] = query[name] ?? '';
  return filters;
}

function auditLogUrl(filters: Partial<Filters>): string {
  const params = new URLSearchParams();
  for (const name of FILTER_NAMES) {
    const value = filters[name]?.trim();
    if (value) params.set(name, value);
  }
  const text = params.toString();
  return text ? `${AUDIT_LOG_PATH}?${text}` : AUDIT_LOG_PATH;
}

function localTimeToMs(value: string): number | undefined {
  return value ? new Date(value).getTime() : undefined;
}

/** The list query for the filters, or a field error when the time range cannot hold anything. */
function apiQuery(filters: Filters): { query: Query } | { error: ApiErrorDetail } {
  const after = localTimeToMs(filters.created_after);
  const before = localTimeToMs(filters.created_before);
  if (after !== undefined && before !== undefined && before <= after) {
    return {
      error: {
        code: 'time_range_empty',
        message: 'Empty time range',
        long_message: '"To" must be later than "From".',
        meta: { param_name: 'created_before' },
      },
    };
  }
  return {
    query: {
      action: filters.action.trim(),
      target_type: filters.target_type.trim(),
      target_id: filters.target_id.trim(),
      actor_id: filters.actor_id.trim(),
      created_after: after,
      created_before: before,
      limit: PAGE_SIZE,
    },
  };
}

export function AuditLogPage() {
  const { api } = useSession();
  const location = useLocation();
  const applied = filtersFrom(location.query);
  const appliedKey = JSON.stringify(applied);
  const [form, setForm] = useDraft<Filters>(applied, appliedKey);
  const [announcement, setAnnouncement] = useState('');
  const currentKey = useCurrentKey();

  const list = usePagedList<AuditEntry>(
    async (cursor, limit) => {
      const request = apiQuery(applied);
      if ('error' in request) throw new ApiError(422, [request.error]);
      return api.get<Page<AuditEntry>>('/v1/audit_logs', { ...request.query, limit, starting_after: cursor });
    },
    appliedKey,
    { pageSize: PAGE_SIZE },
  );
  // Said when a first page arrives (older pages say so themselves).
  useEffect(() => {
    if (list.items) setAnnouncement(list.items.length === 0 ? 'No entries match.' : `${list.items.length} entries shown.`);
  }, [list.items === null]);

  // A refused filter is shown beside its field; anything else replaces the list.
  const fieldErrors = list.error?.errors.every((e) => e.meta?.param_name && e.meta.param_name in NO_FILTERS) ? list.error.errors : [];
  const errors = fieldErrorsOf(speakErrors(fieldErrors, FILTER_FIELDS));
  const filterField = (name: keyof Filters, label: string, hint?: string, type?: 'datetime-local') => (
    <TextField
      param={name}
      label={label}
      hint={hint}
      type={type}
      value={form[name]}
      onInput={(value) => setForm({ ...form, [name]: value })}
      errors={errors}
      code={type === undefined}
    />
  );

  return (
    <div class="audit-log">
      <p class="lede">
        Every change to settings and keys, and every SMS the engine handled, newest first. Entries are never changed or removed.
      </p>
      <nav class="quick-filters" aria-label="Quick filters">
        <ul>
          {QUICK_FILTERS.map((quick) => (
            <li key={quick.label}>
              <a
                href={auditLogUrl({ action: quick.action })}
                aria-current={auditLogUrl(applied) === auditLogUrl({ action: quick.action }) ? 'page' : undefined}
              >
                {quick.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <form
        class="filters"
        role="search"
        aria-label="Filter the audit log"
        onSubmit={(event) => {
          event.preventDefault();
          // The same filters again: load afresh (new entries may have arrived).
          if (auditLogUrl(form) === auditLogUrl(applied)) list.reload();
          else location.route(auditLogUrl(form));
        }}
      >
        <div class="filter-grid">
          {filterField('action', 'Action', 'Exact, or a prefix ending in * (sms.*)')}
          {filterField('target_type', 'Target type', 'instance, secret_key, sms_message…')}
          {filterField('target_id', 'Target id')}
          {filterField(
            'actor_id',
            'Actor id',
            currentKey ? `A secret key id (sk_01…); yours is ${currentKey.id}` : 'A secret key id (sk_01…)',
          )}
          {filterField('created_after', 'From', 'Your local time, inclusive', 'datetime-local')}
          {filterField('created_before', 'To', 'Your local time, exclusive', 'datetime-local')}
        </div>
        <div class="filter-actions">
          <button type="submit" class="button button-primary">
            Apply filters
          </button>
          <button type="button" class="button button-secondary" onClick={() => location.route(AUDIT_LOG_PATH)}>
            Clear filters
          </button>
        </div>
      </form>

      <p class="visually-hidden" role="status" aria-live="polite">
        {announcement}
      </p>
      {fieldErrors.length > 0 ? (
        <p class="state">Fix the filters above to see entries.</p>
      ) : list.error ? (
        <ErrorPanel title="The audit log could not be loaded" error={list.error} onRetry={list.reload} />
      ) : !list.items ? (
        <Loading what="audit log" />
      ) : list.items.length === 0 ? (
        <EmptyState title="No entries">
          <p>No audit entries match these filters.</p>
        </EmptyState>
      ) : (
        <>
          <AuditTable entries={list.items} currentKeyId={currentKey?.id ?? null} />
          <LoadMore
            list={list}
            label="Load older entries"
            end="End of the audit log for these filters."
            onLoaded={(count, shown) => setAnnouncement(`${count} older entries loaded; ${shown} shown.`)}
          />
        </>
      )}
    </div>
  );
}

/** A target as words: its type, then its id unless the id only repeats it (the instance's settings are "instance"). */
function targetName(target: { type: string; id: string }) {
  const type = target.type.replace(/_/g, ' ');
  return target.id === target.type ? (
    type
  ) : (
    <>
      {type} <code>{target.id}</code>
    </>
  );
}

/** `currentKeyId`: the signed-in key, whose entries say so. */
function auditColumns(currentKeyId: string | null): Column<AuditEntry>[] {
  return [
    { header: 'Time', cell: (entry) => <Time ms={entry.created_at} /> },
    { header: 'Action', cell: (entry) => <code>{entry.action}</code> },
    {
      header: 'Actor',
      cell: (entry) => (
        <>
          {entry.actor.type.replace(/_/g, ' ')}
          {entry.actor.id && (
            <>
              {' '}
              <code>{entry.actor.id}</code>
              {entry.actor.type === 'secret_key' && entry.actor.id === currentKeyId && ' (this key)'}
            </>
          )}
        </>
      ),
    },
    {
      header: 'Target',
      cell: (entry) =>
        entry.target ? (
          <a href={auditLogUrl({ target_type: entry.target.type, target_id: entry.target.id })} title="Show every entry for this target">
            {targetName(entry.target)}
          </a>
        ) : (
          '—'
        ),
    },
    { header: 'Details', cell: (entry) => <EntryData data={entry.data} /> },
  ];
}

function AuditTable({ entries, currentKeyId }: { entries: AuditEntry[]; currentKeyId: string | null }) {
  return (
    <DataTable
      caption="Audit log entries, newest first"
      columns={auditColumns(currentKeyId)}
      rows={entries}
      rowKey={(entry) => entry.id}
      keyAttribute="data-entry-id"
    />
  );
}

interface SettingsChange {
  path: string;
  old?: unknown;
  new?: unknown;
  change?: 'set' | 'cleared';
}

/** Settings changes as "path: old → new" (credentials only "set" / "cleared"); anything else as JSON. */
function EntryData({ data }: { data: Record<string, unknown> }) {
  const changes = Array.isArray(data.changes) ? (data.changes as SettingsChange[]) : null;
  const rest = changes ? Object.fromEntries(Object.entries(data).filter(([key]) => key !== 'changes')) : data;
  const hasRest = Object.keys(rest).length > 0;
  if (!changes?.length && !hasRest) return <span class="muted">—</span>;
  return (
    <div class="entry-data">
      {changes && changes.length > 0 && (
        <ul class="changes">
          {changes.map((change) => (
            <li key={change.path}>
              <code>{change.path}</code>:{' '}
              {change.change ? (
                <strong>{change.change}</strong>
              ) : (
                <>
                  <code>{JSON.stringify(change.old)}</code> → <code>{JSON.stringify(change.new)}</code>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
      {hasRest && <pre>{JSON.stringify(rest, null, 2)}</pre>}
    </div>
  );
}
