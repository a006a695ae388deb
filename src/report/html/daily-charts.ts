/**
 * Tasks started per day, stacked by result: the whole fleet, then one small
 * panel per task type (the busiest types; the rest share a panel).
 */
import { RESULT_CLASSES, type DailyCount, type ReportData, type ResultClass } from '../../warehouse/report-data/model.js';
import { count, daysBetween, label as oneLine, percent, shortDay } from './format.js';
import { fragment, h, type Markup } from './markup.js';
import { RESULT_LABELS } from './styles.js';
import { bar, chart, CHART_WIDTH, label, linear, niceTicks, yGrid } from './svg.js';
import { numbers, table } from './tables.js';

type Counts = Readonly<Record<ResultClass, number>>;

const ZERO: Counts = { success: 0, failed: 0, running: 0, other: 0 };
/** Panels in the per-type chart; types beyond the busiest share the last one. */
const TYPE_PANELS = 9;
const TYPE_COLUMNS = 3;

function countsOf(row: DailyCount): Counts {
  return { success: row.succeeded, failed: row.failed, running: row.running, other: row.other };
}

function add(a: Counts, b: Counts): Counts {
  return { success: a.success + b.success, failed: a.failed + b.failed, running: a.running + b.running, other: a.other + b.other };
}

function total(c: Counts): number {
  return c.success + c.failed + c.running + c.other;
}

/** Per day of the window (every day present, zero when none started). */
function perDay(days: readonly string[], rows: readonly DailyCount[]): Map<string, Counts> {
  const byDay = new Map(days.map((d) => [d, ZERO]));
  for (const row of rows) byDay.set(row.day, add(byDay.get(row.day) ?? ZERO, countsOf(row)));
  return byDay;
}

interface Area {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Stacked bars of `series` in `area`, with a y grid and every k-th day labelled. */
function stackedBars(series: Map<string, Counts>, area: Area, tickCount: number, dayLabels: boolean): Markup {
  const days = [...series.keys()];
  const max = Math.max(1, ...[...series.values()].map(total));
  const ticks = niceTicks(max, tickCount);
  const top = ticks[ticks.length - 1] ?? max;
  const y = linear(top, area.y + area.height, area.y);
  const band = area.width / Math.max(days.length, 1);
  const barWidth = Math.max(1, band * 0.8);
  const every = Math.max(1, Math.ceil(60 / band));
  const marks = days.map((day, i) => {
    const counts = series.get(day) ?? ZERO;
    const x = area.x + i * band + (band - barWidth) / 2;
    let base = 0;
    return h(
      'g',
      {},
      RESULT_CLASSES.map((c) => {
        const value = counts[c];
        const mark = bar(x, y(base + value), barWidth, y(base) - y(base + value), c, `${day}: ${count(value)} ${RESULT_LABELS[c]}`);
        base += value;
        return mark;
      }),
      dayLabels && i % every === 0 ? label(x + barWidth / 2, area.y + area.height + 14, shortDay(day), 'lbl', 'middle') : null,
    );
  });
  return fragment(yGrid(ticks.map((t) => ({ value: t, text: count(t) })), y, area.x, area.x + area.width), marks);
}

export function legend(): Markup {
  return h('p', { class: 'note' }, RESULT_CLASSES.map((c) => [h('span', { class: `key ${c}` }), RESULT_LABELS[c]]));
}

export function dailyChart(data: ReportData): Markup {
  const days = daysBetween(data.window.firstDay, data.window.lastDay);
  const series = perDay(days, data.daily);
  const sums = [...series.values()].reduce(add, ZERO);
  const height = 240;
  return h(
    'figure',
    {},
    chart(
      {
        id: 'daily',
        height,
        title: 'Tasks started per day, by result',
        description: `${count(total(sums))} tasks started from ${data.window.firstDay} to ${data.window.lastDay}: ${count(sums.success)} succeeded, ${count(sums.failed)} failed, ${count(sums.running)} still running, ${count(sums.other)} other results.`,
      },
      stackedBars(series, { x: 50, y: 10, width: CHART_WIDTH - 60, height: height - 40 }, 5, true),
    ),
    legend(),
    numbers(
      table(
        'Tasks started per day',
        [{ title: 'day' }, ...RESULT_CLASSES.map((c) => ({ title: RESULT_LABELS[c], numeric: true })), { title: 'failed of finished', numeric: true }],
        days.map((day) => {
          const c = series.get(day) ?? ZERO;
          return [day, ...RESULT_CLASSES.map((k) => count(c[k])), percent(c.failed, c.failed + c.success)];
        }),
      ),
    ),
  );
}

/** The busiest types, and the rest summed under "other types". */
function typePanels(rows: readonly DailyCount[]): { readonly name: string; readonly rows: readonly DailyCount[] }[] {
  const totals = new Map<string, number>();
  for (const r of rows) totals.set(r.taskType, (totals.get(r.taskType) ?? 0) + total(countsOf(r)));
  const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([name]) => name);
  const own = ranked.length <= TYPE_PANELS ? ranked : ranked.slice(0, TYPE_PANELS - 1);
  const panels = own.map((name) => ({ name, rows: rows.filter((r) => r.taskType === name) }));
  const rest = rows.filter((r) => !own.includes(r.taskType));
  if (rest.length > 0) panels.push({ name: `${ranked.length - own.length} other types`, rows: rest });
  return panels;
}

export function typeChart(data: ReportData): Markup {
  const days = daysBetween(data.window.firstDay, data.window.lastDay);
  const panels = typePanels(data.daily);
  const panelWidth = CHART_WIDTH / TYPE_COLUMNS;
  const panelHeight = 130;
  const height = Math.ceil(panels.length / TYPE_COLUMNS) * panelHeight;
  const sums = panels.map((p) => p.rows.map(countsOf).reduce(add, ZERO));
  return h(
    'figure',
    {},
    chart(
      {
        id: 'daily-by-type',
        height,
        title: 'Tasks started per day, one panel per task type',
        description: panels.map((p, i) => `${p.name}: ${count(total(sums[i] ?? ZERO))} tasks`).join('; '),
      },
      panels.map((panel, i) => {
        const x = (i % TYPE_COLUMNS) * panelWidth;
        const y = Math.floor(i / TYPE_COLUMNS) * panelHeight;
        const s = sums[i] ?? ZERO;
        return h(
          'g',
          {},
          label(x + 40, y + 14, `${oneLine(panel.name, 22)} · ${count(total(s))} · ${percent(s.failed, s.failed + s.success)} failed`, 'head'),
          stackedBars(perDay(days, panel.rows), { x: x + 40, y: y + 22, width: panelWidth - 52, height: panelHeight - 44 }, 2, false),
        );
      }),
    ),
    h('figcaption', {}, 'Each panel has its own scale; the title gives the tasks in the window and the share of finished tasks that failed.'),
    numbers(
      table(
        'Tasks in the window per type',
        [{ title: 'task type' }, ...RESULT_CLASSES.map((c) => ({ title: RESULT_LABELS[c], numeric: true }))],
        panels.map((p, i) => [p.name, ...RESULT_CLASSES.map((c) => count((sums[i] ?? ZERO)[c]))]),
      ),
    ),
  );
}
