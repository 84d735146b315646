/**
 * One webhook endpoint: its settings (change, enable / disable), a test event, secret rotation (the new secret
 * shown once), deletion, and its delivery log with every attempt and a retry. The log refreshes itself while the
 * tab is visible, so a test event's delivery is seen arriving.
 */
import { useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { asApiError, type ApiError } from '../api.js';
import type {
  DeliveryStatus,
  EventType,
  Page,
  WebhookAttempt,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookEndpointWithSecret,
} from '../api-types.js';
import { DataTable, type Column } from '../components/data-table.js';
import { ConfirmDialog } from '../components/dialog.js';
import { EnabledBadge, EndpointForm, EventsSummary } from '../components/endpoint-form.js';
import { LoadMore } from '../components/load-more.js';
import { OneTimeSecret } from '../components/one-time-secret.js';
import { EmptyState, ErrorPanel, Loading } from '../components/states.js';
import { Time } from '../components/time.js';
import { useLoaded, usePagedList, type PagedList } from '../hooks.js';
import { useSession } from '../session.js';
import { endpointDraftFrom, updateBody } from '../webhook-form.js';

const PAGE_SIZE = 25;
/** How often the delivery log refreshes while the tab is visible. */
const REFRESH_MS = 3000;

const STATUS_FILTERS: { label: string; status: DeliveryStatus | undefined }[] = [
  { label: 'All', status: undefined },
  { label: 'Pending', status: 'pending' },
  { label: 'Succeeded', status: 'succeeded' },
  { label: 'Failed', status: 'failed' },
];

const STATUS_NAMES: Record<DeliveryStatus, string> = { pending: 'Pending', succeeded: 'Succeeded', failed: 'Failed' };

type Dialog = { kind: 'rotate' | 'delete'; busy: boolean; error: ApiError | null };

interface EndpointViewProps {
  endpointId: string;
  catalogue: EventType[];
  listPath: string;
  onDeleted(endpoint: WebhookEndpoint): void;
}

export function EndpointView({ endpointId, catalogue, listPath, onDeleted }: EndpointViewProps) {
  const { api } = useSession();
  const path = `/v1/webhooks/endpoints/${encodeURIComponent(endpointId)}`;
  const loaded = useLoaded(() => api.get<WebhookEndpoint>(path), path);
  const endpoint = loaded.value;
  const setEndpoint = loaded.setValue;
  const [editing, setEditing] = useState(false);
  const [secret, setSecret] = useState<string | null>(null);
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [actionError, setActionError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  const editButton = useRef<HTMLButtonElement>(null);
  const rotateButton = useRef<HTMLButtonElement>(null);
  const { query } = useLocation();
  const status = STATUS_FILTERS.find((filter) => filter.status === query.status)?.status;
  const deliveries = usePagedList<WebhookDelivery>(
    (cursor, limit) => api.get<Page<WebhookDelivery>>(`${path}/deliveries`, { status, limit, starting_after: cursor }),
    status ?? 'all',
    { pageSize: PAGE_SIZE, refreshMs: REFRESH_MS },
  );

  if (loaded.error) {
    return loaded.error.code === 'resource_not_found' ? (
      <EmptyState title="No such endpoint">
        <p>
          There is no webhook endpoint <code>{endpointId}</code>: it may have been deleted. <a href={listPath}>See all endpoints</a>
        </p>
      </EmptyState>
    ) : (
      <ErrorPanel title="The webhook endpoint could not be loaded" error={loaded.error} onRetry={loaded.reload} />
    );
  }
  if (!endpoint) return <Loading what="the webhook endpoint" />;

  /** Runs one action on the endpoint; its failure is shown beside the actions. */
  const act = async (action: () => Promise<void>) => {
    setBusy(true);
    setNotice(null);
    setActionError(null);
    try {
      await action();
    } catch (error) {
      setActionError(asApiError(error));
    } finally {
      setBusy(false);
    }
  };

  const setEnabled = (enabled: boolean) =>
    act(async () => {
      setEndpoint(await api.patch<WebhookEndpoint>(path, { enabled }));
      setNotice(
        enabled
          ? 'Enabled: new events are delivered again, and waiting deliveries go out.'
          : 'Disabled: no new deliveries; pending ones wait until you enable it again.',
      );
    });

  const sendTestEvent = () =>
    act(async () => {
      await api.post<WebhookDelivery>(`${path}/send_test_event`);
      setNotice('A webhook.test event is on its way: its delivery is at the top of the log below.');
      await deliveries.refresh();
    });

  const confirm = async () => {
    if (!dialog) return;
    setDialog({ ...dialog, busy: true, error: null });
    try {
      if (dialog.kind === 'delete') {
        await api.delete(path);
        setDialog(null);
        onDeleted(endpoint);
        return;
      }
      // The secret goes to the one-time box only; what is kept of the endpoint never holds it.
      const { secret: rotated, ...rest }: WebhookEndpointWithSecret = await api.post<WebhookEndpointWithSecret>(`${path}/rotate_secret`);
      setEndpoint(rest);
      setDialog(null);
      setSecret(rotated);
    } catch (error) {
      setDialog({ ...dialog, busy: false, error: asApiError(error) });
    }
  };

  return (
    <div class="endpoint-view">
      <p>
        <a href={listPath}>← All endpoints</a>
      </p>
      <h2 class="endpoint-title" tabindex={-1} ref={heading}>
        <span class="code">{endpoint.url}</span> <EnabledBadge enabled={endpoint.enabled} />
      </h2>
      {endpoint.failing_since !== null && (
        <p class="hint" role="status">
          Every attempt has failed since <Time ms={endpoint.failing_since} />.{' '}
          {endpoint.enabled
            ? 'If it keeps failing, the endpoint is disabled (after 5 days by default).'
            : 'The endpoint was disabled; enable it once it answers again, and waiting deliveries go out.'}
        </p>
      )}

      {secret && (
        <OneTimeSecret
          title="New signing secret: store it now"
          label="Signing secret"
          secret={secret}
          onDismiss={() => {
            setSecret(null);
            requestAnimationFrame(() => rotateButton.current?.focus());
          }}
        >
          The previous secret keeps signing beside this one for 24 hours, so deploy this one to your receiver within that time. It is shown
          only this once.
        </OneTimeSecret>
      )}

      {editing ? (
        <EndpointForm
          title="Change the endpoint"
          submitLabel="Save endpoint"
          catalogue={catalogue}
          initial={endpointDraftFrom(endpoint)}
          submit={async (draft, order) => {
            const body = updateBody(endpoint, draft, order);
            if (Object.keys(body).length > 0) setEndpoint(await api.patch<WebhookEndpoint>(path, body));
            setEditing(false);
            setNotice(Object.keys(body).length > 0 ? 'Saved.' : 'Nothing to save: nothing has changed.');
            requestAnimationFrame(() => editButton.current?.focus());
          }}
          onCancel={() => {
            setEditing(false);
            requestAnimationFrame(() => editButton.current?.focus());
          }}
        />
      ) : (
        <dl class="facts">
          <dt>Description</dt>
          <dd>{endpoint.description ?? <span class="muted">None</span>}</dd>
          <dt>Events</dt>
          <dd>
            <EventsSummary eventTypes={endpoint.event_types} />
          </dd>
          <dt>Id</dt>
          <dd>
            <code>{endpoint.id}</code>
          </dd>
          <dt>Created</dt>
          <dd>
            <Time ms={endpoint.created_at} />
          </dd>
        </dl>
      )}

      <div class="endpoint-actions" role="group" aria-label="Endpoint actions">
        <button
          type="button"
          class="button button-primary"
          onClick={() => busy || sendTestEvent()}
          aria-disabled={busy}
          disabled={!endpoint.enabled}
        >
          Send a test event
        </button>
        <button type="button" class="button button-secondary" onClick={() => busy || setEnabled(!endpoint.enabled)} aria-disabled={busy}>
          {endpoint.enabled ? 'Disable' : 'Enable'}
        </button>
        {!editing && (
          <button type="button" class="button button-secondary" ref={editButton} onClick={() => setEditing(true)}>
            Change
          </button>
        )}
        <button
          type="button"
          class="button button-secondary"
          ref={rotateButton}
          onClick={() => setDialog({ kind: 'rotate', busy: false, error: null })}
        >
          Rotate secret
        </button>
        <button type="button" class="button button-danger" onClick={() => setDialog({ kind: 'delete', busy: false, error: null })}>
          Delete
        </button>
      </div>
      {!endpoint.enabled && <p class="hint">A disabled endpoint cannot be sent a test event: enable it first.</p>}
      <p class="save-state" role="status" aria-live="polite">
        {notice}
      </p>
      {actionError && <ErrorPanel title="That did not work" error={actionError} />}

      <DeliveryLog deliveries={deliveries} endpointId={endpoint.id} listPath={listPath} status={status} />

      {dialog?.kind === 'rotate' && (
        <ConfirmDialog
          title="Rotate the signing secret?"
          confirmLabel="Rotate"
          busy={dialog.busy}
          error={dialog.error}
          onConfirm={confirm}
          onCancel={() => setDialog(null)}
        >
          <p>A new secret is made and shown once. The current one keeps signing beside it for 24 hours, then stops.</p>
        </ConfirmDialog>
      )}
      {dialog?.kind === 'delete' && (
        <ConfirmDialog
          title="Delete this endpoint?"
          confirmLabel="Delete"
          busy={dialog.busy}
          error={dialog.error}
          onConfirm={confirm}
          onCancel={() => setDialog(null)}
          fallbackFocus={() => heading.current}
        >
          <p>
            <code>{endpoint.url}</code> stops receiving events at once. Its pending deliveries and its delivery log are deleted too.
          </p>
        </ConfirmDialog>
      )}
    </div>
  );
}

function DeliveryLog({
  deliveries,
  endpointId,
  listPath,
  status,
}: {
  deliveries: PagedList<WebhookDelivery>;
  endpointId: string;
  listPath: string;
  status: DeliveryStatus | undefined;
}) {
  const [announcement, setAnnouncement] = useState('');
  const filterUrl = (filter: DeliveryStatus | undefined) =>
    `${listPath}?endpoint=${encodeURIComponent(endpointId)}${filter ? `&status=${filter}` : ''}`;
  const { items } = deliveries;
  return (
    <section class="delivery-log" aria-labelledby="delivery-log-title">
      <h3 id="delivery-log-title">Deliveries</h3>
      <p class="hint">Newest first, each with its attempts. The log refreshes every few seconds while this tab is visible.</p>
      <nav class="quick-filters" aria-label="Filter deliveries">
        <ul>
          {STATUS_FILTERS.map((filter) => (
            <li key={filter.label}>
              <a href={filterUrl(filter.status)} aria-current={filter.status === status ? 'page' : undefined}>
                {filter.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <p class="visually-hidden" role="status" aria-live="polite">
        {announcement}
      </p>
      {deliveries.error && !items ? (
        <ErrorPanel title="The delivery log could not be loaded" error={deliveries.error} onRetry={deliveries.reload} />
      ) : !items ? (
        <Loading what="deliveries" />
      ) : items.length === 0 ? (
        <EmptyState title="No deliveries">
          <p>
            {status
              ? `No ${STATUS_NAMES[status].toLowerCase()} deliveries.`
              : 'Nothing has been sent to this endpoint yet. Send it a test event.'}
          </p>
        </EmptyState>
      ) : (
        <>
          {deliveries.error && (
            <p class="field-error">The log could not be refreshed ({deliveries.error.code}); it shows what was last loaded.</p>
          )}
          <ul class="deliveries plain">
            {items.map((delivery) => (
              <DeliveryItem
                key={delivery.id}
                delivery={delivery}
                onRetried={(answer) => {
                  deliveries.replace(answer);
                  setAnnouncement(`Retry of the ${answer.event_type} delivery sent.`);
                }}
              />
            ))}
          </ul>
          <LoadMore
            list={deliveries}
            label="Load older deliveries"
            onLoaded={(count) => setAnnouncement(`${count} older deliveries loaded.`)}
          />
        </>
      )}
    </section>
  );
}

function DeliveryItem({ delivery, onRetried }: { delivery: WebhookDelivery; onRetried(answer: WebhookDelivery): void }) {
  const { api } = useSession();
  const [retrying, setRetrying] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const retry = async () => {
    setRetrying(true);
    setError(null);
    try {
      onRetried(await api.post<WebhookDelivery>(`/v1/webhooks/deliveries/${encodeURIComponent(delivery.id)}/retry`));
    } catch (caught) {
      setError(asApiError(caught));
    } finally {
      setRetrying(false);
    }
  };
  const attempts = delivery.attempts.length;
  return (
    <li class="delivery" data-delivery={delivery.id} data-status={delivery.status}>
      <div class="delivery-head">
        <span class={`badge status-${delivery.status}`}>{STATUS_NAMES[delivery.status]}</span>
        <code class="delivery-type">{delivery.event_type}</code>
        <span class="muted">
          <Time ms={delivery.created_at} />
        </span>
        {delivery.status === 'pending' && delivery.next_attempt_at !== null && (
          <span class="muted">
            next attempt <Time ms={delivery.next_attempt_at} />
          </span>
        )}
        <button type="button" class="button button-small button-secondary" onClick={() => retrying || retry()} aria-disabled={retrying}>
          {delivery.status === 'pending' ? 'Retry now' : delivery.status === 'failed' ? 'Retry' : 'Send again'}
          <span class="visually-hidden"> the {delivery.event_type} delivery</span>
        </button>
      </div>
      {error && <ErrorPanel title="The retry was refused" error={error} />}
      <details class="attempts">
        <summary>
          {attempts === 1 ? '1 attempt' : `${attempts} attempts`}
          <span class="muted">
            {' '}
            · event <code>{delivery.event_id}</code>
          </span>
        </summary>
        {attempts === 0 ? (
          <p class="muted">No attempt yet.</p>
        ) : (
          <DataTable
            class="attempts-table"
            caption="Attempts of this delivery, oldest first"
            columns={ATTEMPT_COLUMNS}
            rows={delivery.attempts}
            rowKey={(attempt) => attempt.id}
            keyAttribute="data-attempt"
          />
        )}
      </details>
    </li>
  );
}

const ATTEMPT_COLUMNS: readonly Column<WebhookAttempt>[] = [
  {
    header: 'Time',
    cell: (attempt) => (
      <>
        <Time ms={attempt.attempted_at} />
        {attempt.trigger === 'manual' && <span class="muted"> (retry)</span>}
      </>
    ),
  },
  {
    header: 'Result',
    cell: (attempt) => (
      <>
        <span class={attempt.succeeded ? 'result-ok' : 'result-failed'}>
          {attempt.status_code !== null ? `HTTP ${attempt.status_code}` : 'No answer'}
        </span>
        {/* The error says more than the status only when there was no answer, or something beyond it went wrong. */}
        {attempt.error && attempt.error !== `answered ${attempt.status_code}` && <span class="muted"> · {attempt.error}</span>}
      </>
    ),
  },
  { header: 'Latency', cell: (attempt) => `${attempt.latency_ms} ms` },
  {
    header: 'Response',
    cell: (attempt) =>
      attempt.response_body === null || attempt.response_body === '' ? (
        <span class="muted">—</span>
      ) : (
        <>
          <pre class="response-body">{attempt.response_body}</pre>
          {attempt.response_body_truncated && <p class="muted">Truncated: only the start of the answer is kept.</p>}
        </>
      ),
  },
];
