/**
 * The DWS API simulator: a real HTTP server on loopback that answers the two
 * endpoints the exporter uses, with the documented ambiguities (offset as rows
 * or pages, silent page-size cap), gateway auth and injectable faults. It is
 * part of the product: demo, integration tests and benchmark all run against
 * it, so it is built for thousands of requests per second (sorted views are
 * cached per cluster, latency is a timer, keep-alive stays on).
 */
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { verifySignature } from '../source/auth/signer.js';
import { FaultInjector, type FaultCounters, type FaultSpec } from './faults.js';
import type { SimCluster, SimFleet, SimTask } from './fleet.js';
import type { SimIdentities } from './identity.js';

export interface SimulatorOptions {
  readonly fleet: SimFleet;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: an ephemeral port, read it back from `url`. */
  readonly port?: number;
  /**
   * 'pages' (default, the documented "page number minus 1"): first row = offset * limit.
   * 'rows': offset = rows to skip.
   */
  readonly offsetMode?: 'rows' | 'pages';
  /** Silently caps `limit`, as real servers may. Default: no cap. */
  readonly pageSizeCap?: number;
  /** Added before answering each request. Default 0. */
  readonly latencyMs?: number;
  /** Injected faults on the tasks endpoint (src/simulator/faults.ts). */
  readonly faults?: FaultSpec;
  /** Absent, or with neither field: every request is accepted. */
  readonly auth?: {
    readonly token?: string;
    readonly credentials?: { readonly accessKey: string; readonly secretKey: string };
    /**
     * The simulated cloud's keys and tokens (issued by the IAM and metadata
     * simulators, or added by a test), with its clock. When set, it alone
     * decides: `token` and `credentials` are ignored.
     */
    readonly identities?: SimIdentities;
  };
}

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
  /** `http://127.0.0.1:<port>`, no trailing slash. */
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
const CLUSTER_VERSION = '8.1.3.320';
const FALLBACK_CREATED = '2023-06-01T00:00:00Z';
/** What a misbehaving proxy in front of the API might return with a 200. */
const MALFORMED_BODY = '<html><body><h1>502 Bad Gateway</h1></body></html>';
const NO_SUCH_API = 'The API does not exist or has not been published in the environment.';
/** Java int range: what the real (Java) service would parse. */
const MAX_INT = 2_147_483_647;

interface Reply {
  readonly status: number;
  readonly body: string;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Destroy the connection instead of answering (injected fault). */
  readonly reset?: boolean;
}

function json(status: number, value: unknown): Reply {
  return { status, body: JSON.stringify(value) };
}

function dwsError(status: number, code: string, msg: string): Reply {
  return json(status, { error_code: code, error_msg: msg });
}

function badRequest(problem: string): Reply {
  return dwsError(400, 'DWS.0001', `Invalid parameter: ${problem}.`);
}

/** API gateway errors carry the request id in the body too. */
function gatewayError(status: number, code: string, msg: string, requestId: string): Reply {
  return json(status, { error_code: code, error_msg: msg, request_id: requestId });
}

function emptyRecord(): Record<string, number> {
  // No prototype: a cluster id taken from the path could be "__proto__".
  return Object.create(null) as Record<string, number>;
}

