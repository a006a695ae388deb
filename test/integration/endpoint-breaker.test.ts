/**
 * A dead endpoint must not hold the night hostage: real unreachable
 * endpoints (a port nothing listens on, a `.invalid` host that DNS cannot
 * resolve, a TCP server that accepts and resets), the DWS API simulator as
 * the healthy endpoint and as a gateway answering only 503, a real
 * PostgreSQL. Connection attempts are counted from undici's diagnostics
 * channel (in this process) and by the resetting server itself.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.js';
import type { RunReport } from '../../src/export/run-export.js';
import { EndpointUnreachableError } from '../../src/core/errors.js';
import type { ClusterRef } from '../../src/plan/cluster-ref.js';
import { formatRunSummary } from '../../src/report/summary.js';
import { createAuthorizer } from '../../src/source/auth/authorizer.js';
import { createDwsClient, type DwsClient } from '../../src/source/dws-client.js';
import { EndpointBreaker, PROBES_BEFORE_REFUSING } from '../../src/source/endpoint-breaker.js';
import { createHttpClient } from '../../src/source/http-client.js';
import { SimFleet, startSimulator, type Simulator } from '../../src/simulator/index.js';
import { once as memo } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { clusterId, projectId } from '../support/ids.js';
import { TEST_TOKEN, captureLogger, exportOnce, fleetConfig, fleetTasks, storedTasks, type LogLine } from '../support/exporter.js';

const DEAD_CLUSTERS = 60;
const clusterIds = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => clusterId(`${prefix}-${i}`));

/**
 * A TCP server that accepts connections and resets them; with `forwardTo`
 * set, connections after the first `resetFirst` are forwarded there instead.
 */
class ResettingServer {
  connections = 0;
  resets = 0;
  forwardTo: number | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly server: Server = createServer((socket) => {
    this.connections += 1;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    if (this.forwardTo === null || this.resets < this.resetFirst) {
      this.resets += 1;
      socket.resetAndDestroy();
      return;
    }
    const upstream = connect(this.forwardTo, '127.0.0.1');
    this.sockets.add(upstream);
    upstream.on('close', () => this.sockets.delete(upstream));
    upstream.on('error', () => socket.destroy());
    socket.pipe(upstream).pipe(socket);
  });

  constructor(private readonly resetFirst = 0) {}

