/**
 * How long finished tasks took, per type: a box (25th to 75th percentile)
 * with the median, a tick at the 95th percentile and a whisker from the
 * shortest to the longest, on a logarithmic axis (seconds to days).
 */
import type { DurationStats, ReportData } from '../../warehouse/report-data/model.js';
import { count, duration, label as oneLine, roundDuration } from './format.js';
import { h, type Markup } from './markup.js';
import { bar, chart, CHART_WIDTH, label, line, logarithmic, xGrid } from './svg.js';
import { data as isolated, numbers, table } from './tables.js';

const ROW = 26;
const LABEL_WIDTH = 200;
const AXIS_SECONDS = [1, 10, 60, 600, 3600, 6 * 3600, 86_400, 7 * 86_400, 30 * 86_400];

function describe(s: DurationStats): string {
  return `${s.taskType}: ${count(s.tasks)} tasks, median ${duration(s.p50)}, middle half ${duration(s.p25)} to ${duration(s.p75)}, 95th percentile ${duration(s.p95)}, longest ${duration(s.max)}`;
}

export function durationChart(data: ReportData): Markup {
  const stats = data.durations;
  if (stats.length === 0) return h('p', { class: 'empty' }, 'No task with a known duration finished in this window.');
  const lo = Math.max(1, Math.min(...stats.map((s) => s.min)));
  const hi = Math.max(lo * 10, ...stats.map((s) => s.max));
  const ticks = AXIS_SECONDS.filter((t) => t >= lo / 10 && t <= hi * 10);
  const min = Math.min(lo, ticks[0] ?? lo);
  const max = Math.max(hi, ticks[ticks.length - 1] ?? hi);
  const x = logarithmic(min, max, LABEL_WIDTH, CHART_WIDTH - 30);
  const height = stats.length * ROW + 34;
  return h(
    'figure',
    {},
    chart(
      { id: 'durations', height, title: 'Duration of finished tasks per type (logarithmic scale)', description: stats.map(describe).join('; ') },
      xGrid(ticks.map((t) => ({ value: t, text: roundDuration(t) })), x, 4, height - 24),
      stats.map((s, i) => {
        const y = 8 + i * ROW;
        const mid = y + ROW / 2 - 2;
        return h(
          'g',
          {},
          h('title', {}, describe(s)),
          label(LABEL_WIDTH - 8, mid + 4, `${oneLine(s.taskType, 24)} (${count(s.tasks)})`, 'name', 'end'),
          line(x(s.min), mid, x(s.max), mid, 'whisker'),
          bar(x(s.p25), y + 4, Math.max(3, x(s.p75) - x(s.p25)), ROW - 12, 'box'),
          line(x(s.p50), y + 4, x(s.p50), y + ROW - 8, 'median'),
          line(x(s.p95), y + 2, x(s.p95), y + ROW - 6, 'p95'),
        );
      }),
    ),
    h('figcaption', {}, 'Box: the middle half of the durations, white line: median; black tick: 95th percentile; whisker: shortest to longest.'),
    numbers(
      table(
        'Durations of finished tasks, per type',
        [
          { title: 'task type' },
          ...['tasks', 'shortest', '25th pct', 'median', '75th pct', '95th pct', 'longest'].map((title) => ({ title, numeric: true })),
        ],
        stats.map((s) => [isolated(s.taskType), count(s.tasks), ...[s.min, s.p25, s.p50, s.p75, s.p95, s.max].map(duration)]),
      ),
    ),
  );
}
