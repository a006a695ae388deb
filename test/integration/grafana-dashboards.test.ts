/**
 * The provisioned Grafana dashboards (docker/grafana), against a warehouse
 * loaded by real exports of the simulator (test/support/exported-warehouse.ts):
 * every panel's SQL is expanded as Grafana would for a fixed range
 * (test/support/grafana-macros.ts) and run as the datasource's dws_reader
 * login; it must return the columns the panel is built on, and rows. The JSON
 * is checked for datasource references and panel ids.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminUrl, applyRolesSql, createTestDatabase, type TestDatabase } from '../support/database.js';
import { BUSY, DAY_MS, DENIED, HISTORY_START, RUN_GROUP, STALE, fleet, loadWarehouse } from '../support/exported-warehouse.js';
import {
  GRAFANA_DIR,
  allPanels,
  datasourceRefs,
  panelKey,
  provisionedDashboards,
  provisionedDatasource,
  resolveVariables,
  runPanels,
  type Dashboard,
  type DatasourceRef,
  type PanelResult,
  type Panel,
} from '../support/grafana-dashboards.js';
import type { TimeRange } from '../support/grafana-macros.js';

let dashboards: Dashboard[];
let datasource: DatasourceRef;

beforeAll(async () => {
  dashboards = await provisionedDashboards();
  datasource = await provisionedDatasource();
});

/**
 * What each panel is built on: its columns in order (Grafana reads a
 * time_series frame by name, tables and overrides name columns), keyed by
 * dashboard uid and panel title. A panel missing here fails the test.
 */
const COLUMNS: Readonly<Record<string, readonly string[]>> = {
  'dws-fleet-task-history/Tasks in the selected range': ['tasks', 'succeeded', 'failed', 'still running', 'failure rate'],
  'dws-fleet-task-history/Running now': ['running tasks', 'longest running'],
  'dws-fleet-task-history/Tasks per day by type': ['time', 'metric', 'tasks'],
  'dws-fleet-task-history/Tasks per day by result': ['time', 'succeeded', 'failed', 'running', 'other'],
  'dws-fleet-task-history/Failure rate per logical cluster': ['cluster', 'project', 'logical cluster', 'failure rate', 'failed', 'finished'],
  'dws-fleet-task-history/Duration by task type (p50 / p95)': ['task type', 'finished', 'p50', 'p95', 'max'],
  'dws-fleet-task-history/Task timeline per cluster and logical cluster': ['time', 'lane', 'state'],
  'dws-fleet-task-history/Running tasks': ['cluster', 'project', 'logical cluster', 'task type', 'started', 'running for', 'as of export', 'log'],
  'dws-fleet-task-history/Failed tasks': ['started', 'ended', 'cluster', 'project', 'logical cluster', 'task type', 'duration', 'log'],
  'dws-fleet-task-history/p95 task duration per week by type': ['time', 'metric', 'p95'],
  'dws-export-health/Stale clusters (no complete export for 24 h)': ['stale clusters'],
  'dws-export-health/Clusters without a complete export for more than a day': [
    'cluster', 'project', 'cluster id', 'last complete export', 'stale for', 'failed attempts since', 'last attempt',
    'last attempt status', 'error code', 'http', 'api code', 'error message', 'request id',
  ],
  'dws-export-health/Clusters whose last attempt failed': ['failing clusters'],
  'dws-export-health/Oldest complete copy': ['oldest complete copy'],
  'dws-export-health/Latest scheduled run': ['status', 'started'],
  'dws-export-health/Last run per shard': [
    'shard', 'of', 'run', 'status', 'started', 'finished', 'duration', 'clusters', 'ok', 'incomplete', 'failed',
    'inserted', 'updated', 'requests', 'retries', 'error code', 'error', 'run group', 'host', 'version',
  ],
  'dws-export-health/Failed cluster exports per day by error code': ['time', 'metric', 'attempts'],
  'dws-export-health/Failures by error code': ['error code', 'http', 'api code', 'attempts', 'clusters', 'last seen', 'latest message', 'latest request id'],
  'dws-export-health/Rows written per run': ['time', 'inserted', 'updated', 'unchanged'],
  'dws-export-health/API requests and retries per run': ['time', 'first attempts', 'retries'],
  'dws-export-health/Run groups': [
    'run group', 'status', 'started', 'finished', 'shards reported', 'shards', 'runs', 'clusters', 'ok', 'incomplete', 'failed', 'inserted', 'updated',
  ],
};

