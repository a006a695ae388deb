/** The tasks an operator reads one by one: the ones running now, and the window's latest failures. */
import { LOG_EXCERPT_CHARS, type ReportData, type TaskWithLog } from '../../warehouse/report-data/model.js';
import { duration, instant } from './format.js';
import { h, type Child, type Markup } from './markup.js';
import { cluster, data as isolated, logCell, shownOf, table, type Column } from './tables.js';

export function runningTasks(data: ReportData): Markup {
  const zone = data.window.timeZone;
  return taskList(data.running, 'No task was running at the last export of its cluster.', 'dws.v_running_tasks', (rows) => [
    taskTable(
      'Tasks reported running (dws.v_running_tasks), longest first',
      [{ title: 'started' }, { title: 'running for', numeric: true }, { title: 'cluster last exported' }],
      rows,
      (t) => [
        t.start ? instant(t.start, zone) : [isolated(t.startRaw), ' (unreadable)'],
        t.runningSeconds === null ? '–' : duration(t.runningSeconds),
        instant(t.clusterLastExportAt, zone),
      ],
    ),
    h('p', { class: 'note' }, 'A task that ran for long while its cluster was exported recently is probably stuck.'),
  ]);
}

export function latestFailures(data: ReportData): Markup {
  const zone = data.window.timeZone;
  return taskList(data.failures, 'No task that started in this window failed.', 'dws.logical_cluster_tasks', (rows) => [
    taskTable(
      'Failed tasks that started in the window, latest first',
      [{ title: 'started' }, { title: 'took', numeric: true }],
      rows,
      (t) => [instant(t.start, zone), t.durationSeconds === null ? '–' : duration(t.durationSeconds)],
    ),
  ]);
}

/** A bounded list: a note when empty, else its content and how many of how many it shows. */
function taskList<T>(
  list: { readonly rows: readonly T[]; readonly total: number },
  empty: string,
  source: string,
  content: (rows: readonly T[]) => readonly Child[],
): Markup {
  if (list.rows.length === 0) return h('p', { class: 'note' }, empty);
  return h('div', {}, ...content(list.rows), shownOf(list.rows.length, list.total, source));
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
