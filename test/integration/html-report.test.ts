/**
 * `dws-task-exporter report --html` end to end: a real PostgreSQL loaded by
 * real exports of the simulator (a failing cluster, hostile task text), the
 * CLI in a child process, and the page opened in headless Chromium with the
 * network cut.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.js';
import { ExitCode } from '../../src/core/exit-codes.js';
import { SimFleet, type SimCluster, type SimTask } from '../../src/simulator/index.js';
import { LOG_EXCERPT_CHARS } from '../../src/warehouse/report-data/model.js';
import { readReportData } from '../../src/warehouse/report-data/read-report-data.js';
import { chartMarks, withPage } from '../support/browser.js';
import { cliLauncher, describeResult, once } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { exportOnce, withSimulator } from '../support/exporter.js';
import { HOSTILE_TEXT, hostileText } from '../support/hostile-text.js';

const { runCli } = cliLauncher({ logLevel: 'error' });

const CHARTS = ['fleet-health', 'daily', 'daily-by-type', 'failure-by-type', 'failure-by-logical-cluster', 'durations', 'timeline'];
const UNTIL = '2025-06-30';
const HOSTILE_CLUSTER = '7d3c1e20-4a5b-4c6d-8e9f-0a1b2c3d4e5f';
const FAULTY_CLUSTER = '0f0e0d0c-0b0a-4908-8706-050403020100';

/** A task in the window per hostile text: in the log, the logical cluster name and the type; one running. */
function hostileTasks(): SimTask[] {
  return HOSTILE_TEXT.map((text, i) => ({
    type: i % 3 === 0 ? text : 'Expand',
    logical_cluster_name: i % 2 === 0 ? text : 'lc_plain',
    start_time: `2025-06-30 ${String(10 + i).padStart(2, '0')}:00:00`,
    end_time: i === 0 ? '' : `2025-06-30 ${String(10 + i).padStart(2, '0')}:30:00`,
    result: i === 0 ? '' : 'failed',
    log: `${text}\nstep 2: ${hostileText(i + 1)} ${'long '.repeat(i === 9 ? 100_000 : 1)}`,
  }));
}

function fleet(): SimFleet {
  const generated = SimFleet.generate({ seed: 7, projects: 2, clustersPerProject: 5, minTasks: 150, maxTasks: 250, startDate: '2024-01-01' });
  const project = generated.projectIds()[0] ?? '';
  const hostile: SimCluster = { projectId: project, id: HOSTILE_CLUSTER, name: hostileText(1), status: 'ACTIVE', tasks: hostileTasks() };
  const faulty: SimCluster = {
    projectId: project,
    id: FAULTY_CLUSTER,
    name: 'dws-rejected',
    status: 'ACTIVE',
    tasks: [],
    fault: { kind: 'status', status: 400, errorCode: 'DWS.0001', errorMsg: hostileText(0) },
  };
  return new SimFleet([...generated.clusters, hostile, faulty]);
}

let db: TestDatabase;
let workDir: string;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'dws-html-report-'));
  db = await createTestDatabase();
  const simFleet = fleet();
  await withSimulator({ fleet: simFleet }, async (simulator) => {
    // Clusters discovered by listing, so dws.clusters has their names (hostile ones too).
    const config: ConfigInput = {
      endpoint: simulator.url,
      projects: simFleet.projectIds().map((projectId) => ({ projectId, clusters: 'all' })),
      http: { retryMinDelayMs: 5, retryMaxDelayMs: 50, maxRequestsPerSecond: 5000 },
    };
    const report = await exportOnce(db.url, config);
    expect(report.status).toBe('partial');
  });
});

afterAll(async () => {
  await db?.drop();
  await rm(workDir, { recursive: true, force: true });
});

const reportPage = once(async () => {
  const path = join(workDir, 'nightly', 'report.html');
  const result = await runCli(['report', '--html', path, '--until', UNTIL], { DATABASE_URL: db.url });
  return { path, result };
});