  async start(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A port nothing listens on: bound once by the OS, then released. */
async function refusingPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Connection attempts by host:port, as undici starts them (DNS failures included). */
function countConnectAttempts(): { readonly attempts: Map<string, number>; stop(): void } {
  const attempts = new Map<string, number>();
  const onConnect = (message: unknown): void => {
    const { connectParams } = message as { connectParams: { hostname: string; port: string; protocol: string } };
    const key = `${connectParams.hostname}:${connectParams.port || (connectParams.protocol === 'https:' ? '443' : '80')}`;
    attempts.set(key, (attempts.get(key) ?? 0) + 1);
  };
  subscribe('undici:client:beforeConnect', onConnect);
  return { attempts, stop: () => unsubscribe('undici:client:beforeConnect', onConnect) };
}

interface LedgerRow {
  readonly project_id: string;
  readonly status: string;
  readonly error_code: string | null;
  readonly error_message: string | null;
}

async function ledgerRows(db: TestDatabase, runId: number): Promise<LedgerRow[]> {
  const result = await db.pool.query<LedgerRow>(
    'SELECT project_id, status, error_code, error_message FROM dws.export_cluster_runs WHERE run_id = $1',
    [runId],
  );
  return result.rows;
}

describe('dead endpoints next to a healthy one, with default settings', () => {
  const healthy = SimFleet.generate({ seed: 61, projects: 1, clustersPerProject: 20, minTasks: 5, maxTasks: 150 });
  const reset = new ResettingServer();
  let simulator: Simulator;
  let db: TestDatabase;
  const endpoints = { refused: '', dns: 'https://dws.cn-nowhere-1.invalid', reset: '' };

  const scenario = memo(async () => {
    const counter = countConnectAttempts();
    const { lines, logger } = captureLogger();
    try {
      // Only endpoints, projects and clusters: every other setting is the default.
      const config: ConfigInput = {
        projects: [
          { projectId: projectId('p-refused'), endpoint: endpoints.refused, clusters: clusterIds('refused', DEAD_CLUSTERS) },
          ...healthy.projectIds().map((projectId) => ({ projectId, endpoint: simulator.url, clusters: healthy.clustersOf(projectId).map((c) => c.id) })),
          { projectId: projectId('p-dns'), endpoint: endpoints.dns, clusters: clusterIds('dns', DEAD_CLUSTERS) },
          { projectId: projectId('p-reset'), endpoint: endpoints.reset, clusters: clusterIds('reset', DEAD_CLUSTERS) },
        ],
      };
      const report = await exportOnce(db.url, config, undefined, undefined, { logger });
      return { report, lines, attempts: new Map(counter.attempts), rows: await ledgerRows(db, report.runId) };
    } finally {
      counter.stop();
    }
  });

  beforeAll(async () => {
    db = await createTestDatabase();
    simulator = await startSimulator({ fleet: healthy, auth: { token: TEST_TOKEN } });
    endpoints.refused = `http://127.0.0.1:${await refusingPort()}`;
    endpoints.reset = await reset.start();
  });
  afterAll(async () => {
    await reset.stop();
    await simulator?.close();
    await db?.drop();
  });

  it('exports the healthy clusters exactly and exits 3 (partial)', async () => {
    const { report } = await scenario();
    expect(report.status).toBe('partial');
    expect(report.exitCode).toBe(3);
    expect(await storedTasks(db.pool)).toEqual(fleetTasks(healthy));
    expect(report.clusters.filter((c) => c.endpoint === simulator.url).every((c) => c.status === 'succeeded')).toBe(true);
  });

  it('costs each dead endpoint a handful of connection attempts, not 60 clusters × 5 attempts', async () => {
    const { attempts } = await scenario();
    const refused = new URL(endpoints.refused);
    // At most `concurrency` (8) clusters of an endpoint are in flight when it
    // opens: two attempts each, the two clusters counted first may have
    // retried up to 5 times, then PROBES_BEFORE_REFUSING probes of two attempts.
    const bound = 8 * 2 + 2 * 3 + 2 * PROBES_BEFORE_REFUSING;
    expect(attempts.get(`${refused.hostname}:${refused.port}`)).toBeLessThanOrEqual(bound);
    expect(attempts.get('dws.cn-nowhere-1.invalid:443')).toBeLessThanOrEqual(bound);
    expect(reset.connections).toBeGreaterThan(0);
    expect(reset.connections).toBeLessThanOrEqual(bound);
  });

  it('records every cluster of a dead endpoint as failed, naming the endpoint and its last error', async () => {
    const { rows } = await scenario();
    const expected: Record<string, [string, RegExp]> = {
      [projectId('p-refused')]: [endpoints.refused, /ECONNREFUSED/],
      [projectId('p-dns')]: [endpoints.dns, /ENOTFOUND/],
      [projectId('p-reset')]: [endpoints.reset, /ECONNRESET|UND_ERR_SOCKET/],
    };
    for (const [project, [endpoint, lastError]] of Object.entries(expected)) {
      const own = rows.filter((r) => r.project_id === project);
      expect(own, project).toHaveLength(DEAD_CLUSTERS);
      expect(own.every((r) => r.status === 'failed'), project).toBe(true);
      for (const row of own) {
        expect(row.error_code).toBe('DWS_ENDPOINT_UNREACHABLE');
        expect(row.error_message).toContain(`endpoint ${endpoint} unreachable`);
        expect(row.error_message).toMatch(lastError);
      }
    }
  });

  it('says it once per endpoint, in the summary and in the log', async () => {
    const { report, lines } = await scenario();
    expect(report.endpoints).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ endpoint: simulator.url, unreachable: false, clustersNotExported: 0, clusters: 20 }),
        ...[endpoints.refused, endpoints.dns, endpoints.reset].map((endpoint) =>
          expect.objectContaining({ endpoint, unreachable: true, clustersNotExported: DEAD_CLUSTERS, clusters: DEAD_CLUSTERS }),
        ),
      ]),
    );
    const text = formatRunSummary(report);
    for (const endpoint of [endpoints.refused, endpoints.dns, endpoints.reset]) {
      const mentions = text.split('\n').filter((line) => line.includes(endpoint));
      expect(mentions, text).toHaveLength(1);
      expect(mentions[0]).toMatch(new RegExp(`^  Endpoint ${endpoint.replace(/[.]/g, '\\.')} unreachable \\(last error: .+\\): 60 clusters not exported\\.$`));
    }
    expect(text).not.toMatch(/p-(refused|dns|reset)\//);
    const loud = (line: LogLine): boolean => line.level === 'error' || line.level === 'warn';
    for (const endpoint of [endpoints.refused, endpoints.dns, endpoints.reset]) {
      const about = lines.filter((line) => loud(line) && JSON.stringify(line).includes(endpoint));
      // Opened (held), still unreachable after the probe, and the run's closing line.
      expect(about.length, JSON.stringify(about, null, 1)).toBeLessThanOrEqual(5);
    }
    expect(lines.filter((line) => line.level === 'error' && line.msg === 'cluster failed')).toEqual([]);
  });
});

