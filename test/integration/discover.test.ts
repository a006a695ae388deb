/**
 * Cluster discovery: "clusters": "all" and include/exclude over several
 * projects and regions (one simulator per region, reached through an
 * endpoint override), the dws.clusters dimension, the fallback to the last
 * known clusters when a cluster list cannot be read, and the `discover`
 * command, which never touches the database.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { discoverCommand } from '../../src/commands/discover.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { matchesPattern, selectClusters } from '../../src/plan/discover-clusters.js';
import { ConfigError } from '../../src/core/errors.js';
import { ExitCode, exitCodeForError } from '../../src/core/exit-codes.js';
import { SimFleet, startSimulator, type SimCluster, type Simulator } from '../../src/simulator/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { TEST_TOKEN, exportOnce } from '../support/exporter.js';

const FAST = { retryMinDelayMs: 5, retryMaxDelayMs: 50, maxRequestsPerSecond: 5000 };

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});
function track<T>(thing: T, close: (t: T) => Promise<void>): T {
  closers.push(() => close(thing));
  return thing;
}
const newDb = async (): Promise<TestDatabase> => track(await createTestDatabase(), (db) => db.drop());
const newSim = async (fleet: SimFleet): Promise<Simulator> =>
  track(await startSimulator({ fleet, pageSizeCap: 40, auth: { token: TEST_TOKEN } }), (s) => s.close());

let workDir: string;
beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'dws-discover-test-'));
});
afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

/** Two regions: cn-north-4 with two projects, eu-west-101 with one. */
function fleets() {
  const north = SimFleet.generate({ seed: 61, projects: 2, clustersPerProject: 5, minTasks: 0, maxTasks: 80 });
  const west = SimFleet.generate({ seed: 67, projects: 1, clustersPerProject: 4, minTasks: 0, maxTasks: 80 });
  const [creating, deleting] = [north.clusters[1], west.clusters[2]] as [SimCluster, SimCluster];
  creating.status = 'CREATING';
  deleting.status = 'DELETING';
  return { north, west, creating, deleting };
}

type Clusters = ConfigInput['projects'][number]['clusters'];

function threeProjects(north: Simulator, west: Simulator, nf: SimFleet, wf: SimFleet, clusters: Clusters = 'all') {
  return {
    projects: [
      ...nf.projectIds().map((projectId) => ({ projectId, region: 'cn-north-4', endpoint: north.url, clusters })),
      ...wf.projectIds().map((projectId) => ({ projectId, region: 'eu-west-101', endpoint: west.url, clusters })),
    ],
    http: FAST,
  };
}

interface ClusterRow {
  cluster_id: string;
  cluster_name: string | null;
  project_id: string;
  region: string | null;
  status: string | null;
  skip_reason: string | null;
  listed: boolean;
}

async function clusterRows(pool: pg.Pool): Promise<ClusterRow[]> {
  const result = await pool.query<ClusterRow>(
    `SELECT cluster_id, cluster_name, project_id, region, status, skip_reason, last_listed_at IS NOT NULL AS listed
       FROM dws.clusters ORDER BY cluster_id`,
  );
  return result.rows;
}

function expectedRow(c: SimCluster, region: string, skipReason: string | null): ClusterRow {
  return { cluster_id: c.id, cluster_name: c.name, project_id: c.projectId, region, status: c.status, skip_reason: skipReason, listed: true };
}

async function storedPerCluster(pool: pg.Pool): Promise<Map<string, number>> {
  const result = await pool.query<{ cluster_id: string; n: number }>(
    'SELECT cluster_id, count(*)::int AS n FROM dws.logical_cluster_tasks GROUP BY cluster_id',
  );
  return new Map(result.rows.map((r) => [r.cluster_id, r.n]));
}

function taskCounts(clusters: readonly SimCluster[]): Map<string, number> {
  return new Map(clusters.filter((c) => c.tasks.length > 0).map((c) => [c.id, c.tasks.length]));
}

