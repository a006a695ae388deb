/**
 * The DWS API simulator's HTTP server: loopback, the two endpoints the
 * exporter uses with the documented ambiguities, gateway auth and injectable
 * faults, fast enough for the benchmark. Routing and lifecycle here; answers
 * in endpoints.ts, reply shapes in replies.ts.
 */
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { listClusters, listTasks, type TasksContext } from './endpoints.js';
import { FaultInjector, type FaultCounters } from './faults.js';
import { authenticate } from './gateway-auth.js';
import { dwsError, gatewayError, type Reply } from './replies.js';
import { validateOptions, type SimulatorOptions } from './simulator-options.js';
import { TaskViews } from './task-views.js';

export type { SimulatorOptions } from './simulator-options.js';

export interface SimulatorStats {
  requests: number;
  inFlight: number;
  maxInFlight: number;
  /** Keyed by HTTP status, e.g. `"200"`. */
  readonly byStatus: Record<string, number>;
  /** Tasks-endpoint requests, keyed by the cluster id in the path (known or not). */
  readonly byCluster: Record<string, number>;
}

export interface Simulator {
  /** `http://127.0.0.1:<port>` (`https://` with `tls`), no trailing slash. */
  readonly url: string;
  /** Live counters, mutated in place. */
  readonly stats: SimulatorStats;
  /** What the fault injector did; undefined without `faults`. */
  readonly faults: FaultCounters | undefined;
  resetStats(): void;
  close(): Promise<void>;
  readonly options: SimulatorOptions;
}

const TASKS_ROUTE = /^\/v2\/([^/]+)\/clusters\/([^/]+)\/logical-clusters\/tasks$/;
const CLUSTERS_ROUTE = /^\/v1\.0\/([^/]+)\/clusters$/;
const NO_SUCH_API = 'The API does not exist or has not been published in the environment.';

function emptyRecord(): Record<string, number> {
  // No prototype: a cluster id taken from the path could be "__proto__".
  return Object.create(null) as Record<string, number>;
}

function increment(record: Record<string, number>, key: string): void {
  record[key] = (record[key] ?? 0) + 1;
}

interface Context extends TasksContext {
  readonly stats: SimulatorStats;
}

function route(ctx: Context, req: IncomingMessage, requestId: string): Reply {
  let url: URL;
  try {
    url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
  } catch {
    return dwsError(400, 'DWS.0001', 'Malformed request URL.');
  }
  const tasks = TASKS_ROUTE.exec(url.pathname);
  const list = tasks ? null : CLUSTERS_ROUTE.exec(url.pathname);
  const projectId = tasks?.[1] ?? list?.[1];
  if (projectId === undefined) {
    return gatewayError(404, 'APIG.0101', NO_SUCH_API, requestId);
  }
  const clusterId = tasks?.[2];
  if (clusterId !== undefined) increment(ctx.stats.byCluster, clusterId);
  if (req.method !== 'GET') {
    const msg = `Method ${req.method ?? ''} is not allowed for this API.`;
    return { ...gatewayError(405, 'APIG.0101', msg, requestId), headers: { Allow: 'GET' } };
  }
  const denied = authenticate(ctx.options, req, url, projectId);
  if (denied !== undefined) {
    const msg = `Incorrect IAM authentication information: ${denied}`;
    return gatewayError(401, 'APIG.0301', msg, requestId);
  }
  const fleet = ctx.options.fleet;
  if (clusterId === undefined) {
    const clusters = fleet.clustersOf(projectId);
    if (clusters.length === 0) return dwsError(404, 'DWS.0015', 'The project does not exist.');
    return listClusters(clusters);
  }
  const cluster = fleet.cluster(projectId, clusterId);
  if (!cluster) return dwsError(404, 'DWS.0015', 'The cluster does not exist.');
  return listTasks(ctx, cluster, url.searchParams, requestId);
}

function send(res: ServerResponse, reply: Reply, requestId: string, stats: SimulatorStats): void {
  if (res.destroyed) return;
  if (reply.reset) {
    increment(stats.byStatus, 'reset');
    res.socket?.destroy();
    return;
  }
  increment(stats.byStatus, String(reply.status));
  res.writeHead(reply.status, {
    'Content-Type': reply.contentType ?? 'application/json',
    'Content-Length': Buffer.byteLength(reply.body),
    'X-Request-Id': requestId,
    ...reply.headers,
  });
  res.end(reply.body);
}

export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  validateOptions(options);
  const stats: SimulatorStats = {
    requests: 0,
    inFlight: 0,
    maxInFlight: 0,
    byStatus: emptyRecord(),
    byCluster: emptyRecord(),
  };
  const injector = options.faults ? new FaultInjector(options.faults) : undefined;
  const ctx: Context = { options, views: new TaskViews(options.fleet), stats, injector };
  const shutdown = new AbortController();
  // Every request waiting out its latency listens on it.
  setMaxListeners(0, shutdown.signal);
  // Random prefix + counter: unique per request and across simulators, without crypto per request.
  const idPrefix = randomBytes(8).toString('hex');
  let counter = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = idPrefix + (counter++).toString(16).padStart(16, '0');
    stats.requests++;
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    res.once('close', () => stats.inFlight--);
    try {
      const delay = (options.latencyMs ?? 0) + (injector?.delayMs() ?? 0);
      if (delay > 0) await sleep(delay, undefined, { signal: shutdown.signal });
      send(res, route(ctx, req, requestId), requestId, stats);
    } catch (error) {
      if (shutdown.signal.aborted) res.destroy();
      else if (!res.headersSent) {
        send(res, dwsError(500, 'DWS.0000', `Simulator error: ${String(error)}`), requestId, stats);
      }
    }
  };

  const listener = (req: IncomingMessage, res: ServerResponse): void => void handle(req, res);
  const server = options.tls ? createTlsServer({ key: options.tls.key, cert: options.tls.cert }, listener) : createServer(listener);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;

  return {
    url: `${options.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`,
    stats,
    options,
    faults: injector?.counters,
    resetStats(): void {
      stats.requests = 0;
      stats.maxInFlight = stats.inFlight;
      for (const key of Object.keys(stats.byStatus)) delete stats.byStatus[key];
      for (const key of Object.keys(stats.byCluster)) delete stats.byCluster[key];
    },
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve, reject) => {
        shutdown.abort();
        server.close((err) => (err ? reject(err) : resolve()));
        // Idle keep-alive sockets would otherwise hold the process (and the test run) open.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
