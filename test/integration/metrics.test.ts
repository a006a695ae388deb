/**
 * Metrics pushed at the end of a run, against a small real HTTP receiver
 * that keeps metric groups the way a Prometheus Pushgateway does (POST
 * replaces the pushed metric names of a group, keeps the others), the
 * project's DWS API simulator and a real PostgreSQL. No mocks: the API
 * traffic is counted from real undici requests and compared with what the
 * simulator saw.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { watchApiResponses } from '../../src/report/api-traffic.js';
import { publishRunMetrics, pushMetrics } from '../../src/report/pushgateway.js';
import type { PushTarget } from '../../src/report/push-target.js';
import { summaryFromReport } from '../../src/report/summary-json.js';
import { SimFleet, startSimulator, type Simulator } from '../../src/simulator/index.js';
import { readClusterHealth } from '../../src/warehouse/export-health.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { cliLauncher, describeResult } from '../support/cli.js';
import { TEST_TOKEN, exportOnce, fleetConfig } from '../support/exporter.js';
import { PushReceiver } from '../support/pushgateway.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function captureLogger(): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, logger: createLogger('info', { write: (chunk: string) => void lines.push(chunk) }, { format: 'json' }) };
}

const GROUP = '/metrics/job/dws_task_exporter/shard/0';
const { runCli } = cliLauncher();

describe('API traffic by HTTP status', () => {
  it('counts every attempt by status, retries included, exactly as the API server saw them', async () => {
    const db = await createTestDatabase();
    const fleet = SimFleet.generate({ seed: 23, projects: 1, clustersPerProject: 5, minTasks: 30, maxTasks: 200 });
    const simulator = await startSimulator({ fleet, pageSizeCap: 25, auth: { token: TEST_TOKEN }, faults: { every: { n: 4, status: 503 } } });
    const counter = watchApiResponses([simulator.url]);
    try {
      const report = await exportOnce(db.url, fleetConfig(simulator, fleet));
      counter.stop();
      expect(report.status).toBe('succeeded');
      const seen = Object.fromEntries(counter.byStatus());
      expect(seen).toEqual(Object.fromEntries(Object.entries(simulator.stats.byStatus).map(([k, v]) => [k === 'reset' ? 'network_error' : k, v])));
      expect(seen['503']).toBeGreaterThan(0);
      expect(counter.requests()).toBe(simulator.stats.requests);
      expect(report.totals.apiRequests).toBe(simulator.stats.requests);
    } finally {
      counter.stop();
      await simulator.close();
      await db.drop();
    }
  });

  it('ignores requests to other origins', async () => {
    const other = new PushReceiver();
    await other.start();
    const counter = watchApiResponses(['http://127.0.0.1:1']);
    try {
      await fetch(`${other.url}/x`, { method: 'POST', body: '' });
      expect(counter.requests()).toBe(0);
      expect(counter.byStatus().size).toBe(0);
    } finally {
      counter.stop();
      await other.stop();
    }
  });
});

describe('push to a Pushgateway', () => {
  let db: TestDatabase;
  let simulator: Simulator;
  let receiver: PushReceiver;
  const fleet = SimFleet.generate({ seed: 29, projects: 1, clustersPerProject: 4, minTasks: 10, maxTasks: 80 });

  beforeAll(async () => {
    db = await createTestDatabase();
    simulator = await startSimulator({ fleet, auth: { token: TEST_TOKEN } });
    receiver = new PushReceiver();
    await receiver.start();
  });
  afterAll(async () => {
    await receiver.stop();
    await simulator.close();
    await db.drop();
  });

  async function exportAndPush(target: PushTarget, logger = captureLogger().logger): Promise<{ ok: boolean; runId: number }> {
    const counter = watchApiResponses([simulator.url]);
    const report = await exportOnce(db.url, fleetConfig(simulator, fleet));
    counter.stop();
    const now = new Date();
    const summary = summaryFromReport(report, {
      exporterVersion: 'test',
      runGroupId: 'g',
      shard: { index: target.shardIndex, count: 1 },
      startedAt: now,
      finishedAt: now,
    });
    const planned = fleet.clusters.map((c) => ({ projectId: c.projectId, clusterId: c.id }));
    const clusters = await readClusterHealth(db.pool, planned);
    const ok = await publishRunMetrics(target, { summary, apiResponses: counter.byStatus(), clusters }, logger);
    return { ok, runId: report.runId };
  }

  it('POSTs the run metrics under job and shard, with the values the ledger holds', async () => {
    receiver.requests.length = 0;
    const { ok, runId } = await exportAndPush({ url: receiver.url, job: 'dws_task_exporter', shardIndex: 0 });
    expect(ok).toBe(true);
    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests;
    expect(request).toMatchObject({ method: 'POST', url: GROUP });
    expect(request?.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const run = await db.pool.query('SELECT rows_inserted, rows_updated, api_requests, clusters_ok FROM dws.export_runs WHERE run_id = $1', [runId]);
    const row = run.rows[0] as { rows_inserted: string; rows_updated: string; api_requests: string; clusters_ok: number };
    expect(receiver.value(GROUP, 'dws_exporter_rows{operation="inserted"}')).toBe(Number(row.rows_inserted));
    expect(receiver.value(GROUP, 'dws_exporter_rows{operation="updated"}')).toBe(Number(row.rows_updated));
    expect(receiver.value(GROUP, 'dws_exporter_api_requests')).toBe(Number(row.api_requests));
    expect(receiver.value(GROUP, 'dws_exporter_clusters{status="succeeded"}')).toBe(row.clusters_ok);
    expect(receiver.value(GROUP, 'dws_exporter_last_run_status{status="succeeded"}')).toBe(1);
    expect(receiver.value(GROUP, 'dws_exporter_api_responses{code="200"}')).toBe(Number(row.api_requests));
    const health = await db.pool.query<{ project_id: string; cluster_id: string; s: number }>(
      'SELECT project_id, cluster_id, extract(epoch FROM last_success_at)::float8 AS s FROM dws.v_export_health',
    );
    expect(health.rows).toHaveLength(fleet.clusters.length);
    for (const h of health.rows) {
      const pushed = receiver.value(GROUP, `dws_exporter_cluster_last_success_timestamp_seconds{project_id="${h.project_id}",cluster_id="${h.cluster_id}"}`);
      // PostgreSQL keeps microseconds, JavaScript dates milliseconds.
      expect(Math.abs((pushed ?? 0) - h.s)).toBeLessThan(0.001);
    }
  });

  it('keeps the last success of an earlier run when a later run is partial, and says the last run was partial', async () => {
    const group = '/metrics/job/nightly/shard/0';
    await exportAndPush({ url: receiver.url, job: 'nightly', shardIndex: 0 });
    const lastSuccess = receiver.value(group, 'dws_exporter_last_success_timestamp_seconds');
    expect(lastSuccess).toBeGreaterThan(0);
    const broken = fleet.clusters[0];
    if (!broken) throw new Error('fixture too small');
    broken.fault = { kind: 'status', status: 404, errorCode: 'DWS.0015', errorMsg: 'The cluster does not exist.' };
    try {
      await exportAndPush({ url: receiver.url, job: 'nightly', shardIndex: 0 });
    } finally {
      delete broken.fault;
    }
    expect(receiver.value(group, 'dws_exporter_last_run_status{status="partial"}')).toBe(1);
    expect(receiver.value(group, 'dws_exporter_last_run_exit_code')).toBe(3);
    expect(receiver.value(group, 'dws_exporter_last_success_timestamp_seconds')).toBe(lastSuccess);
    expect(receiver.value(group, `dws_exporter_cluster_last_run_succeeded{project_id="${broken.projectId}",cluster_id="${broken.id}"}`)).toBe(0);
    expect(receiver.value(group, 'dws_exporter_api_responses{code="404"}')).toBe(1);
  });

  it('pushes failures since the last success per cluster from dws.v_export_health, and every endpoint as reachable', async () => {
    const group = '/metrics/job/health/shard/0';
    const broken = fleet.clusters[1];
    if (!broken) throw new Error('fixture too small');
    broken.fault = { kind: 'status', status: 404, errorCode: 'DWS.0015', errorMsg: 'The cluster does not exist.' };
    try {
      await exportAndPush({ url: receiver.url, job: 'health', shardIndex: 0 });
      await exportAndPush({ url: receiver.url, job: 'health', shardIndex: 0 });
    } finally {
      delete broken.fault;
    }
    const view = await db.pool.query<{ project_id: string; cluster_id: string; failures_since_success: string }>(
      'SELECT project_id, cluster_id, failures_since_success FROM dws.v_export_health',
    );
    expect(view.rows.find((r) => r.cluster_id === broken.id)?.failures_since_success).toBe('2');
    for (const row of view.rows) {
      const series = `dws_exporter_cluster_failures_since_success{project_id="${row.project_id}",cluster_id="${row.cluster_id}"}`;
      expect(receiver.value(group, series), series).toBe(Number(row.failures_since_success));
    }
    expect(receiver.value(group, `dws_exporter_endpoint_unreachable{endpoint="${simulator.url}"}`)).toBe(0);
  });

  it('pushes a body that promtool accepts', async () => {
    receiver.requests.length = 0;
    await exportAndPush({ url: receiver.url, job: 'lint', shardIndex: 0 });
    const body = receiver.requests[0]?.body ?? '';
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
    expect(lint.error).toBeUndefined();
    expect(lint.status, `${lint.stdout}${lint.stderr}`).toBe(0);
  });

  it('sends user:password from PUSHGATEWAY_URL as Basic auth, never in the path or the log', async () => {
    receiver.requests.length = 0;
    const { lines, logger } = captureLogger();
    const withAuth = receiver.url.replace('http://', 'http://pusher:s3cret-pw@');
    await exportAndPush({ url: withAuth, job: 'dws_task_exporter', shardIndex: 3 }, logger);
    expect(receiver.requests[0]?.url).toBe('/metrics/job/dws_task_exporter/shard/3');
    expect(receiver.requests[0]?.headers.authorization).toBe(`Basic ${Buffer.from('pusher:s3cret-pw').toString('base64')}`);
    expect(lines.join('')).not.toContain('s3cret-pw');
  });

  it('a Pushgateway that refuses the push or is down only costs a warning', async () => {
    const { lines, logger } = captureLogger();
    receiver.status = 500;
    try {
      expect(await exportAndPush({ url: receiver.url, job: 'x', shardIndex: 0 }, logger)).toMatchObject({ ok: false });
    } finally {
      receiver.status = 200;
    }
    const closed = new PushReceiver();
    await closed.start();
    await closed.stop();
    expect(await exportAndPush({ url: closed.url, job: 'x', shardIndex: 0 }, logger)).toMatchObject({ ok: false });
    const warnings = lines.map((l) => JSON.parse(l) as { level: string; msg: string; problem?: string }).filter((l) => l.level === 'warn');
    expect(warnings.map((w) => w.msg)).toEqual(['could not push metrics to the Pushgateway', 'could not push metrics to the Pushgateway']);
    expect(warnings[0]?.problem).toContain('Pushgateway answered 500');
  });
});

describe('a Pushgateway that never answers', () => {
  it('costs at most the push timeout: the push gives up with a problem instead of hanging', async () => {
    const silent = createServer(() => undefined);
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const problem = await pushMetrics({ url, job: 'x', shardIndex: 0 }, [{ name: 'm', help: 'h', samples: [{ value: 1 }] }], { timeoutMs: 200 });
      expect(problem).toMatch(/abort|time/i);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });
});

describe('dws-task-exporter run with PUSHGATEWAY_URL (CLI)', () => {
  it.each([
    [{ PUSHGATEWAY_URL: 'ftp://pushgateway:9091' }, 'PUSHGATEWAY_URL'],
    [{ PUSHGATEWAY_URL: 'http://127.0.0.1:9', PUSHGATEWAY_JOB: 'nightly/dws' }, 'PUSHGATEWAY_JOB'],
    // A literal "%" in the password: it would fail only when pushing, after a successful run.
    [{ PUSHGATEWAY_URL: 'http://ops:50%off@127.0.0.1:9' }, 'PUSHGATEWAY_URL'],
  ])('refuses %o before any work: exit 2 naming %s, nothing pushed, the database untouched', async (pushEnv, variable) => {
    const db = await createTestDatabase({ migrated: false });
    const dir = await mkdtemp(join(tmpdir(), 'dws-exporter-metrics-'));
    try {
      const configPath = join(dir, 'config.json');
      await writeFile(configPath, JSON.stringify({ endpoint: 'http://127.0.0.1:9', projects: [{ projectId: 'p', clusters: ['c'] }] }));
      const result = await runCli(['run', '--config', configPath], { DATABASE_URL: db.url, DWS_AUTH_TOKEN: TEST_TOKEN, ...pushEnv });
      expect(result.code, describeResult(result)).toBe(2);
      expect(result.stderr).toContain(`${variable}: `);
      expect(result.stderr).not.toContain('could not push metrics');
      expect(result.stderr).not.toContain('50%off');
      const schema = await db.pool.query("SELECT 1 FROM pg_namespace WHERE nspname = 'dws'");
      expect(schema.rows).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
      await db.drop();
    }
  });

  it('pushes once at the end of the run, with every cluster of the run', async () => {
    const db = await createTestDatabase();
    const fleet = SimFleet.generate({ seed: 31, projects: 2, clustersPerProject: 3, minTasks: 5, maxTasks: 60 });
    const simulator = await startSimulator({ fleet, auth: { token: TEST_TOKEN } });
    const receiver = new PushReceiver();
    await receiver.start();
    const dir = await mkdtemp(join(tmpdir(), 'dws-exporter-metrics-'));
    try {
      const configPath = join(dir, 'config.json');
      await writeFile(configPath, JSON.stringify(fleetConfig(simulator, fleet)));
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'run', '--config', configPath], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, DATABASE_URL: db.url, DWS_AUTH_TOKEN: TEST_TOKEN, LOG_LEVEL: 'warn', PUSHGATEWAY_URL: receiver.url, PUSHGATEWAY_JOB: 'cli' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code, stderr).toBe(0);
      expect(receiver.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /metrics/job/cli/shard/0']);
      const group = '/metrics/job/cli/shard/0';
      expect(receiver.value(group, 'dws_exporter_clusters{status="planned"}')).toBe(6);
      expect(receiver.groups.get(group)?.get('dws_exporter_cluster_last_success_timestamp_seconds')?.size).toBe(6);
      expect(receiver.value(group, 'dws_exporter_last_success_timestamp_seconds')).toBeGreaterThan(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
      await receiver.stop();
      await simulator.close();
      await db.drop();
    }
  });
});