describe('include/exclude entries', () => {
  const cluster = { id: '9b7ff56b-47b3-4d00-a1fd-4c023d34404b', name: 'dws.sales (eu)+01', status: 'ACTIVE' };

  it('match a cluster by exact id, exact name, or a name with "*" wildcards; other characters are literal', () => {
    expect(matchesPattern(cluster.id, cluster)).toBe(true);
    expect(matchesPattern('dws.sales (eu)+01', cluster)).toBe(true);
    expect(matchesPattern('dws.sales*', cluster)).toBe(true);
    expect(matchesPattern('*(eu)+01', cluster)).toBe(true);
    expect(matchesPattern('*', cluster)).toBe(true);
    expect(matchesPattern('dws?sales*', cluster)).toBe(false);
    expect(matchesPattern('dws.sales', cluster)).toBe(false);
    expect(matchesPattern('9b7ff56b-*', cluster)).toBe(false); // wildcards apply to names, not ids
    expect(matchesPattern('*', { ...cluster, name: null })).toBe(false);
  });

  it('leave out clusters being created or deleted whatever the case of the status, and report unmatched includes', () => {
    const listed = [
      { id: 'a', name: 'one', status: 'creating' },
      { id: 'b', name: 'two', status: 'DELETING' },
      { id: 'c', name: 'three', status: 'FROZEN' },
      { id: 'd', name: 'four', status: null },
    ];
    const selection = selectClusters({ mode: 'discover', include: ['*o*', 'typo-*'], exclude: ['four'] }, listed);
    expect(selection.decisions.map((d) => [d.cluster.id, d.skipReason])).toEqual([
      ['d', 'excluded by "four"'],
      ['a', 'status CREATING'],
      ['c', 'not in "include"'],
      ['b', 'status DELETING'],
    ]);
    expect(selection.unmatched).toEqual(['typo-*']);
  });
});

