/**
 * No import circles in `src/`: a module that imports, directly or through others, one that imports it back cannot
 * be read, tested or moved on its own. The graph is read with the TypeScript compiler's own import scanner, so
 * `import type` counts too (a type-only circle still ties the two modules' designs together), and so do re-exports
 * and dynamic imports. Only relative imports are followed: packages cannot import `src/`.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const SRC = join(ROOT, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The file a relative specifier names (`./x.js` is `./x.ts` or `./x.tsx`, `./dir` its index), or null. */
function resolveImport(from: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  const base = resolve(dirname(from), specifier).replace(/\.(m|c)?jsx?$/, '');
  const candidates = [`${base}.ts`, `${base}.tsx`, join(base, 'index.ts'), join(base, 'index.tsx')];
  return candidates.find((path) => existsSync(path)) ?? null;
}

type ImportGraph = Map<string, string[]>;

function importGraph(root: string): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const file of sourceFiles(root)) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = importedFiles.map((imported) => resolveImport(file, imported.fileName)).filter((path): path is string => path !== null);
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Strongly connected components with more than one file, or one file importing itself (Tarjan's algorithm). */
function circles(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next);
    next++;
    stack.push(node);
    onStack.add(node);
    for (const target of graph.get(node) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node)!, index.get(target)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || (graph.get(node) ?? []).includes(node)) found.push(component.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

/** One path round a circle, for the failure message: `a → b → a`. */
function oneLoop(graph: ImportGraph, component: readonly string[]): string {
  const members = new Set(component);
  const start = component[0]!;
  const path = [start];
  const seen = new Set([start]);
  const walk = (node: string): boolean => {
    for (const target of graph.get(node) ?? []) {
      if (!members.has(target)) continue;
      if (target === start) {
        path.push(start);
        return true;
      }
      if (seen.has(target)) continue;
      seen.add(target);
      path.push(target);
      if (walk(target)) return true;
      path.pop();
    }
    return false;
  };
  walk(start);
  return path.map((file) => relative(ROOT, file)).join(' → ');
}

describe('import circles in src/', () => {
  const graph = importGraph(SRC);
  const found = circles(graph).map((component) => ({
    files: component.map((file) => relative(ROOT, file)),
    loop: oneLoop(graph, component),
  }));

  it('reads the whole tree (the graph is not empty)', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get(join(SRC, 'server.ts'))).toContain(join(SRC, 'services.ts'));
  });

  it('has no circle', () => {
    const loops = found.map((circle) => `${circle.files.length} files: ${circle.loop}`);
    expect(loops, 'import circles (move what both sides need into a module below them)').toEqual([]);
  });
});

/**
 * The domains in layers: between the folders of `src/` (a file at the top of `src/` stands for itself), imports run
 * one way. A lower layer may still name a closed set a higher domain defines, from a leaf module that imports
 * nothing back: the store's schema types its status columns with the SMS statuses, the audit log's actions come
 * from the event catalogue, and the settings name the SMS templates. Those three ties are the only exceptions.
 */
const CLOSED_SET_TIES = [
  ['src/store/schema.ts', 'src/sms/statuses.ts'],
  ['src/audit/audit-log.ts', 'src/webhooks/catalogue.ts'],
  ['src/instance/settings.ts', 'src/sms/templates/catalogue.ts'],
] as const;

/** The folder (or top-level file) of `src/` a file belongs to. */
const layerOf = (file: string) => relative(SRC, file).split('/')[0]!;

function layerGraph(graph: ImportGraph): ImportGraph {
  const ties = new Set(CLOSED_SET_TIES.map(([from, to]) => `${join(ROOT, from)}>${join(ROOT, to)}`));
  const layers: ImportGraph = new Map();
  for (const [file, targets] of graph) {
    const from = layerOf(file);
    const next = new Set(layers.get(from) ?? []);
    for (const target of targets) if (layerOf(target) !== from && !ties.has(`${file}>${target}`)) next.add(layerOf(target));
    layers.set(from, [...next]);
  }
  return layers;
}

describe('layers of src/', () => {
  const graph = importGraph(SRC);

  it('has no circle between its folders, but for the closed sets named', () => {
    const loops = circles(layerGraph(graph)).map((component) => component.join(' ↔ '));
    expect(loops, 'folders importing each other (move what both need into the lower one, or into a leaf)').toEqual([]);
  });

  it('names only ties that exist, each from a leaf that imports nothing of the layer below it', () => {
    for (const [from, to] of CLOSED_SET_TIES) {
      expect(graph.get(join(ROOT, from)), `${from} imports ${to}`).toContain(join(ROOT, to));
      const imports = (graph.get(join(ROOT, to)) ?? []).map(layerOf);
      expect(imports, `${to} is a leaf of its layer`).not.toContain(layerOf(join(ROOT, from)));
    }
  });
});

describe('the circle finder', () => {
  const graph = (edges: Record<string, string[]>): ImportGraph => new Map(Object.entries(edges));

  it('finds a circle through several files, a file importing itself, and nothing in a tree', () => {
    expect(circles(graph({ a: ['b'], b: ['c'], c: ['a'], d: ['a'] }))).toEqual([['a', 'b', 'c']]);
    expect(circles(graph({ a: ['a'], b: ['a'] }))).toEqual([['a']]);
    expect(circles(graph({ a: ['b', 'c'], b: ['c'], c: [] }))).toEqual([]);
  });
});
