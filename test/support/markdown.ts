/**
 * Just enough Markdown reading to hold the user docs to the code: headings
 * (with GitHub's anchors), sections, tables, code spans and relative links,
 * all outside fenced code blocks. Not a Markdown parser; the docs keep to it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Heading {
  readonly level: number;
  readonly text: string;
  /** GitHub's anchor for it, unique in the file (`-1`, `-2` for repeats). */
  readonly slug: string;
  /** Line index in the file. */
  readonly line: number;
}

export interface Section {
  readonly heading: Heading;
  /** From the heading to the next heading of the same or a higher level. */
  readonly body: string;
}

export interface Link {
  readonly target: string;
  readonly line: number;
}

export function readRepoFile(path: string): string {
  return readFileSync(join(REPO_ROOT, path), 'utf8');
}

/**
 * The file's lines with fenced code blocks and HTML comments blanked out
 * (line numbers stay): a note like `<!-- pending: ... -->` documents nothing.
 */
function proseLines(markdown: string): string[] {
  const uncommented = markdown.replace(/<!--[\s\S]*?-->/g, (comment) => comment.replace(/[^\n]/g, ''));
  let fenced = false;
  return uncommented.split('\n').map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return '';
    }
    return fenced ? '' : line;
  });
}

/** github-slugger: lower case, punctuation dropped, spaces to hyphens. */
export function githubSlug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

export function headings(markdown: string): Heading[] {
  const seen = new Map<string, number>();
  const result: Heading[] = [];
  proseLines(markdown).forEach((line, index) => {
    const match = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (!match) return;
    const text = match[2] ?? '';
    const base = githubSlug(text.replace(/`/g, '').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1'));
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.push({ level: (match[1] ?? '').length, text, slug: count === 0 ? base : `${base}-${count}`, line: index });
  });
  return result;
}

export function sections(markdown: string): Section[] {
  const lines = markdown.split('\n');
  const all = headings(markdown);
  return all.map((heading, i) => {
    const end = all.slice(i + 1).find((next) => next.level <= heading.level)?.line ?? lines.length;
    return { heading, body: lines.slice(heading.line, end).join('\n') };
  });
}

/** The contents of every `code span` outside fenced blocks. */
export function codeSpans(markdown: string): string[] {
  return proseLines(markdown).flatMap((line) => [...line.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? ''));
}

/** Table rows as cells (header and body rows; the --- separator left out). Escaped `\|` stays inside a cell. */
export function tableRows(markdown: string): string[][] {
  return proseLines(markdown)
    .filter((line) => /^\s*\|/.test(line) && !/^\s*\|[\s:|-]+\|\s*$/.test(line))
    .map((line) =>
      line
        .trim()
        .replace(/^\||\|$/g, '')
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim().replace(/\\\|/g, '|')),
    );
}

export interface Table {
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/** Tables with their header row, so a check can find a column by name. */
export function tables(markdown: string): Table[] {
  const result: Table[] = [];
  let current: string[][] = [];
  const flush = (): void => {
    const [header, ...rows] = current;
    if (header) result.push({ header, rows });
    current = [];
  };
  for (const line of proseLines(markdown)) {
    if (/^\s*\|/.test(line)) current.push(...tableRows(line));
    else if (current.length > 0) flush();
  }
  flush();
  return result;
}

/** Code spans of a cell: `a`, `b` -> [a, b]. */
export function cellCodes(cell: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? '');
}

/** Targets of inline links and images that are not URLs with a scheme (http:, mailto:, ...). */
export function relativeLinks(markdown: string): Link[] {
  const links: Link[] = [];
  proseLines(markdown).forEach((line, index) => {
    const prose = line.replace(/`[^`]*`/g, '');
    for (const match of prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = match[1] ?? '';
      if (!/^[a-z][a-z0-9+.-]*:/i.test(target)) links.push({ target, line: index + 1 });
    }
  });
  return links;
}