describe('"clusters": "all" over three projects in two regions', () => {
  it('exports every cluster but those being created or deleted, and fills dws.clusters with names and regions', async () => {
    const { north, west, creating, deleting } = fleets();
    const db = await newDb();
    const [northSim, westSim] = [await newSim(north), await newSim(west)];
    const report = await exportOnce(db.url, threeProjects(northSim, westSim, north, west));
    expect(report.status).toBe('succeeded');
    const exported = [...north.clusters, ...west.clusters].filter((c) => c !== creating && c !== deleting);
    expect(report.clusters.map((c) => c.clusterId).sort()).toEqual(exported.map((c) => c.id).sort());
    expect(await storedPerCluster(db.pool)).toEqual(taskCounts(exported));
    // Never asked for the tasks of a cluster being created or deleted.
    expect(northSim.stats.byCluster[creating.id]).toBeUndefined();
    expect(westSim.stats.byCluster[deleting.id]).toBeUndefined();
    expect(await clusterRows(db.pool)).toEqual(
      [
        ...north.clusters.map((c) => expectedRow(c, 'cn-north-4', c === creating ? 'status CREATING' : null)),
        ...west.clusters.map((c) => expectedRow(c, 'eu-west-101', c === deleting ? 'status DELETING' : null)),
      ].sort((a, b) => (a.cluster_id < b.cluster_id ? -1 : 1)),
    );
  });

  it('selects by include/exclude patterns on names and ids, recording why the others were left out', async () => {
    const { north, west } = fleets();
    const db = await newDb();
    const [northSim, westSim] = [await newSim(north), await newSim(west)];
    const [keptByName, excludedById] = [north.clusters[0], north.clusters[2]] as [SimCluster, SimCluster];
    const prefix = keptByName.name.replace(/-\d+$/, '-*');
    const config = threeProjects(northSim, westSim, north, west, { include: [prefix, excludedById.id], exclude: [excludedById.id] });
    const report = await exportOnce(db.url, config);
    const expected = [...north.clusters, ...west.clusters].filter(
      (c) => c !== excludedById && c.status !== 'CREATING' && c.status !== 'DELETING' && c.name.startsWith(prefix.slice(0, -1)),
    );
    expect(expected).toContain(keptByName);
    expect(report.clusters.map((c) => c.clusterId).sort()).toEqual(expected.map((c) => c.id).sort());
    const rows = new Map((await clusterRows(db.pool)).map((r) => [r.cluster_id, r.skip_reason]));
    expect(rows.get(excludedById.id)).toBe(`excluded by "${excludedById.id}"`);
    const notIncluded = [...north.clusters, ...west.clusters].find((c) => !c.name.startsWith(prefix.slice(0, -1)));
    if (notIncluded) expect(rows.get(notIncluded.id)).toBe('not in "include"');
  });

  it('keeps a deleted cluster with its last sighting and adds a new one on the next run', async () => {
    const { north, west } = fleets();
    const db = await newDb();
    const [northSim, westSim] = [await newSim(north), await newSim(west)];
    await exportOnce(db.url, threeProjects(northSim, westSim, north, west));
    const gone = west.clusters[0] as SimCluster;
    const westAfter = new SimFleet([
      ...west.clusters.filter((c) => c !== gone),
      { projectId: gone.projectId, id: 'aaaaaaaa-0000-4000-8000-000000000001', name: 'dws-new-01', status: 'ACTIVE', tasks: [] },
    ]);
    const westSim2 = await newSim(westAfter);
    await exportOnce(db.url, threeProjects(northSim, westSim2, north, westAfter));
    const seen = await db.pool.query<{ cluster_id: string; latest: boolean }>(
      `SELECT cluster_id, last_seen_at = (SELECT max(last_seen_at) FROM dws.clusters) AS latest FROM dws.clusters`,
    );
    const latest = new Map(seen.rows.map((r) => [r.cluster_id, r.latest]));
    expect(latest.get(gone.id)).toBe(false);
    expect(latest.get('aaaaaaaa-0000-4000-8000-000000000001')).toBe(true);
    expect(latest.size).toBe(north.clusters.length + west.clusters.length + 1);
  });

  it('a project configured by ids is exported without listing, and keeps the names it was listed with', async () => {
    const { north, west, creating } = fleets();
    const db = await newDb();
    const [northSim, westSim] = [await newSim(north), await newSim(west)];
    await exportOnce(db.url, threeProjects(northSim, westSim, north, west));
    northSim.resetStats();
    const ids = north.clustersOf(north.projectIds()[0] ?? '').map((c) => c.id);
    await exportOnce(db.url, { projects: [{ projectId: north.projectIds()[0] ?? '', region: 'cn-north-4', endpoint: northSim.url, clusters: ids }], http: FAST });
    // No cluster list was asked for: every request went to a tasks endpoint.
    const taskRequests = Object.values(northSim.stats.byCluster).reduce((a, b) => a + b, 0);
    expect(northSim.stats.requests).toBe(taskRequests);
    const rows = await clusterRows(db.pool);
    const named = rows.filter((r) => ids.includes(r.cluster_id));
    expect(named.every((r) => r.cluster_name !== null && r.listed)).toBe(true);
    // An explicitly listed cluster is exported whatever its status: the config said so.
    expect(named.find((r) => r.cluster_id === creating.id)?.skip_reason ?? null).toBeNull();
  });
});

