/**
 * Small charts drawn as inline SVG (no chart library: the bundle stays small). Each chart is a figure whose
 * caption names it, whose SVG is one image with a short summary for screen readers, and which carries its
 * figures as a table behind a disclosure: the text alternative and the way to read exact values.
 */
import type { ComponentChildren } from 'preact';

export interface ChartSeries {
  name: string;
  /** One value per point of the x axis; null: no value there (a gap in a line, no bar). */
  values: (number | null)[];
}

interface ChartProps {
  /** Caption, and the table's caption. */
  title: string;
  /** A sentence saying what the chart shows overall, for those who cannot see it. */
  summary: string;
  /** Labels of the x axis points (bucket start times, as text). */
  labels: string[];
  series: ChartSeries[];
  format: (value: number) => string;
  /** Top of the y axis; default: the largest value. */
  max?: number;
}

/** The drawing's own units; it scales to the figure's width, so the text stays legible at phone width. */
const WIDTH = 480;
const HEIGHT = 220;
const PAD = { top: 12, right: 12, bottom: 28, left: 72 };
const PLOT_W = WIDTH - PAD.left - PAD.right;
const PLOT_H = HEIGHT - PAD.top - PAD.bottom;
/** Series colours (AA against white) and dash patterns, so that the lines differ without colour too. */
const STYLES = [
  { color: '#1d4ed8', dash: '' },
  { color: '#b42318', dash: '6 4' },
  { color: '#067647', dash: '2 3' },
  { color: '#6b21a8', dash: '10 3 2 3' },
];
const styleOf = (i: number) => STYLES[i % STYLES.length]!;

function scale(props: ChartProps) {
  const values = props.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const max = props.max ?? Math.max(1, ...values);
  const points = props.labels.length;
  const x = (i: number) => PAD.left + (points <= 1 ? PLOT_W / 2 : (i * PLOT_W) / (points - 1));
  const y = (value: number) => PAD.top + PLOT_H - (Math.min(value, max) / max) * PLOT_H;
  return { max, x, y };
}

function Frame({ props, children }: { props: ChartProps; children: ComponentChildren }) {
  const { max, y } = scale(props);
  const last = props.labels.length - 1;
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={`${props.title}. ${props.summary}`}>
        {[0, 0.5, 1].map((f) => (
          <g key={f}>
            <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(max * f)} y2={y(max * f)} class="chart-grid" />
            <text x={PAD.left - 6} y={y(max * f) + 4} text-anchor="end" class="chart-axis">
              {props.format(max * f)}
            </text>
          </g>
        ))}
        {children}
        {last >= 0 && (
          <>
            <text x={PAD.left} y={HEIGHT - 6} class="chart-axis">
              {props.labels[0]}
            </text>
            <text x={WIDTH - PAD.right} y={HEIGHT - 6} text-anchor="end" class="chart-axis">
              {props.labels[last]}
            </text>
          </>
        )}
      </svg>
      {props.series.length > 1 && (
        <ul class="chart-legend" aria-hidden="true">
          {props.series.map((s, i) => (
            <li key={s.name}>
              <svg width="28" height="10" viewBox="0 0 28 10" aria-hidden="true">
                <line x1="0" x2="28" y1="5" y2="5" stroke={styleOf(i).color} stroke-width="3" stroke-dasharray={styleOf(i).dash} />
              </svg>
              {s.name}
            </li>
          ))}
        </ul>
      )}
      <details class="chart-data">
        <summary>Show the figures</summary>
        <div class="table-scroll">
          <table class="data-table">
            <caption class="visually-hidden">{props.title}</caption>
            <thead>
              <tr>
                <th scope="col">From</th>
                {props.series.map((s) => (
                  <th scope="col" key={s.name}>
                    {s.name}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {props.labels.map((label, i) => (
                <tr key={label + i}>
                  <th scope="row">{label}</th>
                  {props.series.map((s) => {
                    const value = s.values[i];
                    return (
                      <td key={s.name} data-label={s.name}>
                        {value === null || value === undefined ? '–' : props.format(value)}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}

/** Lines over time; a null value breaks the line (a single point between gaps is drawn as a dot). */
export function LineChart(props: ChartProps) {
  const { x, y } = scale(props);
  return (
    <Frame props={props}>
      {props.series.map((s, i) => {
        const { color, dash } = styleOf(i);
        const runs: { i: number; v: number }[][] = [[]];
        for (const [index, v] of s.values.entries()) {
          if (v === null) runs.push([]);
          else runs[runs.length - 1]!.push({ i: index, v });
        }
        return (
          <g key={s.name}>
            {runs
              .filter((run) => run.length > 0)
              .map((run) =>
                run.length === 1 ? (
                  <circle key={run[0]!.i} cx={x(run[0]!.i)} cy={y(run[0]!.v)} r="3.5" fill={color} />
                ) : (
                  <polyline
                    key={run[0]!.i}
                    points={run.map((p) => `${x(p.i)},${y(p.v)}`).join(' ')}
                    fill="none"
                    stroke={color}
                    stroke-width="2.5"
                    stroke-dasharray={dash}
                    vector-effect="non-scaling-stroke"
                  />
                ),
              )}
          </g>
        );
      })}
    </Frame>
  );
}

/** Bars over time, the series side by side within each point. */
export function BarChart(props: ChartProps) {
  const { y } = scale(props);
  const slot = PLOT_W / Math.max(1, props.labels.length);
  const bar = (slot * 0.8) / Math.max(1, props.series.length);
  return (
    <Frame props={props}>
      {props.series.map((s, i) =>
        s.values.map((v, index) =>
          v === null || v === 0 ? null : (
            <rect
              key={`${s.name}-${index}`}
              x={PAD.left + index * slot + slot * 0.1 + i * bar}
              y={y(v)}
              width={bar}
              height={PAD.top + PLOT_H - y(v)}
              fill={styleOf(i).color}
            />
          ),
        ),
      )}
    </Frame>
  );
}
