/**
 * Activity → Delivery & cost over `GET /v1/sms/delivery_stats`: for the last hour, day or week (kept in the
 * address), how many messages the carriers delivered and how fast, by driver and country, the failovers, the
 * carriers' most frequent error codes with their meaning, and what the carriers charged. While test mode is
 * enabled, a switch (kept in the address too) shows the same figures for the simulated messages instead
 * (docs/sms.md, "Simulated outcomes"), marked as simulated.
 */
import { useLocation } from 'preact-iso';
import type { DeliveryFigures, DeliveryStats, DeliveryWindow, InstanceSettings } from '../api-types.js';
import { BarChart, LineChart } from '../components/charts.js';
import { DataTable, type Column } from '../components/data-table.js';
import { EmptyState, ErrorPanel, Loading } from '../components/states.js';
import { FAILOVER_REASON_TEXT } from '../components/sms-status.js';
import { capitalised, formatCount, formatDuration, percent } from '../figures.js';
import { useLoaded } from '../hooks.js';
import { useSession } from '../session.js';

export const DELIVERY_PATH = '/dashboard/activity/delivery';

/** The page for a window, of the simulated messages or of the real ones. */
const deliveryUrl = (window: DeliveryWindow, simulated: boolean) =>
  `${DELIVERY_PATH}?window=${window}${simulated ? '&simulated=true' : ''}`;

const WINDOWS: { id: DeliveryWindow; name: string }[] = [
  { id: 'hour', name: 'Last hour' },
  { id: 'day', name: 'Last day' },
  { id: 'week', name: 'Last week' },
];

const DRIVER_NAMES: Record<string, string> = { twilio: 'Twilio', vonage: 'Vonage' };
const driverName = (driver: string) => DRIVER_NAMES[driver] ?? driver;

const countryNames = new Intl.DisplayNames(undefined, { type: 'region' });
function countryName(country: string | null): string {
  if (country === null) return 'Unknown';
  try {
    return countryNames.of(country) ?? country;
  } catch {
    return country;
  }
}

const timeOfDay = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayAndTime = new Intl.DateTimeFormat(undefined, { weekday: 'short', hour: '2-digit', minute: '2-digit' });

export function DeliveryPage() {
  const { api } = useSession();
  const location = useLocation();
  const window: DeliveryWindow = WINDOWS.some((w) => w.id === location.query.window) ? (location.query.window as DeliveryWindow) : 'day';
  const simulated = location.query.simulated === 'true';
  const stats = useLoaded(
    () => api.get<DeliveryStats>('/v1/sms/delivery_stats', { window, ...(simulated ? { simulated: 'true' } : {}) }),
    `${window}|${simulated}`,
  );
  const settings = useLoaded(() => api.get<InstanceSettings>('/v1/instance'), 'instance');
  // Offered while test mode is on, and kept while the simulated figures are shown so they can be left.
  const offersSimulated = settings.value?.test_mode === 'enabled' || simulated;

  return (
    <div class="delivery-stats">
      <p class="lede">
        What the carriers did with the messages the server sent: delivered or not, how fast, which errors they answered and what they
        charged. {simulated ? 'Only simulated messages are counted.' : 'Test numbers are left out.'}
      </p>
      {offersSimulated && (
        <div class="checkbox simulated-switch">
          <input
            type="checkbox"
            id="delivery-simulated"
            aria-describedby="delivery-simulated-hint"
            checked={simulated}
            onChange={(event) => location.route(deliveryUrl(window, event.currentTarget.checked))}
          />
          <label for="delivery-simulated">Simulated messages (test mode)</label>
          <p class="hint" id="delivery-simulated-hint">
            Messages to +1 555 555-0190 … 0199 while test mode is enabled: the simulated carrier plays each outcome, nothing is sent and
            nothing is charged.
          </p>
        </div>
      )}
      {simulated && (
        <p class="warning simulated-note" data-simulated-note>
          <strong>Simulated figures.</strong> These are the outcomes the simulated carrier played for the test range, not deliveries by a
          real carrier.
        </p>
      )}
      <nav class="window-switcher" aria-label="Time window">
        {WINDOWS.map((w) => (
          <a
            key={w.id}
            class="button button-secondary"
            href={deliveryUrl(w.id, simulated)}
            aria-current={w.id === window ? 'page' : undefined}
          >
            {w.name}
          </a>
        ))}
        <button type="button" class="button button-secondary" onClick={stats.reload}>
          Refresh
        </button>
      </nav>
      {stats.error ? (
        <ErrorPanel title="The delivery figures could not be loaded" error={stats.error} onRetry={stats.reload} />
      ) : !stats.value || stats.value.window !== window || stats.value.simulated !== simulated ? (
        <Loading what="delivery figures" />
      ) : stats.value.totals.messages === 0 ? (
        <EmptyState title="No messages in this window">
          <p>
            {simulated ? 'No simulated message was sent' : 'Nothing was sent through a carrier'} in the{' '}
            {WINDOWS.find((w) => w.id === window)!.name.toLowerCase()}.
          </p>
        </EmptyState>
      ) : (
        <Figures stats={stats.value} />
      )}
    </div>
  );
}