/** Forwards to `target`, except cluster lists, which get a 503 (an unhealthy cluster-list backend). */
async function listBreakingProxy(target: string): Promise<string> {
  const server: Server = createServer((req, res) => {
    if (/^\/v1\.0\/[^/]+\/clusters$/.test(new URL(req.url ?? '/', 'http://x').pathname)) {
      res.writeHead(503, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error_code: 'DWS.0503', error_msg: 'Service unavailable.' }));
      return;
    }
    const upstream = httpRequest(new URL(req.url ?? '/', target), { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  track(server, (s) => new Promise<void>((resolve) => {
    s.close(() => resolve());
    s.closeAllConnections();
  }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('a selection that matches no cluster', () => {
  it('is refused before any export (exit 2), naming the project and the include that matched nothing', async () => {
    const { north, west } = fleets();
    const [northSim, westSim] = [await newSim(north), await newSim(west)];
    const db = await newDb();
    const config = threeProjects(northSim, westSim, north, west, { include: ['dws-prod-*'] });
    const error = await exportOnce(db.url, config, { kind: 'token', token: TEST_TOKEN }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(exitCodeForError(error)).toBe(ExitCode.USAGE_OR_CONFIG);
    expect((error as ConfigError).message).toMatch(
      new RegExp(`^config: nothing to export: project ${north.projectIds()[0] ?? ''}: "include" \\["dws-prod-\\*"\\] matches no cluster; `),
    );
    const runs = await db.pool.query('SELECT count(*)::int AS n FROM dws.export_runs');
    expect(runs.rows).toEqual([{ n: 0 }]);
  });
});

describe('when a cluster list cannot be read', () => {
  it('the run exports the clusters the project had when last listed', async () => {
    const { north, west, creating } = fleets();
    const db = await newDb();
    const [northSim, westSim] = [await newSim(north), await newSim(west)];
    await exportOnce(db.url, threeProjects(northSim, westSim, north, west));
    const proxy = await listBreakingProxy(northSim.url);
    const config = threeProjects(northSim, westSim, north, west);
    const broken = { ...config, projects: config.projects.map((p) => (p.endpoint === northSim.url ? { ...p, endpoint: proxy } : p)) };
    const report = await exportOnce(db.url, broken);
    expect(report.status).toBe('succeeded');
    const northIds = north.clusters.filter((c) => c !== creating).map((c) => c.id);
    expect(report.clusters.filter((c) => northIds.includes(c.clusterId))).toHaveLength(northIds.length);
  });

  it('with nothing known yet, the run fails before exporting anything, naming the project', async () => {
    const { north, west } = fleets();
    const db = await newDb();
    const [northSim, westSim] = [await newSim(north), await newSim(west)];
    const proxy = await listBreakingProxy(northSim.url);
    const config = threeProjects(northSim, westSim, north, west);
    const broken = { ...config, projects: config.projects.map((p) => (p.endpoint === northSim.url ? { ...p, endpoint: proxy } : p)) };
    const error = await exportOnce(db.url, broken).catch((e: unknown) => e as Error);
    expect(error).toMatchObject({ code: 'DWS_API_ERROR' });
    expect(exitCodeForError(error)).toBe(ExitCode.FAILED);
    expect((error as Error).message).toMatch(/^cannot list the clusters of project \w+ \(cn-north-4, http:\/\/127\.0\.0\.1:\d+\): DWS API 503 DWS\.0503/);
    const runs = await db.pool.query('SELECT count(*)::int AS n FROM dws.export_runs');
    expect(runs.rows[0]).toEqual({ n: 0 });
  });
});

describe('dws-task-exporter discover', () => {
  async function discover(
    config: unknown,
    vars: Record<string, string>,
    output: 'text' | 'json' = 'text',
  ): Promise<{ code: number; output: string }> {
    const path = join(workDir, `config-${Math.random().toString(16).slice(2)}.json`);
    await writeFile(path, JSON.stringify(config));
    const lines: string[] = [];
    const code = await discoverCommand({ configPath: path, output }, (line) => lines.push(line), { LOG_LEVEL: 'silent', ...vars });
    return { code, output: lines.join('\n') };
  }

  it('prints projects, regions, clusters with status and what a run would do, and never touches the database', async () => {
    const { north, west, creating, deleting } = fleets();
    const [northSim, westSim] = [await newSim(north), await newSim(west)];
    const db = await createTestDatabase({ migrated: false });
    track(db, (d) => d.drop());
    const config = threeProjects(northSim, westSim, north, west);
    const wrongId = 'bbbbbbbb-0000-4000-8000-00000000000b';
    const withIds = {
      ...config,
      projects: [
        ...config.projects,
        { projectId: 'c'.repeat(32), endpoint: westSim.url, clusters: [wrongId] },
      ],
    };
    const { code, output } = await discover(withIds, { DWS_AUTH_TOKEN: TEST_TOKEN, DATABASE_URL: db.url });
    expect(code).toBe(ExitCode.FAILED); // the fourth project does not exist in the simulator: its list is a 404
    expect(output).toContain('Credentials: IAM token from DWS_AUTH_TOKEN.');
    for (const c of [...north.clusters, ...west.clusters]) expect(output).toContain(c.name);
    expect(output).toMatch(new RegExp(`${creating.id}\\s+${creating.name}\\s+CREATING\\s+skip: status CREATING`));
    expect(output).toMatch(new RegExp(`${deleting.id}\\s+${deleting.name}\\s+DELETING\\s+skip: status DELETING`));
    expect(output).toMatch(new RegExp(`Project ${west.projectIds()[0] ?? ''}, region eu-west-101, ${westSim.url}: clusters "all"`));
    expect(output).toMatch(/4 projects in 3 regions: 13 clusters to export, 2 skipped, 1 project whose cluster list could not be read\. Nothing was written to the database\./);
    expect(output).toContain('a run exports the configured ids without listing them');
    const schema = await db.pool.query("SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'dws'");
    expect(schema.rows[0]).toEqual({ n: 0 });
  });

  it('exits 2 when a configured cluster id is not in its project, naming it, and lists the project\'s real clusters', async () => {
    const { north } = fleets();
    const northSim = await newSim(north);
    const projectId = north.projectIds()[0] ?? '';
    const real = north.clustersOf(projectId)[0]?.id ?? '';
    const typo = 'bbbbbbbb-0000-4000-8000-00000000000b';
    const config = { projects: [{ projectId, region: 'cn-north-4', endpoint: northSim.url, clusters: [real, typo] }], http: FAST };
    const { code, output } = await discover(config, { DWS_AUTH_TOKEN: TEST_TOKEN });
    expect(code, output).toBe(ExitCode.USAGE_OR_CONFIG);
    expect(output).toContain(`cluster ${typo} is configured but not in the project's cluster list`);
    for (const c of north.clustersOf(projectId)) expect(output).toContain(c.id);
  });

  it('with --output json prints one document with every project, cluster and decision, and the same exit code', async () => {
    const { north, west, creating } = fleets();
    const [northSim, westSim] = [await newSim(north), await newSim(west)];
    const typo = 'bbbbbbbb-0000-4000-8000-00000000000b';
    const westProject = west.projectIds()[0] ?? '';
    const westCluster = west.clustersOf(westProject)[0]?.id ?? '';
    const config = {
      projects: [
        ...north.projectIds().map((projectId) => ({ projectId, region: 'cn-north-4', endpoint: northSim.url, clusters: 'all' })),
        { projectId: westProject, region: 'eu-west-101', endpoint: westSim.url, clusters: [westCluster, typo] },
      ],
      http: FAST,
    };
    const { code, output } = await discover(config, { DWS_AUTH_TOKEN: TEST_TOKEN }, 'json');
    expect(code).toBe(ExitCode.USAGE_OR_CONFIG);
    const document = JSON.parse(output) as {
      exitCode: number;
      projects: { projectId: string; missingIds: string[]; clusters: { id: string; export: boolean; skipReason: string | null }[] }[];
      totals: { projects: number; clustersToExport: number; clustersSkipped: number; missingIds: number };
    };
    expect(document.exitCode).toBe(ExitCode.USAGE_OR_CONFIG);
    expect(document.totals).toEqual({ projects: 3, regions: 2, clustersToExport: 11, clustersSkipped: 1, projectsFailed: 0, missingIds: 1 });
    const clusters = document.projects.flatMap((p) => p.clusters);
    expect(clusters.find((c) => c.id === creating.id)).toMatchObject({ export: false, skipReason: 'status CREATING' });
    expect(document.projects[2]?.missingIds).toEqual([typo]);
  });

  it('with refused credentials, sends at most two requests and exits 6', async () => {
    const { north, west } = fleets();
    const [northSim, westSim] = [await newSim(north), await newSim(west)];
    const { code, output } = await discover(threeProjects(northSim, westSim, north, west), { DWS_AUTH_TOKEN: 'wrong-token' });
    expect(code).toBe(ExitCode.AUTH);
    expect(northSim.stats.requests + westSim.stats.requests).toBeLessThanOrEqual(2);
    expect(output).toContain('not sent: the API already refused the IAM token');
    expect(output).not.toContain('wrong-token');
  });
});
