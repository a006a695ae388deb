import { describe, expect, it } from 'vitest';
import { renderHtmlReport } from '../../../../src/report/html/page.js';
import {
  TIMELINE_CLUSTER_ROWS,
  TIMELINE_TASKS_PER_CLUSTER,
  type ReportData,
} from '../../../../src/warehouse/report-data/model.js';
import { HOSTILE_TEXT, hostileText } from '../../../support/hostile-text.js';
import { at, reportData } from './report-data-fixture.js';

const INFO = { exporterVersion: '9.9.9' };

const CHART_IDS = ['fleet-health', 'daily', 'daily-by-type', 'failure-by-type', 'failure-by-logical-cluster', 'durations', 'timeline'];

/** toContain without printing a whole page when it fails. */
function expectIn(html: string, part: string): void {
  expect(html.includes(part), `the page contains ${JSON.stringify(part)}`).toBe(true);
}

/** The <svg class="chart"> elements by id, with their markup. */
function charts(html: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const match of html.matchAll(/<svg class="chart" id="([^"]+)"[\s\S]*?<\/svg>/g)) found.set(match[1] ?? '', match[0]);
  return found;
}

const ALLOWED_TAGS = new Set([
  'html', 'head', 'meta', 'title', 'style', 'body', 'main', 'header', 'nav', 'a', 'section', 'h1', 'h2', 'h3', 'p', 'div',
  'span', 'b', 'br', 'bdi', 'figure', 'figcaption', 'details', 'summary', 'table', 'caption', 'thead', 'tbody', 'tr', 'th',
  'td', 'footer', 'svg', 'desc', 'g', 'rect', 'line', 'circle', 'text',
]);

describe('the HTML page', () => {
  it('is one self-contained document: a CSP that forbids loading and running anything, no script, no URL', () => {
    const html = renderHtmlReport(reportData(), INFO);
    expect(html.startsWith('<!doctype html>\n<html lang="en"><head><meta charset="utf-8">')).toBe(true);
    expectIn(html, `<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; style-src &#39;unsafe-inline&#39;;`);
    expect(/<script|https?:|\/\/[a-z]/i.exec(html)?.[0]).toBeUndefined();
    expectIn(html, 'dws-task-exporter 9.9.9');
  });

  it('draws every chart, each with data marks, an accessible title and description, and its numbers as a table', () => {
    const html = renderHtmlReport(reportData(), INFO);
    const found = charts(html);
    expect([...found.keys()].sort()).toEqual([...CHART_IDS].sort());
    for (const [id, svg] of found) {
      expect(svg.match(/class="m /g)?.length ?? 0, id).toBeGreaterThan(0);
      expect(svg, id).toContain(`role="img" aria-labelledby="${id}-t ${id}-d"><title id="${id}-t">`);
      expect(svg, id).toContain(`<desc id="${id}-d">`);
    }
    expect(html.match(/<summary>The numbers<\/summary><table>/g)?.length).toBe(CHART_IDS.length - 1);
  });

  it('renders hostile text from every field as text: only its own tags, every attribute well-formed', () => {
    const html = renderHtmlReport(reportData({ text: hostileText, clusters: HOSTILE_TEXT.length }), INFO);
    const tags = new Set([...html.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9-]*)/g)].map((m) => m[1] ?? ''));
    expect([...tags].filter((t) => !ALLOWED_TAGS.has(t))).toEqual([]);
    expect(html.match(/<style>/g)?.length).toBe(1);
    expect(html.match(/<meta /g)?.length).toBe(4);
    for (const tag of html.matchAll(/<[a-zA-Z][^>]*>/g)) {
      expect(tag[0]).toMatch(/^<[a-z][a-z0-9-]*(?: [a-z][a-z0-9:-]*(?:="[^"<>]*")?)*\/?>$/i);
    }
    // Each payload is there, escaped, as the text it was.
    expectIn(html, '&lt;/script&gt;&lt;script&gt;window.__pwned=1&lt;/script&gt;');
    expectIn(html, '&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;');
    expectIn(html, ']]&gt;&lt;script&gt;window.__pwned=1&lt;/script&gt;&lt;![CDATA[');
    expectIn(html, '<bdi>\u202Egnp.exe\u202C مرحبا שלום</bdi>');
    expectIn(html, 'step 1\\u0000step 2 \uFFFD[31m red');
    expect(html.includes('\u0000'), 'no NUL character').toBe(false);
  });

  it('says so instead of drawing empty charts when nothing started in the window, and points at --until latest', () => {
    const base = reportData();
    const empty: ReportData = {
      ...base,
      daily: [],
      durations: [],
      logicalClusters: { rows: [], total: 0 },
      failures: { rows: [], total: 0 },
      timeline: { activeClusters: 0, rows: [], others: [] },
    };
    const html = renderHtmlReport(empty, INFO);
    expect([...charts(html).keys()]).toEqual(['fleet-health']);
    expectIn(html, 'No task started in this window. The latest task in the warehouse started at 2025-06-30 05:00;');
    expectIn(html, '`report --until latest` shows the days up to it.');
    expectIn(html, 'No task started, ran or ended in this window.');
    const blank = renderHtmlReport({ ...empty, window: { ...empty.window, latestTaskStart: null } }, INFO);
    expectIn(blank, 'The warehouse holds no task yet: run an export first.');
  });

  it('sums the clusters without a row of their own into one "other clusters" row, per day', () => {
    const html = renderHtmlReport(reportData({ othersDays: true }), INFO);
    const timeline = charts(html).get('timeline') ?? '';
    expectIn(timeline, '>500 other clusters</text>');
    expectIn(timeline, '<title>2025-06-30, 500 other clusters: 53 tasks, 13 failed, 1 running</title>');
  });

  it('marks a running task with a dot that ends at the report time, or at the window end when the report is later', () => {
    const data = reportData({ clusters: 1 });
    const html = renderHtmlReport(data, INFO);
    const timeline = charts(html).get('timeline') ?? '';
    expect(timeline.match(/<circle class="m running" cx="948" /g)?.length).toBe(1);
    const during = renderHtmlReport({ ...data, window: { ...data.window, generatedAt: at(7, 0) } }, INFO);
    expectIn(charts(during).get('timeline') ?? '', '<line class="now" x1="589"');
  });

  it('stays a few megabytes at most with the fullest timeline the warehouse hands over', () => {
    const base = reportData({ clusters: TIMELINE_CLUSTER_ROWS, othersDays: true });
    const tasks = Array.from({ length: TIMELINE_TASKS_PER_CLUSTER }, (_, i) => ({
      logicalClusterName: `logical_cluster_${i % 7}`,
      taskType: 'ShrinkElasticGroup',
      start: at(i % 14, i % 24),
      end: at(i % 14, (i % 24) + 1),
      resultClass: i % 9 === 0 ? ('failed' as const) : ('success' as const),
    }));
    const full: ReportData = {
      ...base,
      timeline: { ...base.timeline, rows: base.timeline.rows.map((r) => ({ ...r, tasks: 5000, drawn: tasks })) },
    };
    const bytes = Buffer.byteLength(renderHtmlReport(full, INFO));
    expect(bytes).toBeLessThan(3_000_000);
  });
});