describe('clusters held by an open endpoint', () => {
  it('give back their fetch slots: another endpoint\'s clusters are exported while the dead one is still being probed', async () => {
    const db = await createTestDatabase();
    const healthy = SimFleet.generate({ seed: 79, projects: 1, clustersPerProject: 6, minTasks: 5, maxTasks: 40 });
    const simulator = await startSimulator({ fleet: healthy, auth: { token: TEST_TOKEN } });
    try {
      const { lines, logger } = captureLogger();
      // Two slots, both taken first by the dead endpoint's clusters.
      const config: ConfigInput = {
        ...fleetConfig(simulator, healthy, { concurrency: 2 }),
        projects: [
          { projectId: projectId('p-held'), endpoint: `http://127.0.0.1:${await refusingPort()}`, clusters: clusterIds('held', 2) },
          ...healthy.projectIds().map((id) => ({ projectId: id, clusters: healthy.clustersOf(id).map((c) => c.id) })),
        ],
      };
      const report = await exportOnce(db.url, config, undefined, undefined, { logger });
      expect(report.status).toBe('partial');
      expect(await storedTasks(db.pool)).toEqual(fleetTasks(healthy));
      const givenUp = lines.findIndex((l) => l.msg.startsWith('endpoint still unreachable after'));
      const exported = lines.flatMap((l, i) => (l.msg === 'cluster exported' ? [i] : []));
      expect(givenUp).toBeGreaterThan(0);
      expect(exported).toHaveLength(6);
      // Every healthy cluster finished while the dead endpoint's clusters were held, not after.
      expect(Math.max(...exported)).toBeLessThan(givenUp);
    } finally {
      await simulator.close();
      await db.drop();
    }
  });
});

