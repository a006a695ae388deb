/** The tasks an operator reads one by one: the ones running now, and the window's latest failures. */
import { LOG_EXCERPT_CHARS, type ReportData, type TaskWithLog } from '../../warehouse/report-data/model.js';
import { duration, instant } from './format.js';
import { h, type Child, type Markup } from './markup.js';
import { cluster, data as isolated, logCell, shownOf, table, type Column } from './tables.js';

export function runningTasks(data: ReportData): Markup {
  const { running, window } = data;
  if (running.rows.length === 0) return h('p', { class: 'note' }, 'No task was running at the last export of its cluster.');
  const zone = window.timeZone;
  return h(
    'div',
    {},
    taskTable(
      'Tasks reported running (dws.v_running_tasks), longest first',
      [{ title: 'started' }, { title: 'running for', numeric: true }, { title: 'cluster last exported' }],
      running.rows,
      (t) => [
        t.start ? instant(t.start, zone) : [isolated(t.startRaw), ' (unreadable)'],
        t.runningSeconds === null ? '–' : duration(t.runningSeconds),
        instant(t.clusterLastExportAt, zone),
      ],
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
    taskTable(
      'Failed tasks that started in the window, latest first',
      [{ title: 'started' }, { title: 'took', numeric: true }],
      failures.rows,
      (t) => [instant(t.start, zone), t.durationSeconds === null ? '–' : duration(t.durationSeconds)],
    ),
    shownOf(failures.rows.length, failures.total, 'dws.logical_cluster_tasks'),
  );
}

/** Where each task ran, then the list's own columns, then its log excerpt. */
function taskTable<T extends TaskWithLog>(
  caption: string,
  columns: readonly Column[],
  tasks: readonly T[],
  cells: (task: T) => readonly Child[],
): Markup {
  return table(
    caption,
    [{ title: 'cluster' }, { title: 'logical cluster' }, { title: 'type' }, ...columns, { title: 'log' }],
    tasks.map((t) => [
      cluster(t),
      isolated(t.logicalClusterName),
      isolated(t.taskType),
      ...cells(t),
      logCell(t.log, t.logLength, LOG_EXCERPT_CHARS),
    ]),
  );
}
