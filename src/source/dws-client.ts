/**
 * The DWS endpoints the exporter calls (tasks pages, the cluster list), each
 * as one typed call: builds the URL, passes the endpoint and auth breakers,
 * authorises, sends through the shared HTTP client, and turns every outcome
 * into either validated data or one of the errors in src/core/errors.ts.
 */
import { setMaxListeners } from 'node:events';
import { z } from 'zod';
import {
  CredentialRefusedError,
  DwsAuthError,
  DwsNetworkError,
  DwsPayloadError,
  EndpointUnreachableError,
  describeCause,
  type ApiCallContext,
} from '../core/errors.js';
import type { ClusterLister, ClusterRef } from '../plan/cluster-ref.js';
import { AuthBreaker, type AuthOutcome } from './auth/auth-breaker.js';
import type { RequestAuthorizer } from './auth/authorizer.js';
import { encodeRfc3986 } from './auth/signer.js';
import { isConnectionFailure } from './connection-failure.js';
import { EndpointBreaker, GATEWAY_OUTAGE_STATUS, type EndpointPermit } from './endpoint-breaker.js';
import type { HttpClient, HttpResponse } from './http-client.js';
import type { RetryEvent } from './retry-policy.js';
import { parseTasksPage, type TasksPage } from './task-page.js';
import { apiError, gatewayDetail, headerValue } from './api-error.js';

export interface PageQuery {
  readonly offset: number;
  readonly limit: number;
  readonly orderBy: string | null;
  readonly logicalClusterName: string | null;
  readonly type: string | null;
}

/** Per-cluster request accounting, filled in by the client; and how the cluster waits for the endpoint breaker. */
export interface RequestStats {
  requests: number;
  retries: number;
  /** Wraps each wait for the endpoint breaker: the cluster gives up its fetch slot meanwhile (src/export/fetch-slot.ts). */
  readonly whileHeld?: <T>(wait: () => Promise<T>) => Promise<T>;
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
  /** Which endpoints are not being called, and why (src/source/endpoint-breaker.ts). */
  readonly endpoints: EndpointBreaker;
}