describe('report --html on an exported warehouse', () => {
  it('exits 0, prints only the absolute path it wrote, and leaves no temporary file', async () => {
    const { path, result } = await reportPage();
    expect(result.code, describeResult(result)).toBe(ExitCode.OK);
    expect(result.stdout).toBe(`${path}\n`);
    expect(result.stderr).toBe('');
    expect(await readdir(join(workDir, 'nightly'))).toEqual(['report.html']);
  });

  it('loads in Chromium with the network cut: no request, no console or page error, every chart has marks', async () => {
    const { path } = await reportPage();
    await withPage(path, {}, async (page, events) => {
      expect(events.otherRequests).toEqual([]);
      expect(events.consoleErrors).toEqual([]);
      expect(events.pageErrors).toEqual([]);
      const marks = await chartMarks(page);
      expect(Object.keys(marks).sort()).toEqual([...CHARTS].sort());
      for (const id of CHARTS) expect(marks[id], id).toBeGreaterThan(0);
      const shot = join(workDir, 'report.png');
      await page.screenshot({ path: shot, fullPage: true });
      const png = await readFile(shot);
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      expect(png.length).toBeGreaterThan(50_000);
    });
  });

  it('shows hostile task logs, names and API error messages as text: nothing runs, nothing is injected', async () => {
    const { path } = await reportPage();
    // Past the CSP on purpose: this checks the escaping itself.
    await withPage(path, { bypassCsp: true }, async (page, events) => {
      const count = (selector: string): Promise<number> => page.locator(selector).count();
      const dom = {
        pwned: await page.evaluate(() => '__pwned' in globalThis),
        scripts: await count('script'),
        injected: await count('img, iframe, object, embed, base, form, input, svg svg, body style, body meta'),
        styles: await count('style'),
        handlers: await page.$$eval('*', (all) => all.filter((e) => [...e.attributes].some((a) => a.name.toLowerCase().startsWith('on'))).length),
        outsideLinks: await page.$$eval('[href], [src]', (all) => all.filter((e) => !(e.getAttribute('href') ?? '').startsWith('#')).length),
        text: (await page.locator('body').textContent()) ?? '',
        isolatedRtl: await page.$$eval('bdi', (all) => all.filter((e) => (e.textContent ?? '').includes('\u202E')).length),
      };
      expect(events.pageErrors).toEqual([]);
      expect(events.otherRequests).toEqual([]);
      expect(dom).toMatchObject({ pwned: false, scripts: 0, injected: 0, styles: 1, handlers: 0, outsideLinks: 0 });
      for (const text of HOSTILE_TEXT.slice(0, 7)) expect(dom.text.includes(text), `shown as text: ${text}`).toBe(true);
      expect(dom.text).toContain('step 1\\u0000step 2');
      expect(dom.isolatedRtl).toBeGreaterThan(0);
    });
  });

  it('cuts a 500 kB log to an excerpt and says how much was left out', async () => {
    const { path } = await reportPage();
    const html = await readFile(path, 'utf8');
    const longest = Math.max(...hostileTasks().map((t) => t.log?.length ?? 0));
    expect(longest).toBeGreaterThan(500_000);
    expect(html).toContain(` … (${(longest - LOG_EXCERPT_CHARS).toLocaleString('en-US')} more characters)`);
    expect((await stat(path)).size).toBeLessThan(1_000_000);
  });

  it('lists the failing cluster under "clusters to look at" with its API error, escaped', async () => {
    const { path } = await reportPage();
    const html = await readFile(path, 'utf8');
    const attention = html.slice(html.indexOf('<h3>Clusters to look at</h3>'), html.indexOf('<h3>Latest runs</h3>'));
    expect(attention).toContain('dws-rejected');
    expect(attention).toContain(FAULTY_CLUSTER);
    expect(attention).toContain('DWS_API_ERROR');
    expect(attention).toContain('DWS.0001: &lt;/script&gt;&lt;script&gt;window.__pwned=1&lt;/script&gt;');
  });
});

