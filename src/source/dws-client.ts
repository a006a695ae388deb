/**
 * The DWS endpoints the exporter calls (tasks pages, the cluster list), each
 * as one typed call: builds the URL, authorises, passes the auth breaker,
 * sends through the shared HTTP client, and turns every outcome into either
 * validated data or one of the errors in src/core/errors.ts.
 */
import { z } from 'zod';
import {
  CredentialRefusedError,
  DwsApiError,
  DwsAuthError,
  DwsNetworkError,
  DwsPayloadError,
  type ApiCallContext,
} from '../core/errors.js';
import type { ClusterLister, ClusterRef } from '../plan/cluster-ref.js';
import { AuthBreaker, type AuthOutcome } from './auth/auth-breaker.js';
import type { RequestAuthorizer } from './auth/authorizer.js';
import { encodeRfc3986 } from './auth/signer.js';
import type { HttpClient, HttpResponse } from './http-client.js';
import { parseTasksPage, type TasksPage } from './task-page.js';

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

export interface DwsClient extends ClusterLister {
  listTasksPage(cluster: ClusterRef, query: PageQuery, stats: RequestStats, signal?: AbortSignal): Promise<TasksPage>;
}

export interface DwsClientOptions {
  /** Shared by every request of the run (default: a new one). */
  readonly breaker?: AuthBreaker;
}

export function clustersUrl(endpoint: string, projectId: string): URL {
  return new URL(`${endpoint}/v1.0/${encodeRfc3986(projectId)}/clusters`);
}

// Ids go into URL paths of later requests: refuse any that could change the path.
const listedClusterSchema = z.looseObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'a cluster id with characters other than letters, digits, "-" and "_"'),
  name: z.string().nullish(),
  status: z.string().nullish(),
});
const clusterListSchema = z.looseObject({
  clusters: z.array(listedClusterSchema, { error: (issue) => (issue.input === undefined ? 'missing "clusters"' : '"clusters" is not an array of clusters') }),
});

export function createDwsClient(http: HttpClient, authorizer: RequestAuthorizer, options: DwsClientOptions = {}): DwsClient {
  const breaker = options.breaker ?? new AuthBreaker();

  /**
   * Authorises, passes the auth breaker, sends, and classifies the answer:
   * the 200 response, or a thrown DWS error. A 401/403 is never retried (the
   * HTTP client's policy) and is reported to the breaker.
   */
  async function send(url: URL, call: ApiCallContext, stats: RequestStats, signal?: AbortSignal): Promise<HttpResponse> {
    const { headers, lease } = await authorizer.authorize(url, call.projectId, signal);
    const permit = await breaker.acquire(lease, call, signal);
    let outcome: AuthOutcome = { kind: 'unknown' };
    try {
      stats.requests += 1;
      let response: HttpResponse;
      try {
        response = await http.get(url, headers, () => {
          // Each retry is one more request on the wire: both are counted.
          stats.requests += 1;
          stats.retries += 1;
        }, signal);
      } catch (error) {
        throw new DwsNetworkError(call, error);
      }
      const requestId = headerValue(response.headers['x-request-id']);
      if (response.status === 200) {
        outcome = { kind: 'accepted' };
        return response;
      }
      const error = apiError(call, response, requestId, lease.credential.kind === 'aksk');
      if (error instanceof DwsAuthError) {
        outcome = { kind: 'refused', refusal: { call, details: error.details } };
        authorizer.refused(lease, call.projectId);
        throw new CredentialRefusedError(call, error.details, lease);
      }
      if (response.status < 429) {
        // The gateway let it through (a 404 for a deleted cluster, a 400): the credential works.
        outcome = { kind: 'accepted' };
      }
      throw error;
    } finally {
      breaker.settle(permit, outcome);
    }
  }

  return {
    async listTasksPage(cluster, query, stats, signal) {
      const url = tasksUrl(cluster, query);
      const call: ApiCallContext = {
        projectId: cluster.projectId,
        clusterId: cluster.clusterId,
        path: `${url.pathname}${url.search}`,
      };
      const response = await send(url, call, stats, signal);
      const requestId = headerValue(response.headers['x-request-id']);
      const page = parseTasksPage(response.body);
      if (!page.ok) throw new DwsPayloadError(call, page.problem, requestId);
      return { tasks: page.tasks, count: page.count, requestId };
    },

    async listClusters(endpoint, projectId, signal) {
      const url = clustersUrl(endpoint, projectId);
      // clusterId '' marks a project-level call in messages (see AuthBreakerOpenError).
      const call: ApiCallContext = { projectId, clusterId: '', path: url.pathname };
      const response = await send(url, call, { requests: 0, retries: 0 }, signal);
      const requestId = headerValue(response.headers['x-request-id']);
      let json: unknown;
      try {
        json = JSON.parse(response.body);
      } catch {
        throw new DwsPayloadError(call, 'body is not JSON', requestId);
      }
      const parsed = clusterListSchema.safeParse(json);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
        throw new DwsPayloadError(call, `${where}${issue?.message ?? 'unexpected shape'}`, requestId);
      }
      return parsed.data.clusters.map((c) => ({ id: c.id, name: c.name ?? null, status: c.status ?? null }));
    },
  };
}

/** Gateway wording for a signature outside the accepted time window. */
const CLOCK_SKEW = /clock|skew|x-sdk-date|expired|too far|time window/i;
const CLOCK_HINT =
  " [hint: this machine's clock may be off: AK/SK signatures (X-Sdk-Date) are accepted within 15 minutes of the gateway's time; sync the clock (NTP)]";

function apiError(call: ApiCallContext, response: HttpResponse, headerRequestId: string | null, signed: boolean): DwsApiError {
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
  if (signed && response.status === 401 && errorMsg !== null && CLOCK_SKEW.test(errorMsg)) errorMsg += CLOCK_HINT;
  const details = { status: response.status, errorCode, errorMsg, requestId: headerRequestId ?? bodyRequestId };
  return response.status === 401 || response.status === 403
    ? new DwsAuthError(call, details)
    : new DwsApiError(call, details);
}

function headerValue(value: string | string[] | undefined): string | null {
  return (Array.isArray(value) ? value[0] : value) ?? null;
}
