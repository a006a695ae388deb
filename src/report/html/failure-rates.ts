/**
 * Failure rates in the window: failed / (succeeded + failed) of the tasks
 * that finished, per task type and per logical cluster (worst first).
 */
import type { ReportData } from '../../warehouse/report-data/model.js';
import { count, label as oneLine, percent } from './format.js';
import { h, type Child, type Markup } from './markup.js';
import { bar, chart, CHART_WIDTH, label, linear, xGrid } from './svg.js';
import { clusterLabel, data as isolated, numbers, shownOf, table } from './tables.js';

interface Rate {
  readonly name: string;
  readonly detail?: string;
  readonly failed: number;
  readonly succeeded: number;
}

const ROW = 22;
const LABEL_WIDTH = 260;

function rateChart(id: string, title: string, rates: readonly Rate[]): Markup {
  const height = rates.length * ROW + 30;
  const x = linear(1, LABEL_WIDTH, CHART_WIDTH - 150);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((v) => ({ value: v, text: `${v * 100} %` }));
  return chart(
    {
      id,
      height,
      title,
      description: rates.map((r) => `${r.name}${r.detail ? ` (${r.detail})` : ''}: ${percent(r.failed, r.failed + r.succeeded)} of ${count(r.failed + r.succeeded)} failed`).join('; '),
    },
    xGrid(ticks, x, 4, height - 22),
    rates.map((r, i) => {
      const y = 8 + i * ROW;
      const finished = r.failed + r.succeeded;
      const rateText = `${percent(r.failed, finished)} (${count(r.failed)} of ${count(finished)})`;
      return h(
        'g',
        {},
        label(LABEL_WIDTH - 8, y + 13, oneLine(r.detail ? `${r.detail} / ${r.name}` : r.name, 34), 'name', 'end'),
        // A zero rate still gets a sliver, so every row shows a mark.
        bar(x(0), y + 3, Math.max(2, x(r.failed / (finished || 1)) - x(0)), ROW - 8, r.failed > 0 ? 'failed' : 'success', `${r.name}: ${rateText}`),
        label(x(1) + 8, y + 13, rateText),
      );
    }),
  );
}

export function failureRates(data: ReportData): Markup {
  const byType = new Map<string, Rate>();
  for (const d of data.daily) {
    const r = byType.get(d.taskType) ?? { name: d.taskType, failed: 0, succeeded: 0 };
    byType.set(d.taskType, { ...r, failed: r.failed + d.failed, succeeded: r.succeeded + d.succeeded });
  }
  const types = [...byType.values()]
    .filter((r) => r.failed + r.succeeded > 0)
    .sort((a, b) => b.failed / (b.failed + b.succeeded) - a.failed / (a.failed + a.succeeded) || b.failed - a.failed);
  const logical: Rate[] = data.logicalClusters.rows.map((r) => ({
    name: r.logicalClusterName === '' ? '(none)' : r.logicalClusterName,
    detail: clusterLabel(r),
    failed: r.failed,
    succeeded: r.succeeded,
  }));
  return h(
    'div',
    {},
    rateSection({
      heading: 'Per task type',
      empty: 'No task finished in this window.',
      id: 'failure-by-type',
      what: 'per task type',
      rates: types,
      withDetail: false,
    }),
    rateSection({
      heading: 'Per logical cluster (most failures first)',
      empty: 'No logical cluster finished a task in this window.',
      id: 'failure-by-logical-cluster',
      what: 'per logical cluster',
      rates: logical,
      withDetail: true,
      shown: shownOf(logical.length, data.logicalClusters.total, 'dws.v_task_daily'),
    }),
  );
}

interface RateSection {
  readonly heading: string;
  readonly empty: string;
  readonly id: string;
  /** "per task type": completes the chart's and the table's titles. */
  readonly what: string;
  readonly rates: readonly Rate[];
  /** With a first column for each rate's detail (its cluster). */
  readonly withDetail: boolean;
  readonly shown?: Child;
}

function rateSection(s: RateSection): Child {
  const columns = [{ title: 'cluster' }, { title: 'name' }, { title: 'failed', numeric: true }, { title: 'finished', numeric: true }, { title: 'rate', numeric: true }];
  const first = s.withDetail ? 0 : 1;
  const cells = s.rates.map((r) =>
    [r.detail ?? '', r.name, count(r.failed), count(r.failed + r.succeeded), percent(r.failed, r.failed + r.succeeded)]
      .slice(first)
      .map((cell) => isolated(cell)),
  );
  return [
    h('h3', {}, s.heading),
    s.rates.length === 0
      ? h('p', { class: 'empty' }, s.empty)
      : h(
          'figure',
          {},
          rateChart(s.id, `Share of finished tasks that failed, ${s.what}`, s.rates),
          s.shown,
          numbers(table(`Failure rate ${s.what}`, columns.slice(first), cells)),
        ),
  ];
}
