/**
 * The two DWS endpoints the exporter calls, once routed and authenticated:
 * ListClusters and the logical-cluster tasks list, with the real service's
 * parameter checks and its documented ambiguities (offset as rows or pages,
 * silent page-size cap). Apart from the server so that what the API answers
 * reads without the HTTP plumbing around it.
 */
import type { FaultInjector } from './faults.js';
import type { SimCluster } from './fleet-model.js';
import { badRequest, dwsError, gatewayError, injectedReply, json, MALFORMED_BODY, type Reply } from './replies.js';
import type { SimulatorOptions } from './simulator-options.js';
import { slicePage, type TaskViews } from './task-views.js';

const CLUSTER_VERSION = '8.1.3.320';
const FALLBACK_CREATED = '2023-06-01T00:00:00Z';
/** Java int range: what the real (Java) service would parse. */
const MAX_INT = 2_147_483_647;

/** What the tasks endpoint needs from the running server. */
export interface TasksContext {
  readonly options: SimulatorOptions;
  readonly views: TaskViews;
  readonly injector: FaultInjector | undefined;
}

/** undefined → default; anything but a plain integer in [min, MAX_INT] → null. */
function intParam(raw: string | null, fallback: number, min: number): number | null {
  if (raw === null) return fallback;
  if (!/^\d{1,10}$/.test(raw)) return null;
  const value = Number(raw);
  return value >= min && value <= MAX_INT ? value : null;
}

export function listTasks(
  ctx: TasksContext,
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
  if (ctx.injector && order !== 'DESC') {
    const shaped = ctx.injector.shapePage(view, start, size);
    return json(200, { logical_cluster_tasks: shaped.tasks, count: shaped.count });
  }
  const page = slicePage(view, start, size, order === 'DESC');
  return json(200, { logical_cluster_tasks: page, count: view.length });
}

export function listClusters(clusters: readonly SimCluster[]): Reply {
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
