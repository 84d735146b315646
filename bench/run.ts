/**
 * `npm run bench [section…]`: runs every section in bench/sections (or the named ones) and prints one table.
 * A section exports `title` and `run()`, which returns rows of figures; it starts and stops what it measures.
 * Figures go to stdout and to bench/results/latest.json; docs/benchmarks.md shows the latest run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BenchRow {
  /** What was measured, e.g. "sign-up code requests (SQLite)". */
  name: string;
  /** Figures by label, e.g. { "req/s": 5400, "p50 ms": 3.1, "p99 ms": 9.8 }. */
  figures: Record<string, number | string>;
}

export interface BenchSection {
  title: string;
  run(): Promise<BenchRow[]>;
}

const here = path.dirname(fileURLToPath(import.meta.url));

async function main() {
  const wanted = process.argv.slice(2);
  const files = fs
    .readdirSync(path.join(here, 'sections'))
    .filter((f) => f.endsWith('.ts'))
    .filter((f) => wanted.length === 0 || wanted.includes(f.replace(/\.ts$/, '')))
    .sort();
  if (files.length === 0) throw new Error(`no bench section matches ${wanted.join(', ')}`);
  const results: { section: string; rows: BenchRow[] }[] = [];
  for (const file of files) {
    const section = (await import(path.join(here, 'sections', file))) as BenchSection;
    process.stdout.write(`\n## ${section.title}\n`);
    const rows = await section.run();
    for (const row of rows) {
      const figures = Object.entries(row.figures).map(([k, v]) => `${k}: ${typeof v === 'number' ? Number(v.toFixed(2)) : v}`);
      process.stdout.write(`- ${row.name} — ${figures.join(', ')}\n`);
    }
    results.push({ section: section.title, rows });
  }
  fs.mkdirSync(path.join(here, 'results'), { recursive: true });
  fs.writeFileSync(path.join(here, 'results', 'latest.json'), `${JSON.stringify({ at: new Date().toISOString(), results }, null, 2)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
