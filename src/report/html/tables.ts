/**
 * Tables: the page's lists (running tasks, failures, clusters to look at,
 * runs) and every chart's numbers, for screen readers, print and copying.
 */
import type { ClusterRef } from '../../warehouse/report-data/model.js';
import { count, excerpt, type Excerpt } from './format.js';
import { h, type Child, type Markup } from './markup.js';

export interface Column {
  readonly title: string;
  readonly numeric?: boolean;
}

export function table(caption: string, columns: readonly Column[], rows: readonly (readonly Child[])[]): Markup {
  return h(
    'table',
    {},
    h('caption', { class: 'note' }, caption),
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.numeric ? 'n' : null }, c.title)))),
    h(
      'tbody',
      {},
      rows.map((row) => h('tr', {}, row.map((cell, i) => h('td', { class: columns[i]?.numeric ? 'n' : null }, cell)))),
    ),
  );
}

/** A chart's numbers, folded away under it. */
export function numbers(table: Markup): Markup {
  return h('details', {}, h('summary', {}, 'The numbers'), table);
}

/** Text from the warehouse, isolated so right-to-left text cannot reorder its neighbours. */
export function data(value: string): Markup {
  return h('bdi', {}, value);
}

/** A cluster by name with its id below, or by id when it was never listed (configured by id). */
export function cluster(ref: ClusterRef): Markup {
  const id = h('span', { class: 'id', title: `project ${ref.projectId}` }, ref.clusterId);
  return ref.clusterName === null ? id : h('span', {}, data(ref.clusterName), h('br', {}), id);
}

/** A cluster in a chart's narrow label column: its name, or the start of its id. */
export function clusterLabel(ref: ClusterRef): string {
  return ref.clusterName ?? `${ref.clusterId.slice(0, 13)}…`;
}

export function logCell(log: string | null, fullLength: number, max: number): Markup {
  if (log === null || log === '') return h('span', { class: 'note' }, log === null ? '(no log)' : '(empty)');
  const shown: Excerpt = excerpt(log, max, fullLength);
  return h(
    'span',
    { class: 'log' },
    data(shown.text),
    shown.omitted > 0 ? h('span', { class: 'note' }, ` … (${count(shown.omitted)} more characters)`) : null,
  );
}

/** "Showing the first 50 of 1,234." when a list was cut, else nothing. */
export function shownOf(shown: number, total: number, where: string): Markup | null {
  return total > shown ? h('p', { class: 'note' }, `Showing ${count(shown)} of ${count(total)}; all are in ${where}.`) : null;
}
