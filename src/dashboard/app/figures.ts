/** How the delivery & cost page writes its figures; the Chromium tests compare the page with the BAPI through them. */

/** A rate between 0 and 1 as a percentage; a dash when there is none. */
export const percent = (rate: number | null) => (rate === null ? '–' : `${(rate * 100).toFixed(1)} %`);

/** A duration in the unit that reads best. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** A count on an axis: whole where it is whole (the middle of a scale up to 1 is 0.5). */
export const formatCount = (value: number) => (Number.isInteger(value) ? String(value) : value.toFixed(1));

/** A sentence's first letter in capitals. */
export const capitalised = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