function increment(record: Record<string, number>, key: string): void {
  record[key] = (record[key] ?? 0) + 1;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** undefined → default; anything but a plain integer in [min, MAX_INT] → null. */
function intParam(raw: string | null, fallback: number, min: number): number | null {
  if (raw === null) return fallback;
  if (!/^\d{1,10}$/.test(raw)) return null;
  const value = Number(raw);
  return value >= min && value <= MAX_INT ? value : null;
}

function compareText(x: string | null, y: string | null): number {
  const a = x ?? '';
  const b = y ?? '';
  return a === b ? 0 : a < b ? -1 : 1;
}

/** ASC: start_time, then logical_cluster_name, then type (nulls sort as ""). */
function compareAsc(a: SimTask, b: SimTask): number {
  return (
    compareText(a.start_time, b.start_time) ||
    compareText(a.logical_cluster_name, b.logical_cluster_name) ||
    compareText(a.type, b.type)
  );
}

/** An exact-match query filter; null when the parameter is absent. */
type Filter = string | null;

interface CachedViews {
  readonly revision: number;
  readonly length: number;
  readonly views: Map<string, readonly SimTask[]>;
}

/**
 * Filtered and sorted task lists per cluster, built on first use. Stale when
 * the fleet's revision or the task count changes (addTask, finishRunningTask).
 */
class TaskViews {
  private readonly cache = new WeakMap<SimCluster, CachedViews>();
  constructor(private readonly fleet: SimFleet) {}

  get(cluster: SimCluster, lc: Filter, type: Filter, sorted: boolean): readonly SimTask[] {
    if (lc === null && type === null && !sorted) return cluster.tasks;
    const revision = this.fleet.revisionOf(cluster);
    const length = cluster.tasks.length;
    let entry = this.cache.get(cluster);
    // Bounded so arbitrary filter values cannot grow memory without limit.
    if (!entry || entry.revision !== revision || entry.length !== length || entry.views.size > 64) {
      entry = { revision, length, views: new Map() };
      this.cache.set(cluster, entry);
    }
    const key = JSON.stringify([lc, type, sorted]);
    let view = entry.views.get(key);
    if (!view) {
      if (lc === null && type === null) {
        view = [...cluster.tasks].sort(compareAsc);
      } else {
        // Filtering the stably sorted list equals sorting the filtered one, and reuses the sort.
        const base = sorted ? this.get(cluster, null, null, true) : cluster.tasks;
        view = base.filter(
          (t) =>
            (lc === null || t.logical_cluster_name === lc) && (type === null || t.type === type),
        );
      }
      entry.views.set(key, view);
    }
    return view;
  }
}

interface Context {
  readonly options: SimulatorOptions;
  readonly views: TaskViews;
  readonly stats: SimulatorStats;
  readonly injector: FaultInjector | undefined;
}

/** Returns the failure reason, or undefined when the request may proceed. */
function authenticate(
  options: SimulatorOptions,
  req: IncomingMessage,
  url: URL,
  projectId: string,
): string | undefined {
  const auth = options.auth;
  if (auth?.identities) return auth.identities.authenticate(req, url, projectId);
  if (!auth || (auth.token === undefined && auth.credentials === undefined)) return undefined;
  const token = single(req.headers['x-auth-token']);
  if (auth.token !== undefined && token !== undefined) {
    return token === auth.token ? undefined : 'the token is invalid or expired';
  }
  const creds = auth.credentials;
  if (creds && req.headers.authorization !== undefined) {
    const verdict = verifySignature(
      { method: req.method ?? 'GET', url, headers: req.headers },
      (ak) => (ak === creds.accessKey ? creds.secretKey : undefined),
      new Date(),
    );
    if (!verdict.ok) return verdict.reason;
    return single(req.headers['x-project-id']) === projectId
      ? undefined
      : 'X-Project-Id does not match the project in the path';
  }
  return 'no credentials were provided';
}

function listTasks(
  ctx: Context,
  cluster: SimCluster,
  params: URLSearchParams,
  requestId: string,
): Reply {
  const fault = cluster.fault;
  if (fault?.kind === 'malformed') {
    return { status: 200, contentType: 'text/html', body: MALFORMED_BODY };
  }
  if (fault?.kind === 'status') {
    return fault.errorCode.startsWith('APIG.')
      ? gatewayError(fault.status, fault.errorCode, fault.errorMsg, requestId)
      : dwsError(fault.status, fault.errorCode, fault.errorMsg);
  }
  const offset = intParam(params.get('offset'), 0, 0);
  const limit = intParam(params.get('limit'), 10, 1);
  if (offset === null) return badRequest('offset must be an integer >= 0');
  if (limit === null) return badRequest('limit must be an integer > 0');
  const orderBy = params.get('order_by');
  if (orderBy !== null && orderBy !== 'startTime') {
    return badRequest(`order_by "${orderBy}" is not supported`);
  }
  const order = params.get('order')?.toUpperCase() ?? null;
  if (order !== null && order !== 'ASC' && order !== 'DESC') {
    return badRequest('order must be ASC or DESC');
  }
  const injected = ctx.injector ? injectedReply(ctx.injector, requestId) : undefined;
  if (injected) return injected;
  ctx.injector?.maybeAppendTask(ctx.options.fleet, cluster);
  const lc = params.get('logical_cluster_name');
  const view = ctx.views.get(cluster, lc, params.get('type'), order !== null);
  const cap = ctx.options.pageSizeCap;
  const size = cap === undefined ? limit : Math.min(limit, cap);
  const start = ctx.options.offsetMode === 'rows' ? offset : offset * size;
  let page: readonly SimTask[];
  if (ctx.injector && order !== 'DESC') {
    const shaped = ctx.injector.shapePage(view, start, size);
    return json(200, { logical_cluster_tasks: shaped.tasks, count: shaped.count });
  }
  if (order === 'DESC') {
    const out: SimTask[] = [];
    for (let i = view.length - 1 - start; i >= 0 && out.length < size; i--) {
      out.push(view[i] as SimTask);
    }
    page = out;
  } else {
    page = view.slice(start, start + size);
  }
  return json(200, { logical_cluster_tasks: page, count: view.length });
}

function injectedReply(injector: FaultInjector, requestId: string): Reply | undefined {
  const fault = injector.requestFault();
  switch (fault.kind) {
    case 'none':
      return undefined;
    case 'reset':
      return { status: 0, body: '', reset: true };
    case 'malformed':
      return { status: 200, contentType: 'text/html', body: MALFORMED_BODY };
    case 'truncated':
      return { status: 200, body: '{"logical_cluster_tasks":[{"type":"Gro' };
    case 'missing_tasks':
      return json(200, {});
    case 'status':
      if (fault.status === 429) {
        return {
          ...gatewayError(429, 'APIG.0308', 'The request is throttled: policy user over ratelimit.', requestId),
          ...(fault.retryAfterSeconds === undefined ? {} : { headers: { 'Retry-After': String(fault.retryAfterSeconds) } }),
        };
      }
      return dwsError(fault.status, 'DWS.0000', 'Internal service error (injected).');
  }
}

function listClusters(clusters: readonly SimCluster[]): Reply {
  return json(200, {
    clusters: clusters.map((c) => ({
      id: c.id,
      name: c.name,
      status: c.status,
      version: CLUSTER_VERSION,
      created: c.created ?? FALLBACK_CREATED,
      updated: c.updated ?? c.created ?? FALLBACK_CREATED,
    })),
    count: clusters.length,
  });
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

function validate(options: SimulatorOptions): void {
  const { pageSizeCap, latencyMs } = options;
  if (pageSizeCap !== undefined && !(Number.isInteger(pageSizeCap) && pageSizeCap > 0)) {
    throw new RangeError('SimulatorOptions.pageSizeCap must be a positive integer');
  }
  if (latencyMs !== undefined && !(latencyMs >= 0)) {
    throw new RangeError('SimulatorOptions.latencyMs must be >= 0');
  }
}

export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  validate(options);
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

  const server = createServer((req, res) => void handle(req, res));
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
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
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