describe('a gateway that answers only 503', () => {
  it('stops calling the endpoint after a few clusters instead of spending every retry on every cluster', async () => {
    const db = await createTestDatabase();
    const fleet = SimFleet.generate({ seed: 67, projects: 1, clustersPerProject: 40, minTasks: 1, maxTasks: 30 });
    const simulator = await startSimulator({ fleet, auth: { token: TEST_TOKEN }, faults: { every: { n: 1, status: 503 } } });
    try {
      const report = await exportOnce(db.url, fleetConfig(simulator, fleet));
      expect(report.status).toBe('failed');
      expect(report.exitCode).toBe(4);
      // Without the breaker: 40 clusters × 5 attempts. With it: at most the 8
      // clusters in flight, 5 attempts each, and the probes (two attempts each).
      expect(simulator.stats.requests).toBeLessThanOrEqual(8 * 5 + 2 * PROBES_BEFORE_REFUSING);
      expect(report.endpoints).toEqual([
        expect.objectContaining({ endpoint: simulator.url, unreachable: true, clustersNotExported: 40, lastError: expect.stringContaining('HTTP 503') }),
      ]);
      const codes = report.clusters.map((c) => c.error?.code);
      // The two clusters whose 503s were counted before the third opened the endpoint keep their API error.
      expect(codes.filter((code) => code === 'DWS_ENDPOINT_UNREACHABLE').length).toBeGreaterThanOrEqual(40 - 2);
    } finally {
      await simulator.close();
      await db.drop();
    }
  });
});

describe('a blip', () => {
  const fleet = SimFleet.generate({ seed: 71, projects: 1, clustersPerProject: 12, minTasks: 20, maxTasks: 200 });
  let simulator: Simulator;

  beforeAll(async () => {
    simulator = await startSimulator({ fleet, pageSizeCap: 50, auth: { token: TEST_TOKEN } });
  });
  afterAll(async () => {
    await simulator.close();
  });

  /** The fleet exported through `front`, four clusters at a time; what was stored, and the log. */
  async function exportThrough(front: ResettingServer, onLine?: (line: LogLine) => void): Promise<{ report: RunReport; lines: LogLine[]; stored: string[] }> {
    const db = await createTestDatabase();
    const url = await front.start();
    try {
      const { lines, logger } = captureLogger(onLine);
      const config: ConfigInput = { ...fleetConfig(simulator, fleet, { concurrency: 4 }), endpoint: url };
      const report = await exportOnce(db.url, config, undefined, undefined, { logger });
      return { report, lines, stored: await storedTasks(db.pool) };
    } finally {
      await front.stop();
      await db.drop();
    }
  }

  it('resets that one retry cures never open the breaker: nothing is lost', async () => {
    // The first attempts of the first four clusters are reset; their retries get through.
    const front = new ResettingServer(4);
    front.forwardTo = Number(new URL(simulator.url).port);
    const { report, lines, stored } = await exportThrough(front);
    expect(front.resets).toBe(4);
    expect(report.status).toBe('succeeded');
    expect(report.totals.apiRetries).toBeGreaterThanOrEqual(4);
    expect(lines.some((l) => l.msg.startsWith('endpoint failing'))).toBe(false);
    expect(stored).toEqual(fleetTasks(fleet));
  });

  it('a blip that opens the breaker costs nothing: after the pause the probe succeeds, the breaker closes, held requests go on', async () => {
    const front = new ResettingServer();
    // Every connection is reset until the breaker opens; from then on the endpoint is back.
    const { report, lines, stored } = await exportThrough(front, (line) => {
      if (line.msg.startsWith('endpoint failing')) front.forwardTo = Number(new URL(simulator.url).port);
    });
    expect(front.resets).toBeGreaterThan(0);
    expect(lines.filter((l) => l.msg.startsWith('endpoint failing'))).toHaveLength(1);
    expect(lines.filter((l) => l.msg.startsWith('endpoint reachable again'))).toHaveLength(1);
    expect(report.status).toBe('succeeded');
    expect(report.exitCode).toBe(0);
    expect(report.endpoints).toEqual([expect.objectContaining({ unreachable: false, clustersNotExported: 0 })]);
    expect(stored).toEqual(fleetTasks(fleet));
  });

  it('a blip that outlasts the first probe costs nothing: its requests stay held through the doubled pause and a later probe gets through', async () => {
    const front = new ResettingServer();
    // Every connection is reset until a probe has failed; then the endpoint is back.
    const { report, lines, stored } = await exportThrough(front, (line) => {
      if (line.msg.includes('after a probe')) front.forwardTo = Number(new URL(simulator.url).port);
    });
    expect(lines.filter((l) => l.msg.includes('after a probe'))).toHaveLength(1);
    expect(lines.filter((l) => l.msg.startsWith('endpoint reachable again'))).toHaveLength(1);
    expect(report.status).toBe('succeeded');
    expect(report.exitCode).toBe(0);
    expect(report.endpoints).toEqual([expect.objectContaining({ unreachable: false, clustersNotExported: 0 })]);
    expect(stored).toEqual(fleetTasks(fleet));
  });
});

