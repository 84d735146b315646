/**
 * The documentation is navigable: a short README that leads to every page of docs/, and no relative link (to a
 * file or to a heading) that goes nowhere.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const README = path.join(root, 'README.md');

function markdownFiles(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.md')).map((f) => path.join(dir, f));
}

/** The text outside fenced code blocks and inline code, where a `[x](y)` is a link. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

interface Link {
  target: string;
  anchor: string | null;
}

/** Relative links of a page; links to other sites and mail addresses are not checked here. */
function relativeLinks(markdown: string): Link[] {
  const links: Link[] = [];
  for (const match of prose(markdown).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const href = match[1]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(href)) continue;
    const hash = href.indexOf('#');
    links.push(hash === -1 ? { target: href, anchor: null } : { target: href.slice(0, hash), anchor: href.slice(hash + 1) });
  }
  return links;
}

/** The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as hyphens, repeats numbered. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const withoutCode = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const match of withoutCode.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = match[1]!
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

describe('documentation', () => {
  it('the README is a short front door, under 15 KB', () => {
    expect(fs.statSync(README).size).toBeLessThan(15_000);
  });

  it('every page of docs/ is reachable from the README by following links', () => {
    const pages = markdownFiles(path.join(root, 'docs'));
    expect(pages.length).toBeGreaterThan(5);
    const reached = new Set<string>([README]);
    const queue = [README];
    while (queue.length) {
      const file = queue.shift()!;
      for (const { target } of relativeLinks(fs.readFileSync(file, 'utf8'))) {
        if (!target.endsWith('.md')) continue;
        const linked = path.resolve(path.dirname(file), decodeURI(target));
        if (reached.has(linked) || !fs.existsSync(linked)) continue;
        reached.add(linked);
        queue.push(linked);
      }
    }
    for (const page of pages) expect(reached, `${path.relative(root, page)} is linked from nowhere the README leads`).toContain(page);
  });

  it('every relative link of the README and docs/ leads to an existing file and heading', () => {
    const broken: string[] = [];
    for (const file of [README, ...markdownFiles(path.join(root, 'docs'))]) {
      for (const { target, anchor } of relativeLinks(fs.readFileSync(file, 'utf8'))) {
        const linked = target === '' ? file : path.resolve(path.dirname(file), decodeURI(target));
        const where = `${path.relative(root, file)} → ${target}${anchor === null ? '' : `#${anchor}`}`;
        if (!fs.existsSync(linked)) broken.push(`${where}: no such file`);
        else if (anchor !== null && (!linked.endsWith('.md') || !headingAnchors(fs.readFileSync(linked, 'utf8')).has(anchor)))
          broken.push(`${where}: no such heading`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('finds links and anchors as GitHub does (so the checks above can fail)', () => {
    expect(relativeLinks('See [a](docs/a.md#x-y), [site](https://example.com) and `[code](no.md)`.')).toEqual([
      { target: 'docs/a.md', anchor: 'x-y' },
    ]);
    expect([
      ...headingAnchors('# Phone auth\n## Test numbers and `test_mode`\n```\n# not a heading\n```\n## BAPI: users\n## BAPI: users'),
    ]).toEqual(['phone-auth', 'test-numbers-and-test_mode', 'bapi-users', 'bapi-users-1']);
  });
});