describe('dashboard JSON', () => {
  it('refers only to the provisioned datasource, everywhere a datasource is named', () => {
    expect(datasource).toMatchObject({ uid: 'dws-warehouse', type: 'grafana-postgresql-datasource' });
    for (const dashboard of dashboards) {
      const refs = datasourceRefs(dashboard);
      expect(refs.length, dashboard.uid).toBeGreaterThan(0);
      for (const { path, ref } of refs) expect(ref, `${dashboard.uid} ${path}`).toEqual({ type: datasource.type, uid: datasource.uid });
    }
  });

  it('has unique dashboard uids, and unique panel ids and titles within each dashboard', () => {
    expect(new Set(dashboards.map((d) => d.uid)).size).toBe(dashboards.length);
    for (const dashboard of dashboards) {
      const panels = allPanels(dashboard);
      expect(new Set(panels.map((p) => p.id)).size, dashboard.uid).toBe(panels.length);
      expect(new Set(panels.map((p) => p.title)).size, dashboard.uid).toBe(panels.length);
      for (const panel of panels) expect(Number.isInteger(panel.id) && panel.id > 0, `${panelKey(dashboard, panel)} id`).toBe(true);
    }
  });

  it('is a dashboard model of a current Grafana (schemaVersion 36+: datasources by uid)', () => {
    for (const dashboard of dashboards) {
      expect(Number.isInteger(dashboard.schemaVersion), dashboard.uid).toBe(true);
      expect(dashboard.schemaVersion, dashboard.uid).toBeGreaterThanOrEqual(36);
      expect(dashboard.schemaVersion, dashboard.uid).toBeLessThanOrEqual(41);
    }
  });

  it('gives every panel one SQL query in a format Grafana knows, and the test an expectation for it', () => {
    const seen: string[] = [];
    for (const dashboard of dashboards) {
      for (const panel of allPanels(dashboard).filter((p) => p.type !== 'row')) {
        seen.push(panelKey(dashboard, panel));
        expect(panel.targets?.length, panelKey(dashboard, panel)).toBe(1);
        for (const target of panel.targets ?? []) {
          expect(target.rawSql?.trim(), panelKey(dashboard, panel)).toBeTruthy();
          expect(['table', 'time_series'], panelKey(dashboard, panel)).toContain(target.format);
        }
      }
    }
    expect(seen.sort()).toEqual(Object.keys(COLUMNS).sort());
  });
});

const NUMERIC_TYPES = new Set([20, 21, 23, 700, 701, 1700]); // int8, int2, int4, float4, float8, numeric
const TIME_TYPES = new Set([1082, 1114, 1184, ...NUMERIC_TYPES]); // date, timestamp, timestamptz, epoch

/** Column names the panel's JSON refers to: overrides by name, partition fields, a stat's /^field$/. */
function namedColumns(panel: Panel): string[] {
  const overrides = (panel.fieldConfig?.overrides ?? []).filter((o) => o.matcher.id === 'byName').map((o) => String(o.matcher.options));
  const partitions = (panel.transformations ?? []).flatMap((t) => {
    const fields: unknown = t.options.fields;
    return t.id === 'partitionByValues' && Array.isArray(fields) ? fields.map(String) : [];
  });
  const reduced = /^\/\^(.+)\$\/$/.exec(panel.options?.reduceOptions?.fields ?? '')?.[1];
  return [...overrides, ...partitions, ...(reduced ? [reduced] : [])];
}

/** The frame Grafana builds from the rows, as far as it can fail: a time_series needs a sorted time column and numeric values. */
function expectFrameGrafanaCanRead(name: string, { panel, target, result }: PanelResult): void {
  const columns = result.fields.map((f) => f.name);
  expect(columns, name).toEqual(COLUMNS[name]);
  for (const column of namedColumns(panel)) expect(columns, `${name}: the panel names column "${column}"`).toContain(column);
  if (target.format !== 'time_series') return;
  for (const field of result.fields) {
    if (field.name === 'time') expect(TIME_TYPES.has(field.dataTypeID), `${name}: time column type ${field.dataTypeID}`).toBe(true);
    else if (field.name !== 'metric') expect(NUMERIC_TYPES.has(field.dataTypeID), `${name}: ${field.name} must be numeric`).toBe(true);
  }
  // A timestamp column, or epoch seconds ($__timeGroupAlias: numeric, which pg returns as text).
  const times = result.rows.map((row) => (row.time instanceof Date ? row.time.getTime() : Number(row.time) * 1000));
  expect(times, `${name}: rows sorted by time (Grafana's long-to-wide needs it)`).toEqual([...times].sort((a, b) => a - b));
}

