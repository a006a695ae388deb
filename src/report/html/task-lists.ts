/** The tasks an operator reads one by one: the ones running now, and the window's latest failures. */
import { LOG_EXCERPT_CHARS, type ReportData } from '../../warehouse/report-data/model.js';
import { duration, instant } from './format.js';
import { h, type Markup } from './markup.js';
import { cluster, data as isolated, logCell, shownOf, table } from './tables.js';

export function runningTasks(data: ReportData): Markup {
  const { running, window } = data;
  if (running.rows.length === 0) return h('p', { class: 'note' }, 'No task was running at the last export of its cluster.');
  const zone = window.timeZone;
  return h(
    'div',
    {},
    table(
      'Tasks reported running (dws.v_running_tasks), longest first',
      [
        { title: 'cluster' },
        { title: 'logical cluster' },
        { title: 'type' },
        { title: 'started' },
        { title: 'running for', numeric: true },
        { title: 'cluster last exported' },
        { title: 'log' },
      ],
      running.rows.map((t) => [
        cluster(t),
        isolated(t.logicalClusterName),
        isolated(t.taskType),
        t.start ? instant(t.start, zone) : [isolated(t.startRaw), ' (unreadable)'],
        t.runningSeconds === null ? '–' : duration(t.runningSeconds),
        instant(t.clusterLastExportAt, zone),
        logCell(t.log, t.logLength, LOG_EXCERPT_CHARS),
      ]),
    ),
    h('p', { class: 'note' }, 'A task that ran for long while its cluster was exported recently is probably stuck.'),
    shownOf(running.rows.length, running.total, 'dws.v_running_tasks'),
  );
}

export function latestFailures(data: ReportData): Markup {
  const { failures, window } = data;
  if (failures.rows.length === 0) return h('p', { class: 'note' }, 'No task that started in this window failed.');
  const zone = window.timeZone;
  return h(
    'div',
    {},
    table(
      'Failed tasks that started in the window, latest first',
      [{ title: 'cluster' }, { title: 'logical cluster' }, { title: 'type' }, { title: 'started' }, { title: 'took', numeric: true }, { title: 'log' }],
      failures.rows.map((t) => [
        cluster(t),
        isolated(t.logicalClusterName),
        isolated(t.taskType),
        instant(t.start, zone),
        t.durationSeconds === null ? '–' : duration(t.durationSeconds),
        logCell(t.log, t.logLength, LOG_EXCERPT_CHARS),
      ]),
    ),
    shownOf(failures.rows.length, failures.total, 'dws.logical_cluster_tasks'),
  );
}
