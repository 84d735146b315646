/**
 * Configure → Webhooks over `/v1/webhooks/…`: the endpoints, a form to add one (its signing secret is shown once,
 * then dropped), and an endpoint's own view (`?endpoint=<id>`, in webhook-endpoint.tsx) with its deliveries.
 */
import { useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import type { EventType, Page, WebhookEndpoint, WebhookEndpointWithSecret } from '../api-types.js';
import { DataTable, type Column } from '../components/data-table.js';
import { EnabledBadge, EndpointForm, EventsSummary } from '../components/endpoint-form.js';
import { LoadMore } from '../components/load-more.js';
import { OneTimeSecret } from '../components/one-time-secret.js';
import { EmptyState, ErrorPanel, Loading } from '../components/states.js';
import { Time } from '../components/time.js';
import { useLoaded, usePagedList } from '../hooks.js';
import { useSession } from '../session.js';
import { NEW_ENDPOINT, createBody } from '../webhook-form.js';
import { EndpointView } from './webhook-endpoint.js';

export const WEBHOOKS_PATH = '/dashboard/configure/webhooks';
const PAGE_SIZE = 25;

export const endpointUrl = (id: string) => `${WEBHOOKS_PATH}?endpoint=${encodeURIComponent(id)}`;

const ENDPOINT_COLUMNS: readonly Column<WebhookEndpoint>[] = [
  {
    header: 'URL',
    cell: (endpoint) => (
      <>
        <a href={endpointUrl(endpoint.id)} class="code">
          {endpoint.url}
        </a>
        {endpoint.description && <p class="muted endpoint-description">{endpoint.description}</p>}
      </>
    ),
  },
  { header: 'Events', cell: (endpoint) => <EventsSummary eventTypes={endpoint.event_types} /> },
  { header: 'State', cell: (endpoint) => <EnabledBadge enabled={endpoint.enabled} /> },
  { header: 'Created', cell: (endpoint) => <Time ms={endpoint.created_at} /> },
];

export function WebhooksPage() {
  const { api } = useSession();
  const location = useLocation();
  const endpointId = location.query.endpoint;
  const catalogue = useLoaded(() => api.get<{ data: EventType[] }>('/v1/webhooks/event_types').then((answer) => answer.data), '');
  // Said once on the list after an endpoint's view went away (it was deleted).
  const [notice, setNotice] = useState<string | null>(null);

  if (catalogue.error)
    return <ErrorPanel title="The webhook event types could not be loaded" error={catalogue.error} onRetry={catalogue.reload} />;
  if (!catalogue.value) return <Loading what="webhooks" />;
  if (endpointId !== undefined) {
    return (
      <EndpointView
        key={endpointId}
        endpointId={endpointId}
        catalogue={catalogue.value}
        listPath={WEBHOOKS_PATH}
        onDeleted={(endpoint) => {
          setNotice(`The endpoint ${endpoint.url} was deleted, with its delivery log.`);
          location.route(WEBHOOKS_PATH);
        }}
      />
    );
  }
  return <EndpointList catalogue={catalogue.value} notice={notice} />;
}

function EndpointList({ catalogue, notice }: { catalogue: EventType[]; notice: string | null }) {
  const { api } = useSession();
  const list = usePagedList<WebhookEndpoint>(
    (cursor, limit) => api.get<Page<WebhookEndpoint>>('/v1/webhooks/endpoints', { limit, starting_after: cursor }),
    '',
    {
      pageSize: PAGE_SIZE,
    },
  );
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<WebhookEndpointWithSecret | null>(null);
  const addButton = useRef<HTMLButtonElement>(null);

  const dismissSecret = () => {
    const id = created?.id;
    setCreated(null);
    // Onwards to the endpoint just made.
    requestAnimationFrame(() => document.querySelector<HTMLElement>(`[data-endpoint="${id}"] a`)?.focus());
  };

  return (
    <div class="webhooks">
      <p class="lede">
        Endpoints receive signed <code>POST</code>s when something happens: messages queued, sent, delivered or failed; users and
        challenges. Each delivery is retried on a schedule and logged.
      </p>
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      {created && (
        <OneTimeSecret
          title="Endpoint created: store its signing secret now"
          label="Signing secret"
          secret={created.secret}
          onDismiss={dismissSecret}
        >
          Your receiver verifies every delivery with this secret (see "Verifying a delivery" in the README). It is shown only this once:
          once you hide it, neither this page nor the API can show it again. If it is lost, rotate it.
        </OneTimeSecret>
      )}
      {creating ? (
        <EndpointForm
          title="Add an endpoint"
          submitLabel="Add endpoint"
          catalogue={catalogue}
          initial={NEW_ENDPOINT}
          showEnabled
          submit={async (draft, order) => {
            const endpoint = await api.post<WebhookEndpointWithSecret>('/v1/webhooks/endpoints', createBody(draft, order));
            setCreating(false);
            setCreated(endpoint);
            await list.refresh();
          }}
          onCancel={() => {
            setCreating(false);
            requestAnimationFrame(() => addButton.current?.focus());
          }}
        />
      ) : (
        <p>
          <button type="button" class="button button-primary" ref={addButton} onClick={() => setCreating(true)}>
            Add an endpoint
          </button>
        </p>
      )}

      {list.error && !list.items ? (
        <ErrorPanel title="The webhook endpoints could not be loaded" error={list.error} onRetry={list.reload} />
      ) : !list.items ? (
        <Loading what="webhook endpoints" />
      ) : list.items.length === 0 ? (
        <EmptyState title="No endpoints yet">
          <p>Add one to receive events. For a first try, point it at a request bin and send it a test event.</p>
        </EmptyState>
      ) : (
        <>
          <DataTable
            class="endpoints-table"
            caption="Webhook endpoints, newest first"
            columns={ENDPOINT_COLUMNS}
            rows={list.items}
            rowKey={(endpoint) => endpoint.id}
            keyAttribute="data-endpoint"
          />
          <LoadMore list={list} label="Load more endpoints" />
        </>
      )}
    </div>
  );
}