export interface DwsClientOptions {
  /** Shared by every request of the run (default: a new one). */
  readonly breaker?: AuthBreaker;
  /** Shared by every request of the run (default: a new one). */
  readonly endpoints?: EndpointBreaker;
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

/**
 * How often one request may be stopped by its endpoint opening and sent
 * again after a probe. A request stopped as a failed probe is not counted:
 * the breaker bounds those (PROBES_BEFORE_REFUSING).
 */
const MAX_STOPS = 3;

/** A request stopped because its endpoint opened (internal to send()). */
class EndpointStopped extends Error {
  constructor(override readonly cause: unknown) {
    super('stopped: the endpoint opened');
  }
}

export function createDwsClient(http: HttpClient, authorizer: RequestAuthorizer, options: DwsClientOptions = {}): DwsClient {
  const breaker = options.breaker ?? new AuthBreaker();
  const endpoints = options.endpoints ?? new EndpointBreaker();

  /**
   * Passes the endpoint breaker, then sends. A connection failure counts
   * against the endpoint once the request's retry failed the same way (a
   * stale keep-alive connection is cured by one retry) or when it is not
   * retried; 502/503/504 after every retry counts too (a probe has one retry
   * of its own, whatever failed); any other answer proves the endpoint
   * reachable. A request the opening endpoint stopped asks the breaker
   * again: it is sent once more after a probe succeeded.
   */
  async function send(url: URL, call: ApiCallContext, stats: RequestStats, signal?: AbortSignal): Promise<HttpResponse> {
    let stops = 0;
    const admit = (): Promise<EndpointPermit> => endpoints.admit(url.origin, call, signal);
    for (;;) {
      const permit = stats.whileHeld && endpoints.holds(url.origin) ? await stats.whileHeld(admit) : await admit();
      try {
        return await sendAdmitted(url, call, stats, permit, signal);
      } catch (error) {
        if (!(error instanceof EndpointStopped)) throw error;
        if (!permit.probe && ++stops >= MAX_STOPS) {
          throw new EndpointUnreachableError(permit.origin, endpoints.lastError(permit.origin) ?? 'unknown', call, { cause: error.cause });
        }
      }
    }
  }

  async function sendAdmitted(
    url: URL,
    call: ApiCallContext,
    stats: RequestStats,
    permit: EndpointPermit,
    signal?: AbortSignal,
  ): Promise<HttpResponse> {
    const cluster = `${call.projectId}/${call.clusterId}`;
    const stop = linkSignals(permit.signal, signal);
    let reachable = false;
    // In a row: connection failures, and those or gateway outages (for a probe).
    let connectionFailures = 0;
    let outages = 0;
    const onRetry = (event: RetryEvent): void => {
      const connection = event.status === undefined && isConnectionFailure(event.failure);
      const outage = connection || GATEWAY_OUTAGE_STATUS.includes(event.status ?? 0);
      connectionFailures = connection ? connectionFailures + 1 : 0;
      outages = outage ? outages + 1 : 0;
      if (connectionFailures >= 2 || (permit.probe && outages >= 2)) {
        endpoints.strike(permit, cluster, event.status === undefined ? describeCause(event.failure) : `HTTP ${event.status}`);
      }
    };
    try {
      const response = await sendAuthorised(url, call, stats, onRetry, stop.signal, signal);
      reachable = !GATEWAY_OUTAGE_STATUS.includes(response.status);
      if (!reachable) {
        endpoints.strike(permit, cluster, `HTTP ${response.status}${gatewayDetail(response)}`);
        // A gateway outage answered after the endpoint opened: held like the others.
        if (permit.signal.aborted) throw new EndpointStopped(null);
      }
      return response;
    } catch (error) {
      // A 401/403 is an answer: the endpoint is reachable.
      reachable = error instanceof CredentialRefusedError;
      if (!(error instanceof DwsNetworkError) || signal?.aborted) throw error;
      // Out of retries (or not retried) at the connection level: opens the endpoint, and this request is held.
      if (isConnectionFailure(error.cause)) endpoints.strike(permit, cluster, describeCause(error.cause), true);
      if (permit.signal.aborted) throw new EndpointStopped(error.cause);
      throw error;
    } finally {
      stop.dispose();
      endpoints.settle(permit, reachable);
    }
  }

  /**
   * Authorises, passes the auth breaker, sends, and returns any HTTP answer
   * (the caller classifies it); no answer at all is a DwsNetworkError. A
   * 401/403 is never retried (the HTTP client's policy) and is reported to
   * the auth breaker.
   */
  async function sendAuthorised(
    url: URL,
    call: ApiCallContext,
    stats: RequestStats,
    onRetry: (event: RetryEvent) => void,
    stop: AbortSignal,
    signal?: AbortSignal,
  ): Promise<HttpResponse> {
    const { headers, lease } = await authorizer.authorize(url, call.projectId, signal);
    const permit = await breaker.acquire(lease, call, signal, url.origin);
    let outcome: AuthOutcome = { kind: 'unknown' };
    const onFailedAttempt = (event: RetryEvent): void => {
      // No HTTP answer says nothing about the credential: do not hold the other endpoints' requests for it.
      if (event.status === undefined) breaker.unanswered(permit);
      onRetry(event);
    };
    // Counted as each attempt leaves: a request stopped first, or a retry cancelled in its backoff, is not.
    let attempts = 0;
    const onSent = (): void => {
      attempts += 1;
      stats.requests += 1;
      if (attempts > 1) stats.retries += 1;
    };
    try {
      let response: HttpResponse;
      try {
        response = await http.get(url, headers, onFailedAttempt, stop, onSent);
      } catch (error) {
        throw new DwsNetworkError(call, error);
      }
      if (response.status === 200) {
        outcome = { kind: 'accepted' };
        return response;
      }
      const error = apiError(call, response, lease.credential.kind === 'aksk');
      if (error instanceof DwsAuthError) {
        outcome = { kind: 'refused', refusal: { call, details: error.details } };
        authorizer.refused(lease, call.projectId);
        throw new CredentialRefusedError(call, error.details, lease);
      }
      if (response.status < 429) {
        // The gateway let it through (a 404 for a deleted cluster, a 400): the credential works.
        outcome = { kind: 'accepted' };
      }
      return response;
    } finally {
      breaker.settle(permit, outcome);
    }
  }

  /** A 200, or the API's error as a thrown DwsApiError. */
  async function sendOk(url: URL, call: ApiCallContext, stats: RequestStats, signal?: AbortSignal): Promise<HttpResponse> {
    const response = await send(url, call, stats, signal);
    if (response.status === 200) return response;
    throw apiError(call, response, false);
  }

  return {
    endpoints,
    async listTasksPage(cluster, query, stats, signal) {
      const url = tasksUrl(cluster, query);
      const call: ApiCallContext = {
        projectId: cluster.projectId,
        clusterId: cluster.clusterId,
        path: `${url.pathname}${url.search}`,
      };
      const response = await sendOk(url, call, stats, signal);
      const requestId = headerValue(response.headers['x-request-id']);
      const page = parseTasksPage(response.body);
      if (!page.ok) throw new DwsPayloadError(call, page.problem, requestId);
      return { tasks: page.tasks, count: page.count, requestId };
    },

    async listClusters(endpoint, projectId, signal) {
      const url = clustersUrl(endpoint, projectId);
      // clusterId '' marks a project-level call in messages (see AuthBreakerOpenError).
      const call: ApiCallContext = { projectId, clusterId: '', path: url.pathname };
      const response = await sendOk(url, call, { requests: 0, retries: 0 }, signal);
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

/** A signal aborted by either input, whose listeners are removed once the request is done. */
function linkSignals(first: AbortSignal, second: AbortSignal | undefined): { readonly signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  // undici and the retry wait listen once per attempt (bounded by http.maxRetries): not a leak.
  setMaxListeners(0, controller.signal);
  const links = (second ? [first, second] : [first]).map((input) => ({ input, onAbort: () => controller.abort(input.reason) }));
  for (const { input, onAbort } of links) {
    if (input.aborted) onAbort();
    else input.addEventListener('abort', onAbort, { once: true });
  }
  return {
    signal: controller.signal,
    dispose: () => {
      for (const { input, onAbort } of links) input.removeEventListener('abort', onAbort);
    },
  };
}
