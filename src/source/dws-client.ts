/**
 * The DWS tasks endpoint as one typed call: builds the URL, authorises,
 * sends through the shared HTTP client, and turns every outcome into either a
 * validated page or one of the errors in src/errors.ts.
 */
import {
  DwsApiError,
  DwsAuthError,
  DwsNetworkError,
  DwsPayloadError,
  type ApiCallContext,
} from '../errors.js';
import type { RequestAuthorizer } from './auth/authorizer.js';
import { encodeRfc3986 } from './auth/signer.js';
import type { HttpClient, HttpResponse } from './http-client.js';
import type { RetryEvent } from './retry-policy.js';
import { parseTasksPage, type TasksPage } from './task-page.js';

export interface ClusterRef {
  readonly endpoint: string;
  readonly projectId: string;
  readonly clusterId: string;
}

export interface PageQuery {
  readonly offset: number;
  readonly limit: number;
  readonly orderBy: string | null;
  readonly logicalClusterName: string | null;
  readonly type: string | null;
}

/** Per-cluster request accounting, filled in by the client. */
export interface RequestStats {
  requests: number;
  retries: number;
}

export interface DwsClient {
  listTasksPage(cluster: ClusterRef, query: PageQuery, stats: RequestStats, signal?: AbortSignal): Promise<TasksPage>;
}

export function tasksUrl(cluster: ClusterRef, query: PageQuery): URL {
  const params: [string, string][] = [
    ['offset', String(query.offset)],
    ['limit', String(query.limit)],
  ];
  if (query.logicalClusterName !== null) params.push(['logical_cluster_name', query.logicalClusterName]);
  if (query.type !== null) params.push(['type', query.type]);
  // Ascending start time: tasks created while we page land after what we
  // have read instead of shifting earlier pages.
  if (query.orderBy !== null) params.push(['order_by', query.orderBy]);
  params.push(['order', 'ASC']);
  // RFC 3986 (space as %20, never "+"), exactly as the signature encodes it.
  const search = params.map(([key, value]) => `${encodeRfc3986(key)}=${encodeRfc3986(value)}`).join('&');
  return new URL(
    `${cluster.endpoint}/v2/${encodeRfc3986(cluster.projectId)}/clusters/` +
      `${encodeRfc3986(cluster.clusterId)}/logical-clusters/tasks?${search}`,
  );
}

export function createDwsClient(http: HttpClient, authorizer: RequestAuthorizer): DwsClient {
  return {
    async listTasksPage(cluster, query, stats, signal) {
      const url = tasksUrl(cluster, query);
      const call: ApiCallContext = {
        projectId: cluster.projectId,
        clusterId: cluster.clusterId,
        path: `${url.pathname}${url.search}`,
      };
      const onRetry = (_event: RetryEvent): void => {
        stats.retries += 1;
      };
      stats.requests += 1;
      let response: HttpResponse;
      try {
        response = await http.get(url, authorizer.headersFor(url, cluster.projectId), onRetry, signal);
      } catch (error) {
        throw new DwsNetworkError(call, error);
      }
      const requestId = headerValue(response.headers['x-request-id']);
      if (response.status !== 200) throw apiError(call, response, requestId);
      const page = parseTasksPage(response.body);
      if (!page.ok) throw new DwsPayloadError(call, page.problem, requestId);
      return { tasks: page.tasks, count: page.count, requestId };
    },
  };
}

function apiError(call: ApiCallContext, response: HttpResponse, headerRequestId: string | null): DwsApiError {
  let errorCode: string | null = null;
  let errorMsg: string | null = null;
  let bodyRequestId: string | null = null;
  try {
    const body: unknown = JSON.parse(response.body);
    if (body && typeof body === 'object') {
      const fields = body as Record<string, unknown>;
      errorCode = typeof fields.error_code === 'string' ? fields.error_code : null;
      errorMsg = typeof fields.error_msg === 'string' ? fields.error_msg : null;
      bodyRequestId = typeof fields.request_id === 'string' ? fields.request_id : null;
    }
  } catch {
    errorMsg = response.body.slice(0, 200).replace(/\s+/g, ' ').trim() || null;
  }
  const details = { status: response.status, errorCode, errorMsg, requestId: headerRequestId ?? bodyRequestId };
  return response.status === 401 || response.status === 403
    ? new DwsAuthError(call, details)
    : new DwsApiError(call, details);
}

function headerValue(value: string | string[] | undefined): string | null {
  return (Array.isArray(value) ? value[0] : value) ?? null;
}
