/**
 * The report as one self-contained HTML page: inline CSS and SVG, no script,
 * nothing loaded from anywhere (its Content-Security-Policy forbids it too).
 */
import type { ReportData } from '../../warehouse/report-data/model.js';
import { dailyChart, typeChart } from './daily-charts.js';
import { durationChart } from './durations.js';
import { failureRates } from './failure-rates.js';
import { fleetHealth } from './fleet-health.js';
import { instant } from './format.js';
import { h, trusted, type Child, type Markup } from './markup.js';
import { CSS } from './styles.js';
import { latestFailures, runningTasks } from './task-lists.js';
import { timelineChart } from './timeline.js';

export interface PageInfo {
  readonly exporterVersion: string;
}

/** Nothing may load or run, whatever the page contains. */
const CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

function section(id: string, title: string, ...content: Child[]): Markup {
  return h('section', { id, 'aria-labelledby': `${id}-h` }, h('h2', { id: `${id}-h` }, title), content);
}

function windowNote(data: ReportData): Markup | null {
  if (data.daily.length > 0) return null;
  const latest = data.window.latestTaskStart;
  return h(
    'p',
    { class: 'empty' },
    latest === null
      ? 'The warehouse holds no task yet: run an export first.'
      : `No task started in this window. The latest task in the warehouse started at ${instant(latest, data.window.timeZone)}; ` +
          '`report --until latest` shows the days up to it.',
  );
}

export function renderHtmlReport(data: ReportData, info: PageInfo): string {
  const { window } = data;
  const title = `DWS tasks ${window.firstDay} to ${window.lastDay}`;
  const tasks = (...content: Child[]): Child[] => (data.daily.length > 0 ? content : [windowNote(data)]);
  const sections: [string, string, Child[]][] = [
    ['s-health', 'Fleet health', [fleetHealth(data)]],
    ['s-daily', 'Tasks per day', tasks(dailyChart(data), h('h3', {}, 'By task type'), typeChart(data))],
    ['s-failures', 'Failure rates', tasks(failureRates(data))],
    ['s-durations', 'Durations', tasks(durationChart(data))],
    ['s-timeline', 'Per-cluster timeline', [timelineChart(data)]],
    ['s-running', 'Running tasks', [runningTasks(data)]],
    ['s-failed', 'Latest failures', tasks(latestFailures(data))],
  ];
  const page = h(
    'html',
    { lang: 'en' },
    h(
      'head',
      {},
      h('meta', { charset: 'utf-8' }),
      h('meta', { 'http-equiv': 'Content-Security-Policy', content: CONTENT_SECURITY_POLICY }),
      h('meta', { name: 'viewport', content: 'width=device-width, initial-scale=1' }),
      h('meta', { name: 'generator', content: `dws-task-exporter ${info.exporterVersion}` }),
      h('title', {}, title),
      h('style', {}, trusted(CSS)),
    ),
    h(
      'body',
      {},
      h(
        'main',
        {},
        h(
          'header',
          {},
          h('h1', {}, 'GaussDB(DWS) logical-cluster tasks'),
          h(
            'p',
            { class: 'sub' },
            `${window.days === 1 ? window.lastDay : `${window.firstDay} to ${window.lastDay}`} (${window.days} day${window.days === 1 ? '' : 's'}), ` +
              `times in ${window.timeZone}. Generated ${instant(window.generatedAt, window.timeZone)}.`,
          ),
        ),
        h('nav', { 'aria-label': 'Sections' }, sections.map(([id, name]) => h('a', { href: `#${id}` }, name))),
        sections.map(([id, name, content]) => section(id, name, ...content)),
        h(
          'footer',
          {},
          `dws-task-exporter ${info.exporterVersion} · read from dws.v_export_health, dws.v_task_daily, dws.v_running_tasks, ` +
            'dws.logical_cluster_tasks and dws.export_runs in one snapshot. Task counts are as of each cluster’s last export.',
        ),
      ),
    ),
  );
  return `<!doctype html>\n${page.html}\n`;
}
