/**
 * Is the export keeping up? Headline numbers, clusters by their latest
 * attempt and by the age of their latest complete export, the clusters to
 * look at, and the latest runs.
 */
import type { ReportData, RunRow } from '../../warehouse/report-data/model.js';
import { count, duration, instant, percent } from './format.js';
import { h, type Markup } from './markup.js';
import { STALENESS_CLASSES, statusClass } from './styles.js';
import { bar, chart, CHART_WIDTH, label } from './svg.js';
import { cluster, data as isolated, logCell, shownOf, table } from './tables.js';

interface Segment {
  readonly name: string;
  readonly value: number;
  readonly colour: string;
}

const LABEL_WIDTH = 190;

function stackedRow(title: string, segments: readonly Segment[], total: number, y: number): Markup {
  const width = CHART_WIDTH - LABEL_WIDTH - 10;
  let x = LABEL_WIDTH;
  const visible = segments.filter((s) => s.value > 0);
  return h(
    'g',
    {},
    label(LABEL_WIDTH - 8, y + 16, title, 'name', 'end'),
    visible.map((s) => {
      const w = (width * s.value) / total;
      const mark = bar(x, y, w, 24, s.colour, `${title}: ${s.name}, ${count(s.value)} clusters (${percent(s.value, total)})`);
      x += w;
      return mark;
    }),
    label(LABEL_WIDTH, y + 40, visible.map((s) => `${s.name}: ${count(s.value)}`).join('   ·   ')),
  );
}

function tile(name: string, value: string, note?: string): Markup {
  return h('div', { class: 'tile' }, h('span', { class: 'note' }, name), h('b', {}, value), note ? h('span', { class: 'note' }, note) : null);
}

export function statusBadge(status: string): Markup {
  return h('span', { class: `status ${statusClass(status)}` }, status);
}

function tiles(data: ReportData): Markup {
  const { fleet, daily, running, window } = data;
  const succeeded = daily.reduce((s, d) => s + d.succeeded, 0);
  const failed = daily.reduce((s, d) => s + d.failed, 0);
  const started = daily.reduce((s, d) => s + d.succeeded + d.failed + d.running + d.other, 0);
  const latest = fleet.latestRuns[0];
  return h(
    'div',
    { class: 'tiles' },
    tile('Clusters exported', count(fleet.clusters)),
    tile('Clusters to look at', count(fleet.attentionTotal), 'latest attempt not succeeded, or stale'),
    tile('Latest run', latest ? latest.status : 'none', latest ? instant(latest.startedAt, window.timeZone) : undefined),
    tile('Tasks started in the window', count(started)),
    tile('Finished tasks that failed', percent(failed, failed + succeeded), `${count(failed)} of ${count(failed + succeeded)}`),
    tile('Running now', count(running.total), 'as of each cluster’s last export'),
  );
}

function runsTable(runs: readonly RunRow[], zone: string): Markup {
  return table(
    'Latest runs (dws.export_runs)',
    [
      { title: 'run', numeric: true },
      { title: 'status' },
      { title: 'started' },
      { title: 'took', numeric: true },
      { title: 'clusters ok / incomplete / failed of total', numeric: true },
      { title: 'tasks fetched', numeric: true },
      { title: 'rows inserted / updated', numeric: true },
    ],
    runs.map((r) => [
      String(r.runId),
      statusBadge(r.status),
      instant(r.startedAt, zone),
      r.finishedAt ? duration((r.finishedAt.getTime() - r.startedAt.getTime()) / 1000) : '–',
      `${count(r.clustersOk)} / ${count(r.clustersIncomplete)} / ${count(r.clustersFailed)} of ${count(r.clustersTotal)}`,
      count(r.tasksFetched),
      `${count(r.rowsInserted)} / ${count(r.rowsUpdated)}`,
    ]),
  );
}

export function fleetHealth(data: ReportData): Markup {
  const { fleet, window } = data;
  const zone = window.timeZone;
  if (fleet.clusters === 0) return h('div', {}, tiles(data), h('p', { class: 'empty' }, 'No cluster has been exported yet.'));
  const byAttempt = fleet.byLastAttempt.map((s) => ({ name: s.status, value: s.clusters, colour: statusClass(s.status) }));
  const byAge = fleet.byStaleness.map((s, i) => ({ name: s.bucket, value: s.clusters, colour: STALENESS_CLASSES[i] ?? 'other' }));
  return h(
    'div',
    {},
    tiles(data),
    h(
      'figure',
      {},
      chart(
        {
          id: 'fleet-health',
          height: 110,
          title: 'Clusters by latest export attempt and by age of their latest complete export',
          description: `${byAttempt.map((s) => `${s.name}: ${s.value}`).join(', ')}. Latest complete export: ${byAge.map((s) => `${s.name}: ${s.value}`).join(', ')}.`,
        },
        stackedRow('Latest attempt', byAttempt, fleet.clusters, 6),
        stackedRow('Latest complete export', byAge, fleet.clusters, 60),
      ),
      h('figcaption', {}, `From dws.v_export_health, at ${instant(window.generatedAt, zone)} (${zone}). A nightly export is stale after 26 h.`),
    ),
    h('h3', {}, 'Clusters to look at'),
    fleet.attention.length === 0
      ? h('p', { class: 'note' }, 'None: every cluster’s latest attempt succeeded within the last 26 h.')
      : h(
          'div',
          {},
          table(
            'Latest attempt not succeeded, or no complete export for 26 h: most failures first',
            [{ title: 'cluster' }, { title: 'latest attempt' }, { title: 'latest complete export' }, { title: 'failures since', numeric: true }, { title: 'latest error' }],
            fleet.attention.map((c) => [
              cluster(c),
              [statusBadge(c.lastAttemptStatus), ' ', instant(c.lastAttemptAt, zone)],
              c.lastSuccessAt ? [instant(c.lastSuccessAt, zone), h('br', {}), `${duration(c.stalenessSeconds ?? 0)} ago`] : 'never',
              count(c.failuresSinceSuccess),
              c.lastErrorCode || c.lastErrorMessage
                ? [h('b', {}, isolated(c.lastErrorCode ?? '')), ' ', logCell(c.lastErrorMessage, c.lastErrorMessage?.length ?? 0, 300)]
                : '–',
            ]),
          ),
          shownOf(fleet.attention.length, fleet.attentionTotal, 'dws.v_export_health'),
        ),
    h('h3', {}, 'Latest runs'),
    fleet.latestRuns.length === 0 ? h('p', { class: 'note' }, 'No run recorded.') : runsTable(fleet.latestRuns, zone),
  );
}