let db: TestDatabase;
let reader: pg.Client;
const readerLogin = `dws_t${Date.now().toString(36)}_grafana`;

describe('panel queries on an exported warehouse', () => {
  let range: TimeRange;
  const byDashboard = new Map<string, Map<string, PanelResult>>();
  const results = (uid: string): Map<string, PanelResult> => byDashboard.get(uid) ?? new Map();
  const rows = (uid: string, title: string): Record<string, unknown>[] => results(uid).get(title)?.result.rows ?? [];

  beforeAll(async () => {
    db = await createTestDatabase();
    await applyRolesSql(db.pool);
    await loadWarehouse(db);
    // The datasource's login, made by the administrator's script exactly as documented.
    const admin = await db.pool.connect();
    try {
      await admin.query(`SET dws.grafana_login = '${readerLogin}'; SET dws.grafana_password = 'reader-test-password'`);
      await admin.query(await readFile(join(GRAFANA_DIR, 'reader-login.sql'), 'utf8'));
    } finally {
      await admin.query('RESET dws.grafana_login; RESET dws.grafana_password');
      admin.release();
    }
    const url = new URL(db.url);
    url.username = readerLogin;
    url.password = 'reader-test-password';
    reader = new pg.Client(url.toString());
    await reader.connect();
    range = { from: new Date(`${HISTORY_START}T00:00:00Z`), to: new Date() };
    for (const dashboard of dashboards) byDashboard.set(dashboard.uid, await runPanels(reader, dashboard, range));
  });

  afterAll(async () => {
    await reader?.end();
    await db?.drop();
    const server = new pg.Client(adminUrl());
    await server.connect();
    try {
      await server.query(`DROP ROLE IF EXISTS ${readerLogin}`);
    } finally {
      await server.end();
    }
  });

  it('the datasource\'s login reads through dws_reader and can write nothing', async () => {
    const membership = await reader.query(`SELECT pg_has_role(current_user, 'dws_reader', 'member') AS member, current_setting('statement_timeout') AS timeout`);
    expect(membership.rows).toEqual([{ member: true, timeout: '1min' }]);
    await expect(reader.query(`UPDATE dws.clusters SET cluster_name = 'x'`)).rejects.toMatchObject({ code: '25006' });
  });

  it('reader-login.sql refuses to run without a password, saying which setting to give', async () => {
    await expect(db.pool.query(await readFile(join(GRAFANA_DIR, 'reader-login.sql'), 'utf8'))).rejects.toThrow(/dws\.grafana_password is not set/);
  });

  it('every panel returns the columns it is built on, and rows', () => {
    for (const dashboard of dashboards) {
      for (const [title, result] of results(dashboard.uid)) {
        const name = `${dashboard.uid}/${title}`;
        expectFrameGrafanaCanRead(name, result);
        expect(result.result.rowCount, `${name} returned no rows:\n${result.sql}`).toBeGreaterThan(0);
      }
    }
  });

  it('the cluster variable offers every cluster, twins in two projects told apart by project', async () => {
    const fleetDashboard = dashboards.find((d) => d.uid === 'dws-fleet-task-history');
    if (!fleetDashboard) throw new Error('no fleet dashboard');
    const { options } = await resolveVariables(reader, fleetDashboard, range);
    expect(options.get('project')?.map((o) => o.value).sort()).toEqual(fleet.projectIds().sort());
    const clusters = options.get('cluster') ?? [];
    // Two clusters named alike must not share a text (Grafana would keep one of them).
    expect(clusters.map((o) => o.value).sort()).toEqual(fleet.clusters.map((c) => c.id).sort());
    const twins = fleet.clusters.filter((c) => fleet.clusters.some((o) => o !== c && o.name === c.name));
    expect(twins.length).toBeGreaterThan(0); // seed 61 has one name in both projects
    for (const twin of twins) expect(clusters.find((o) => o.value === twin.id)?.text).toBe(`${twin.name} (${twin.projectId.slice(0, 8)})`);
  });

  it('fleet task history: counts agree with the stored tasks, running tasks and failures are shown', async () => {
    // The day-based panels count whole days of the range (dws.v_task_daily is per day).
    const stored = await db.pool.query<{ tasks: string; running: string; failed: string }>(
      `SELECT count(*) FILTER (WHERE start_time::date BETWEEN $1::date AND $2::date) AS tasks, count(*) FILTER (WHERE is_running) AS running,
              count(*) FILTER (WHERE start_time::date BETWEEN $1::date AND $2::date AND lower(result) = 'failed' AND NOT is_running) AS failed
         FROM dws.logical_cluster_tasks`,
      [range.from.toISOString(), range.to.toISOString()],
    );
    const truth = stored.rows[0];
    const uid = 'dws-fleet-task-history';
    const [summary] = rows(uid, 'Tasks in the selected range');
    expect(Number(summary?.tasks)).toBe(Number(truth?.tasks));
    expect(Number(summary?.failed)).toBe(Number(truth?.failed));
    expect(Number(summary?.['failure rate'])).toBeGreaterThan(0);
    const perDay = rows(uid, 'Tasks per day by result').reduce((sum, r) => sum + ['succeeded', 'failed', 'running', 'other'].reduce((s, c) => s + Number(r[c]), 0), 0);
    expect(perDay).toBe(Number(truth?.tasks));
    expect(Number(rows(uid, 'Running now')[0]?.['running tasks'])).toBe(Number(truth?.running));
    expect(rows(uid, 'Failed tasks').map((r) => r.cluster)).toContain(BUSY.name);
    const running = rows(uid, 'Running tasks');
    expect(running).toHaveLength(Number(truth?.running));
    expect(running.find((r) => r['task type'] === 'Expand' && r['logical cluster'] === 'lc_etl' && r.cluster === BUSY.name)?.['running for']).toBeGreaterThan(3 * 3600 - 60);
    const lanes = new Set(rows(uid, 'Task timeline per cluster and logical cluster').map((r) => String(r.lane)));
    expect([...lanes].some((lane) => lane.startsWith(`${DENIED.name} (`))).toBe(true);
  });

  it('export health: the stale cluster, the failing one, both shards and the errors by code', () => {
    const uid = 'dws-export-health';
    expect(rows(uid, 'Stale clusters (no complete export for 24 h)')).toEqual([{ 'stale clusters': '1' }]);
    expect(rows(uid, 'Clusters whose last attempt failed')).toEqual([{ 'failing clusters': '1' }]);
    const [stale, ...others] = rows(uid, 'Clusters without a complete export for more than a day');
    expect(others).toEqual([]);
    expect(stale).toMatchObject({ 'cluster id': STALE.id, 'last attempt status': 'failed', 'error code': 'DWS_API_ERROR', http: 404, 'api code': 'DWS.0015', 'failed attempts since': '2' });
    expect(Number(stale?.['stale for'])).toBeGreaterThan(3 * 86_400 - 600);
    expect(Number(rows(uid, 'Oldest complete copy')[0]?.['oldest complete copy'])).toBeGreaterThan(3 * 86_400 - 600);
    expect(rows(uid, 'Last run per shard').map((r) => [r.shard, r.of])).toEqual([[0, 2], [1, 2]]);
    expect(rows(uid, 'Latest scheduled run')[0]?.status).toBe('partial');
    expect(rows(uid, 'Run groups').map((r) => [r['run group'], r['shards reported'], r.status])).toEqual([[RUN_GROUP, '2', 'partial']]);
    const codes = rows(uid, 'Failures by error code').map((r) => r['error code']);
    expect(codes).toEqual(expect.arrayContaining(['DWS_API_ERROR', 'DWS_AUTH_FAILED']));
    expect(rows(uid, 'API requests and retries per run').some((r) => Number(r.retries) > 0)).toBe(true);
  });

  it('narrowed to one cluster, the panels show that cluster only', async () => {
    for (const dashboard of dashboards) {
      const narrowed = await runPanels(reader, dashboard, range, { project: [STALE.projectId], cluster: [STALE.id] });
      for (const [title, result] of narrowed) {
        expectFrameGrafanaCanRead(`${dashboard.uid}/${title}`, result);
        for (const row of result.result.rows) {
          if ('cluster' in row) expect(row.cluster, `${dashboard.uid}/${title}`).toBe(STALE.name);
        }
      }
      if (dashboard.uid === 'dws-export-health') {
        expect(narrowed.get('Clusters without a complete export for more than a day')?.result.rows.map((r) => r['cluster id'])).toEqual([STALE.id]);
      }
    }
  });
});

describe('panel queries on an empty warehouse', () => {
  it('run without error before the first export (every variable empty)', async () => {
    const empty = await createTestDatabase();
    try {
      const client = await empty.pool.connect();
      try {
        const range = { from: new Date(Date.now() - 30 * DAY_MS), to: new Date() };
        for (const dashboard of dashboards) {
          for (const [title, result] of await runPanels(client, dashboard, range)) expectFrameGrafanaCanRead(`${dashboard.uid}/${title}`, result);
        }
      } finally {
        client.release();
      }
    } finally {
      await empty.drop();
    }
  });
});