describe('report data', () => {
  it('counts the tasks that started in the window, in the report time zone', async () => {
    const truth = async (zone: string): Promise<number> => {
      const client = await db.pool.connect();
      try {
        await client.query(`SET TIME ZONE '${zone}'`);
        const r = await client.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM dws.logical_cluster_tasks
            WHERE start_time >= '2025-06-17'::date::timestamptz AND start_time < '2025-07-01'::date::timestamptz`,
        );
        return r.rows[0]?.n ?? -1;
      } finally {
        await client.query('RESET TIME ZONE');
        client.release();
      }
    };
    for (const timeZone of ['UTC', 'Asia/Shanghai']) {
      const data = await readReportData(db.pool, { days: 14, until: UNTIL, timeZone });
      expect(data.window.firstDay).toBe('2025-06-17');
      const offsetHours = timeZone === 'UTC' ? 0 : 8;
      expect(data.window.start.toISOString()).toBe(new Date(Date.UTC(2025, 5, 17) - offsetHours * 3_600_000).toISOString());
      const started = data.daily.reduce((n, d) => n + d.succeeded + d.failed + d.running + d.other, 0);
      expect(started, timeZone).toBe(await truth(timeZone));
      expect(started).toBeGreaterThan(HOSTILE_TEXT.length);
    }
  });

  it('ends the window on the day of the latest task with --until latest, and today by default', async () => {
    const latest = await readReportData(db.pool, { days: 3, until: 'latest', timeZone: 'UTC' });
    const max = await db.pool.query<{ d: string }>("SELECT to_char(max(start_time) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS d FROM dws.logical_cluster_tasks WHERE start_time <= now()");
    expect(latest.window.lastDay).toBe(max.rows[0]?.d);
    expect(latest.window.firstDay).toBe(new Date(Date.parse(`${max.rows[0]?.d ?? ''}T00:00:00Z`) - 2 * 86_400_000).toISOString().slice(0, 10));
    const today = await readReportData(db.pool, { days: 1, until: 'today', timeZone: 'UTC' });
    expect(today.window.lastDay).toBe(today.window.generatedAt.toISOString().slice(0, 10));
  });

  it('puts the clusters with the most failures first in the timeline and counts running tasks that started before the window', async () => {
    const data = await readReportData(db.pool, { days: 14, until: UNTIL, timeZone: 'UTC' });
    const failed = data.timeline.rows.map((r) => r.failed);
    expect(failed).toEqual([...failed].sort((a, b) => b - a));
    expect(data.timeline.rows[0]?.clusterId).toBe(HOSTILE_CLUSTER);
    const early = data.timeline.rows.flatMap((r) => r.drawn).filter((t) => t.resultClass === 'running' && t.start < data.window.start);
    expect(early.length).toBeGreaterThan(0);
    expect(data.running.total).toBeGreaterThan(data.running.rows.length - 1);
  });
});

describe('report command failures', () => {
  it('without DATABASE_URL and nothing exported to the embedded PostgreSQL yet: exit 2 saying so, and no cluster is created', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'dws-report-empty-'));
    try {
      const result = await runCli(['report', '--html', join(dataDir, 'r.html')], { DWS_EXPORTER_DATA_DIR: dataDir });
      expect(result.code, describeResult(result)).toBe(ExitCode.USAGE_OR_CONFIG);
      expect(result.stderr).toMatch(/CONFIG_INVALID: env: no warehouse to read: DATABASE_URL is not set and nothing was exported/);
      expect(existsSync(join(dataDir, 'pgdata'))).toBe(false);
      expect(existsSync(join(dataDir, 'r.html'))).toBe(false);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it.each([
    [['report'], /--html FILE is required/],
    [['report', '--html', 'x.html', '--days', '0'], /--days must be a whole number from 1 to 366/],
    [['report', '--html', 'x.html', '--days', '367'], /--days must be a whole number from 1 to 366/],
    [['report', '--html', 'x.html', '--until', 'yesterday'], /--until must be a date \(YYYY-MM-DD\), "today" or "latest"/],
    [['report', '--html', 'x.html', '--until', '2025-02-30'], /--until must be a date/],
    [['report', '--html', 'x.html', '--time-zone', 'Mars/Olympus'], /--time-zone must be an IANA time zone/],
    [['report', '--html', 'x.html', '--pdf'], /Unknown option '--pdf'/],
  ])('%j exits 2 with a usage error before touching the database', async (args, message) => {
    const result = await runCli(args, { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
    expect(result.code, describeResult(result)).toBe(ExitCode.USAGE_OR_CONFIG);
    expect(result.stderr).toMatch(/^dws-task-exporter: USAGE: /);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });

  it('exits 5 with DB_UNAVAILABLE when the database cannot be reached, and writes nothing', async () => {
    const path = join(workDir, 'unreachable.html');
    const result = await runCli(['report', '--html', path], { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
    expect(result.code, describeResult(result)).toBe(ExitCode.DATABASE);
    expect(result.stderr).toMatch(/^dws-task-exporter: DB_UNAVAILABLE: cannot connect to PostgreSQL at postgres:\/\/nobody@127\.0\.0\.1:1\/none/);
    expect(existsSync(path)).toBe(false);
  });

  it('exits 5 with SCHEMA_NOT_MIGRATED on a database the exporter never set up, and never migrates it', async () => {
    const empty = await createTestDatabase({ migrated: false });
    try {
      const result = await runCli(['report', '--html', join(workDir, 'empty.html')], { DATABASE_URL: empty.url });
      expect(result.code, describeResult(result)).toBe(ExitCode.DATABASE);
      expect(result.stderr).toMatch(/SCHEMA_NOT_MIGRATED: .*run `dws-task-exporter migrate` or an export first/);
      const schema = await empty.pool.query("SELECT 1 FROM pg_namespace WHERE nspname = 'dws'");
      expect(schema.rowCount).toBe(0);
    } finally {
      await empty.drop();
    }
  });

  it('exits 2 naming the path when the file cannot be written, and leaves no temporary file', async () => {
    const blocker = join(workDir, 'a-file');
    await writeFile(blocker, 'not a directory');
    const result = await runCli(['report', '--html', join(blocker, 'report.html'), '--until', UNTIL], { DATABASE_URL: db.url });
    expect(result.code, describeResult(result)).toBe(ExitCode.USAGE_OR_CONFIG);
    expect(result.stderr).toMatch(/CONFIG_INVALID: --html: cannot write the report to .*a-file\/report\.html: .*(ENOTDIR|EEXIST)/);
    expect(result.stdout).toBe('');
  });

  it('exits 2 asking for a file name when --html names a directory, and leaves no temporary file', async () => {
    const dir = join(workDir, 'reports-dir');
    await mkdir(join(dir, 'inside'), { recursive: true });
    const result = await runCli(['report', '--html', dir, '--until', UNTIL], { DATABASE_URL: db.url });
    expect(result.code, describeResult(result)).toBe(ExitCode.USAGE_OR_CONFIG);
    expect(result.stderr).toBe(`dws-task-exporter: CONFIG_INVALID: --html: ${dir} is a directory: give a file name, e.g. ${join(dir, 'fleet.html')}\n`);
    expect(result.stdout).toBe('');
    expect(await readdir(dir)).toEqual(['inside']);
    expect((await readdir(workDir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it.runIf(existsSync('/proc/self'))('exits 2 naming the directory when --html is under /proc (where a recursive mkdir never returns)', async () => {
    const result = await runCli(['report', '--html', '/proc/dws-exporter-test/report.html', '--until', UNTIL], { DATABASE_URL: db.url });
    expect(result.code, describeResult(result)).toBe(ExitCode.USAGE_OR_CONFIG);
    expect(result.stderr).toMatch(
      /^dws-task-exporter: CONFIG_INVALID: --html: cannot write the report to \/proc\/dws-exporter-test\/report\.html: ENOENT: \/proc exists but takes no new directories, mkdir '\/proc\/dws-exporter-test'$/m,
    );
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('replaces an existing report whole', async () => {
    const dir = join(workDir, 'replace');
    await mkdir(dir);
    const path = join(dir, 'report.html');
    await writeFile(path, 'yesterday');
    const result = await runCli(['report', '--html', path, '--until', UNTIL, '--days', '1'], { DATABASE_URL: db.url });
    expect(result.code, describeResult(result)).toBe(ExitCode.OK);
    expect((await readFile(path, 'utf8')).startsWith('<!doctype html>')).toBe(true);
    expect(await readdir(dir)).toEqual(['report.html']);
  });
});