describe('the probe', () => {
  const fleet = SimFleet.generate({ seed: 73, projects: 1, clustersPerProject: 1, minTasks: 5, maxTasks: 20 });
  const cluster = fleet.clusters[0];
  if (cluster === undefined) throw new Error('fixture too small');
  const { projectId: project, id } = cluster;
  const closers: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
  });

  /** A DWS client whose breaker (short pauses) has opened on `endpoint`: its next request is the probe. */
  async function clientWithOpenBreaker(endpoint: string): Promise<{ client: DwsClient; breaker: EndpointBreaker; ref: ClusterRef }> {
    const http = createHttpClient({ connections: 2, timeoutMs: 5000, maxRequestsPerSecond: 1000, maxInFlight: 4, retry: { maxRetries: 4, minDelayMs: 5, maxDelayMs: 20 } });
    const authorizer = createAuthorizer({ kind: 'token', token: TEST_TOKEN });
    closers.push(() => http.close(), () => authorizer.close());
    const breaker = new EndpointBreaker({ firstPauseMs: 20, maxPauseMs: 80 });
    for (const other of ['a', 'b', 'c']) {
      const call = { projectId: project, clusterId: other, path: '/' };
      const permit = await breaker.admit(endpoint, call);
      breaker.strike(permit, other, 'ECONNRESET');
      breaker.settle(permit, false);
    }
    expect(breaker.isOpen(endpoint)).toBe(true);
    return { client: createDwsClient(http, authorizer, { endpoints: breaker }), breaker, ref: { endpoint, projectId: project, clusterId: id } };
  }
  const query = { offset: 0, limit: 100, orderBy: null, logicalClusterName: null, type: null };

  it('a probe whose first connection is reset goes once more: its success closes the endpoint', async () => {
    const simulator = await startSimulator({ fleet, auth: { token: TEST_TOKEN } });
    const front = new ResettingServer(1);
    front.forwardTo = Number(new URL(simulator.url).port);
    closers.push(() => simulator.close(), () => front.stop());
    const { client, breaker, ref } = await clientWithOpenBreaker(await front.start());
    const stats = { requests: 0, retries: 0 };
    const page = await client.listTasksPage(ref, query, stats);
    expect(page.tasks).toHaveLength(cluster.tasks.length);
    expect(front.resets).toBe(1);
    expect(stats).toEqual({ requests: 2, retries: 1 });
    expect(breaker.isOpen(ref.endpoint)).toBe(false);
  });

  it('a probe answered 503 fails after its one retry, not after every retry; PROBES_BEFORE_REFUSING such probes and the endpoint refuses', async () => {
    const simulator = await startSimulator({ fleet, auth: { token: TEST_TOKEN }, faults: { every: { n: 1, status: 503 } } });
    closers.push(() => simulator.close());
    const { client, ref } = await clientWithOpenBreaker(simulator.url);
    const failure = await client.listTasksPage(ref, query, { requests: 0, retries: 0 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(EndpointUnreachableError);
    expect((failure as Error).message).toContain('HTTP 503');
    expect(simulator.stats.requests).toBe(2 * PROBES_BEFORE_REFUSING);
  });
});
