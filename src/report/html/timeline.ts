/**
 * The window, one row per cluster: each task a bar from start to end,
 * coloured by result; a running task runs to "now" and ends in a dot. The
 * busiest clusters get rows of their own (bounded, so 1,000 clusters stay
 * readable); the others share one row of per-day bars.
 */
import type { OthersDay, ReportData, TimelineCluster, TimelineTask } from '../../warehouse/report-data/model.js';
import { count, dayStartMs, daysBetween, duration, instant, label as oneLine, shortDay } from './format.js';
import { h, type Markup } from './markup.js';
import { RESULT_LABELS } from './styles.js';
import { bar, chart, CHART_WIDTH, label, line } from './svg.js';
import { cluster, clusterLabel, numbers, table } from './tables.js';
import { legend } from './daily-charts.js';

const LABEL_WIDTH = 230;
const RIGHT = CHART_WIDTH - 12;
const TOP = 26;
const ROW = 18;

interface Axis {
  readonly x: (ms: number) => number;
  readonly start: number;
  readonly end: number;
  /** min(now, end): where running tasks stop. */
  readonly now: number;
  readonly zone: string;
}

function taskBar(task: TimelineTask, axis: Axis, y: number): Markup | null {
  const startMs = task.start.getTime();
  const running = task.resultClass === 'running';
  const endMs = task.end?.getTime() ?? (running ? axis.now : startMs);
  const x1 = axis.x(Math.max(startMs, axis.start));
  const x2 = axis.x(Math.min(Math.max(endMs, startMs), axis.end));
  const took = task.end ? duration((task.end.getTime() - startMs) / 1000) : running ? 'still running' : 'end unknown';
  const tooltip =
    `${task.logicalClusterName || '(no logical cluster)'} · ${task.taskType} · ${RESULT_LABELS[task.resultClass]} · ` +
    `${instant(task.start, axis.zone)} → ${task.end ? instant(task.end, axis.zone) : '…'} (${took})`;
  // A running task can span the whole window (stuck for months): a thin line, so the row's other tasks stay visible.
  return running
    ? h('g', {}, bar(x1, y + ROW / 2 - 1.5, Math.max(2, x2 - x1), 3, 'running', tooltip), h('circle', { class: 'm running', cx: x2, cy: y + ROW / 2, r: 4 }, h('title', {}, tooltip)))
    : bar(x1, y + 4, Math.max(2, x2 - x1), ROW - 8, task.resultClass, tooltip);
}

function clusterRow(row: TimelineCluster, axis: Axis, y: number): Markup {
  const omitted = row.tasks - row.drawn.length;
  return h(
    'g',
    {},
    h('title', {}, `${row.clusterName ?? '(name unknown)'} (cluster ${row.clusterId}, project ${row.projectId}): ${count(row.tasks)} tasks, ${count(row.failed)} failed, ${count(row.running)} running${omitted > 0 ? `; the ${count(omitted)} oldest are not drawn` : ''}`),
    label(LABEL_WIDTH - 8, y + 13, oneLine(clusterLabel(row), 30), 'name', 'end'),
    // Running tasks first, so finished ones are drawn over them.
    row.drawn.filter((t) => t.resultClass === 'running').map((task) => taskBar(task, axis, y)),
    row.drawn.filter((t) => t.resultClass !== 'running').map((task) => taskBar(task, axis, y)),
  );
}

function othersRow(others: readonly OthersDay[], clusters: number, axis: Axis, y: number): Markup {
  const max = Math.max(1, ...others.map((d) => d.tasks));
  return h(
    'g',
    {},
    label(LABEL_WIDTH - 8, y + 13, `${count(clusters)} other clusters`, 'name', 'end'),
    others.map((d) => {
      const x1 = axis.x(Math.max(dayStartMs(d.day, axis.zone), axis.start));
      const width = Math.max(2, (axis.x(axis.start + 86_400_000) - axis.x(axis.start)) * 0.8);
      const full = (ROW - 4) * (d.tasks / max);
      const failed = (ROW - 4) * (d.failed / max);
      const tip = `${d.day}, ${count(clusters)} other clusters: ${count(d.tasks)} tasks, ${count(d.failed)} failed, ${count(d.running)} running`;
      return h('g', {}, bar(x1, y + ROW - 2 - full, width, full - failed, 'other', tip), bar(x1, y + ROW - 2 - full, width, failed, 'failed', tip));
    }),
  );
}

export function timelineChart(data: ReportData): Markup {
  const { window, timeline } = data;
  if (timeline.rows.length === 0) return h('p', { class: 'empty' }, 'No task started, ran or ended in this window.');
  const start = window.start.getTime();
  const end = window.end.getTime();
  const axis: Axis = {
    start,
    end,
    now: Math.min(window.generatedAt.getTime(), end),
    zone: window.timeZone,
    x: (ms) => LABEL_WIDTH + ((RIGHT - LABEL_WIDTH) * (ms - start)) / (end - start),
  };
  const othersCount = timeline.activeClusters - timeline.rows.length;
  const rows = timeline.rows.length + (othersCount > 0 ? 1 : 0);
  const height = TOP + rows * ROW + 6;
  const days = daysBetween(window.firstDay, window.lastDay);
  const dayWidth = (RIGHT - LABEL_WIDTH) / days.length;
  const every = Math.max(1, Math.ceil(64 / dayWidth));
  return h(
    'figure',
    {},
    chart(
      {
        id: 'timeline',
        height,
        title: `Tasks per cluster, ${window.firstDay} to ${window.lastDay}`,
        description: `${count(timeline.activeClusters)} clusters had tasks in the window; ${count(timeline.rows.length)} are drawn one per row (most failures first, then running, then most tasks)${othersCount > 0 ? `, the other ${count(othersCount)} share the last row` : ''}.`,
      },
      timeline.rows.map((_, i) => (i % 2 === 1 ? h('rect', { class: 'zebra', x: 0, y: TOP + i * ROW, width: CHART_WIDTH, height: ROW }) : null)),
      // A line and a label every `every` days: a year of daily lines would grey the chart out.
      days.map((day, i) => {
        const x = axis.x(dayStartMs(day, window.timeZone));
        if (i % every !== 0) return null;
        return h('g', {}, line(x, TOP - 4, x, height - 4, 'grid'), x + 60 < RIGHT ? label(x + 3, 14, shortDay(day), 'lbl') : null);
      }),
      axis.now < end ? line(axis.x(axis.now), TOP - 6, axis.x(axis.now), height - 2, 'now') : null,
      timeline.rows.map((row, i) => clusterRow(row, axis, TOP + i * ROW)),
      othersCount > 0 ? othersRow(timeline.others, othersCount, axis, TOP + timeline.rows.length * ROW) : null,
    ),
    legend(),
    h(
      'figcaption',
      {},
      `Times in ${window.timeZone}. A bar is a task from start to end; a dot marks a task still running at the last export.` +
        (othersCount > 0 ? ` The last row sums the ${count(othersCount)} other clusters per day: the bar's height is the day's tasks, its failed part on top.` : ''),
    ),
    numbers(
      table(
        'Clusters in the timeline',
        [{ title: 'cluster' }, { title: 'tasks', numeric: true }, { title: 'failed', numeric: true }, { title: 'running', numeric: true }, { title: 'drawn', numeric: true }],
        timeline.rows.map((r) => [cluster(r), count(r.tasks), count(r.failed), count(r.running), count(r.drawn.length)]),
      ),
    ),
  );
}
