/** Number formatting, medians and the two table layouts (aligned text, Markdown) of the bench output. */

const GROUPED = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 1,234,567 */
export function int(value: number): string {
  return GROUPED.format(value);
}

/** Fixed digits; "—" for NaN and infinities (a figure that could not be measured). */
export function f(value: number, digits = 2): string {
  if (!Number.isFinite(value)) return '—';
  return value.toFixed(digits);
}

/** "12%" of a share; "—" when unknown. */
export function pct(share: number | null): string {
  return f(100 * (share ?? Number.NaN), 0);
}

/** Words joined into lines of at most `width` characters (a longer word stands alone). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Aligned columns: `leftAligned` columns padded at the end, the others (numbers) at the start. */
export function textTable(rows: readonly (readonly string[])[], leftAligned: ReadonlySet<number>): string {
  const columns = Math.max(0, ...rows.map((r) => r.length));
  const widths = Array.from({ length: columns }, (_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string =>
    r.map((cell, i) => (leftAligned.has(i) ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  return [line(rows[0] ?? []), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[], numeric: (i: number) => boolean): string {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (numeric(i) ? '---:' : '---')).join('|')}|`,
    ...rows.map((r) => `| ${r.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`),
  ].join('\n');
}
