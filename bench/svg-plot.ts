/**
 * A small hand-rolled SVG line chart (no dependencies): log2 x axis
 * (concurrency), log10 y axis (seconds), one polyline per series.
 */
import { wrap } from './format.js';

export interface Series {
  readonly label: string;
  readonly color: string;
  readonly dashed?: boolean;
  readonly markers?: boolean;
  readonly points: readonly { readonly x: number; readonly y: number }[];
}

export interface ChartSpec {
  readonly title: string;
  readonly subtitle: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** Extra lines of text under the chart. */
  readonly notes?: readonly string[];
}

const W = 760;
const H = 480;
const M = { left: 78, right: 220, top: 64, bottom: 64 };

function esc(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

function fmt(value: number): string {
  if (value >= 10) return value.toFixed(0);
  if (value >= 1) return value.toFixed(value % 1 === 0 ? 0 : 1);
  return String(Number(value.toPrecision(2)));
}

export function lineChartSvg(spec: ChartSpec): string {
  const all = spec.series.flatMap((s) => s.points).filter((p) => p.x > 0 && p.y > 0);
  const xs = all.map((p) => p.x);
  const ys = all.map((p) => p.y);
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  // y: whole decades around the data, with 1-2-5 ticks.
  const yMin = 10 ** Math.floor(Math.log10(Math.min(...ys) * 0.9));
  const yMax = 10 ** Math.ceil(Math.log10(Math.max(...ys) * 1.1));
  const notes = (spec.notes ?? []).flatMap((note) => wrap(note, 104));
  const height = H + notes.length * 16;
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const px = (x: number): number =>
    M.left + (xMax === xMin ? plotW / 2 : ((Math.log2(x) - Math.log2(xMin)) / (Math.log2(xMax) - Math.log2(xMin))) * plotW);
  const py = (y: number): number =>
    M.top + plotH - ((Math.log10(y) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * plotH;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" ` +
      `font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${height}" fill="white"/>`,
    `<text x="${M.left}" y="26" font-size="16" font-weight="bold">${esc(spec.title)}</text>`,
    `<text x="${M.left}" y="46" fill="#555">${esc(spec.subtitle)}</text>`,
  );
  // Grid and y ticks (1, 2, 5 per decade).
  for (let decade = yMin; decade < yMax * 1.0001; decade *= 10) {
    for (const m of [1, 2, 5]) {
      const v = decade * m;
      if (v < yMin * 0.9999 || v > yMax * 1.0001) continue;
      const y = py(v).toFixed(1);
      out.push(
        `<line x1="${M.left}" y1="${y}" x2="${M.left + plotW}" y2="${y}" stroke="${m === 1 ? '#ccc' : '#eee'}"/>`,
        `<text x="${M.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${fmt(v)}</text>`,
      );
    }
  }
  const xTicks = [...new Set(xs)].sort((a, b) => a - b);
  for (const v of xTicks) {
    const x = px(v).toFixed(1);
    out.push(
      `<line x1="${x}" y1="${M.top}" x2="${x}" y2="${M.top + plotH}" stroke="#eee"/>`,
      `<text x="${x}" y="${M.top + plotH + 18}" text-anchor="middle">${fmt(v)}</text>`,
    );
  }
  out.push(
    `<rect x="${M.left}" y="${M.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`,
    `<text x="${M.left + plotW / 2}" y="${M.top + plotH + 42}" text-anchor="middle">${esc(spec.xLabel)}</text>`,
    `<text transform="translate(22 ${M.top + plotH / 2}) rotate(-90)" text-anchor="middle">${esc(spec.yLabel)}</text>`,
  );
  spec.series.forEach((s, i) => {
    const pts = s.points.filter((p) => p.x > 0 && p.y > 0);
    const d = pts.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ');
    out.push(
      `<polyline points="${d}" fill="none" stroke="${s.color}" stroke-width="${s.markers ? 2.5 : 1.8}"` +
        `${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    if (s.markers) {
      for (const p of pts) {
        const x = px(p.x);
        const y = py(p.y);
        out.push(
          `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="4" fill="${s.color}"/>`,
          `<text x="${(x + 7).toFixed(1)}" y="${(y - 7).toFixed(1)}" fill="${s.color}" font-size="11">${fmt(p.y)} s</text>`,
        );
      }
    }
    const ly = M.top + 10 + i * 22;
    const lx = M.left + plotW + 16;
    out.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 28}" y2="${ly}" stroke="${s.color}" stroke-width="2.5"` +
        `${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      `<text x="${lx + 34}" y="${ly}" dominant-baseline="middle">${esc(s.label)}</text>`,
    );
  });
  notes.forEach((note, i) => {
    out.push(`<text x="${M.left}" y="${H + 4 + i * 16}" fill="#555" font-size="11">${esc(note)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