function Figures({ stats }: { stats: DeliveryStats }) {
  const format = stats.window === 'week' ? dayAndTime : timeOfDay;
  const labels = stats.series[0]?.buckets.map((b) => format.format(b.start)) ?? [];
  const perDriver = (value: (f: DeliveryFigures) => number | null) =>
    stats.series.map((s) => ({ name: driverName(s.driver), values: s.buckets.map(value) }));
  const failovers = stats.series[0]?.buckets.map((_, i) => stats.series.reduce((sum, s) => sum + s.buckets[i]!.failovers, 0)) ?? [];
  const { totals } = stats;

  return (
    <>
      <section aria-labelledby="delivery-summary">
        <h2 id="delivery-summary">Summary</h2>
        <dl class="stat-cards">
          <div>
            <dt>Messages</dt>
            <dd data-stat="messages">{totals.messages}</dd>
          </div>
          <div>
            <dt>Delivery rate</dt>
            <dd data-stat="delivery_rate">{percent(totals.delivery_rate)}</dd>
          </div>
          <div>
            <dt>Median time to delivery</dt>
            <dd data-stat="median">{totals.time_to_delivery ? formatDuration(totals.time_to_delivery.median_ms) : '–'}</dd>
          </div>
          <div>
            <dt>Failovers</dt>
            <dd data-stat="failovers">{totals.failovers}</dd>
          </div>
          <div>
            <dt>Cost</dt>
            <dd data-stat="cost">
              {stats.cost_totals.length === 0 ? 'Not reported' : stats.cost_totals.map((c) => `${c.amount} ${c.currency}`).join(', ')}
            </dd>
          </div>
        </dl>
      </section>

      <section aria-labelledby="delivery-charts" class="charts">
        <h2 id="delivery-charts">Over time</h2>
        <LineChart
          title="Delivery rate by driver"
          summary={stats.by_driver.map((d) => `${driverName(d.driver)}: ${percent(d.delivery_rate)} overall`).join('; ')}
          labels={labels}
          series={perDriver((f) => f.delivery_rate)}
          format={(v) => `${Math.round(v * 100)} %`}
          max={1}
        />
        <LineChart
          title="Median time to delivery by driver"
          summary={stats.by_driver
            .map(
              (d) => `${driverName(d.driver)}: ${d.time_to_delivery ? formatDuration(d.time_to_delivery.median_ms) : 'nothing delivered'}`,
            )
            .join('; ')}
          labels={labels}
          series={perDriver((f) => f.time_to_delivery?.median_ms ?? null)}
          format={formatDuration}
        />
        <BarChart
          title="Failovers"
          summary={`${totals.failovers} messages moved to another driver`}
          labels={labels}
          series={[{ name: 'Failovers', values: failovers }]}
          format={formatCount}
        />
      </section>

      <section aria-labelledby="delivery-failovers">
        <h2 id="delivery-failovers">Failovers</h2>
        {stats.failover_reasons.length === 0 ? (
          <p>No message moved to a failover driver.</p>
        ) : (
          <div class="table-scroll">
            <DataTable
              class="failovers-table"
              caption="Messages that moved to a failover driver, and why"
              columns={FAILOVER_COLUMNS}
              rows={stats.failover_reasons}
              rowKey={(f) => `${f.from}-${f.to}-${f.reason}`}
              keyAttribute="data-failover"
            />
          </div>
        )}
      </section>

      <section aria-labelledby="delivery-drivers">
        <h2 id="delivery-drivers">By driver</h2>
        <FiguresTable
          caption="Delivery by driver"
          label="Driver"
          rows={stats.by_driver.map((d) => ({ key: d.driver, name: driverName(d.driver), figures: d }))}
        />
      </section>

      <section aria-labelledby="delivery-countries">
        <h2 id="delivery-countries">By country</h2>
        <FiguresTable
          caption="Delivery by destination country"
          label="Country"
          rows={stats.by_country.map((c) => ({ key: c.country ?? '', name: countryName(c.country), figures: c }))}
        />
      </section>

      <section aria-labelledby="delivery-errors">
        <h2 id="delivery-errors">Carrier error codes</h2>
        {stats.error_codes.length === 0 ? (
          <p>No carrier reported an error.</p>
        ) : (
          <div class="table-scroll">
            <DataTable
              class="error-codes-table"
              caption="The carriers' most frequent error codes"
              columns={ERROR_CODE_COLUMNS}
              rows={stats.error_codes}
              rowKey={(e) => `${e.driver}-${e.phase}-${e.code}`}
              keyAttribute="data-error-code"
            />
          </div>
        )}
      </section>

      <section aria-labelledby="delivery-cost">
        <h2 id="delivery-cost">Cost</h2>
        {stats.costs.length === 0 ? (
          <p>
            No carrier reported a price. Vonage prices each message in its answer; Twilio's price is known when the server asks for a
            message.
          </p>
        ) : (
          <div class="table-scroll">
            <DataTable
              class="costs-table"
              caption="What the carriers charged, by driver and country"
              columns={COST_COLUMNS}
              rows={stats.costs}
              rowKey={(c) => `${c.driver}-${c.country}-${c.currency}`}
              keyAttribute="data-cost"
            />
          </div>
        )}
      </section>
    </>
  );
}

type FiguresRow = { key: string; name: string; figures: DeliveryFigures };

/** The figures of one driver or country, under `label` (Driver, Country). */
const figuresColumns = (label: string): Column<FiguresRow>[] => [
  { header: label, cell: (row) => row.name },
  { header: 'Messages', cell: (row) => row.figures.messages },
  { header: 'Delivered', cell: (row) => row.figures.delivered },
  { header: 'Undelivered', cell: (row) => row.figures.undelivered },
  { header: 'Failed', cell: (row) => row.figures.failed },
  { header: 'Delivery rate', cell: (row) => percent(row.figures.delivery_rate) },
  {
    header: 'Time to delivery (median / p90)',
    cell: ({ figures: { time_to_delivery: t } }) => (t ? `${formatDuration(t.median_ms)} / ${formatDuration(t.p90_ms)}` : '–'),
  },
  { header: 'Failovers', cell: (row) => row.figures.failovers },
];

function FiguresTable({ caption, label, rows }: { caption: string; label: string; rows: FiguresRow[] }) {
  return (
    <div class="table-scroll">
      <DataTable
        class="figures-table"
        caption={caption}
        columns={figuresColumns(label)}
        rows={rows}
        rowKey={(row) => row.key}
        keyAttribute="data-key"
      />
    </div>
  );
}

const FAILOVER_COLUMNS: readonly Column<DeliveryStats['failover_reasons'][number]>[] = [
  { header: 'From', cell: (f) => driverName(f.from) },
  { header: 'To', cell: (f) => driverName(f.to) },
  { header: 'Why', cell: (f) => capitalised(FAILOVER_REASON_TEXT[f.reason]) },
  { header: 'Messages', cell: (f) => f.count },
];

const ERROR_CODE_COLUMNS: readonly Column<DeliveryStats['error_codes'][number]>[] = [
  { header: 'Driver', cell: (e) => driverName(e.driver) },
  { header: 'Code', cell: (e) => <code>{e.code}</code> },
  { header: 'Meaning', cell: (e) => e.meaning },
  { header: 'Reported in', cell: (e) => (e.phase === 'send' ? 'Answer to the send' : 'Delivery report') },
  { header: 'Messages', cell: (e) => e.count },
];

const COST_COLUMNS: readonly Column<DeliveryStats['costs'][number]>[] = [
  { header: 'Driver', cell: (c) => driverName(c.driver) },
  { header: 'Country', cell: (c) => countryName(c.country) },
  { header: 'Amount', cell: (c) => `${c.amount} ${c.currency}` },
  { header: 'Priced attempts', cell: (c) => c.attempts },
];
