/**
 * Per endpoint, what a run's clusters say about it: an endpoint is
 * unreachable for the run when the endpoint breaker stopped calling it
 * for at least one cluster (DWS_ENDPOINT_UNREACHABLE).
 */
import { GATEWAY_OUTAGE_STATUS } from '../source/endpoint-breaker.js';
import type { ClusterReport } from './export-cluster.js';

export interface EndpointReport {
  /** The endpoint's origin, e.g. https://dws.cn-north-4.myhuaweicloud.com */
  readonly endpoint: string;
  /** The run's clusters on this endpoint. */
  readonly clusters: number;
  readonly unreachable: boolean;
  /** When unreachable: its clusters that failed for it (see failedForEndpoint); else 0. */
  readonly clustersNotExported: number;
  /** The last connection failure or gateway outage counted against it; null when none. */
  readonly lastError: string | null;
}

/**
 * A cluster that failed because its endpoint could not be reached: not
 * called or stopped (DWS_ENDPOINT_UNREACHABLE), or failed at the connection
 * level or with 502/503/504 before the breaker opened.
 */
export function failedForEndpoint(cluster: ClusterReport): boolean {
  const { error } = cluster;
  if (cluster.status !== 'failed' || error === null) return false;
  return (
    error.code === 'DWS_ENDPOINT_UNREACHABLE' ||
    error.code === 'DWS_NETWORK_ERROR' ||
    (error.code === 'DWS_API_ERROR' && GATEWAY_OUTAGE_STATUS.includes(error.httpStatus ?? 0))
  );
}

export function endpointReports(
  clusters: readonly ClusterReport[],
  lastError: (endpoint: string) => string | null,
): EndpointReport[] {
  const byEndpoint = new Map<string, ClusterReport[]>();
  for (const cluster of clusters) {
    const own = byEndpoint.get(cluster.endpoint);
    if (own) own.push(cluster);
    else byEndpoint.set(cluster.endpoint, [cluster]);
  }
  return [...byEndpoint.entries()]
    .map(([endpoint, own]) => {
      const unreachable = own.some((c) => c.error?.code === 'DWS_ENDPOINT_UNREACHABLE');
      const clustersNotExported = unreachable ? own.filter(failedForEndpoint).length : 0;
      return { endpoint, clusters: own.length, unreachable, clustersNotExported, lastError: lastError(endpoint) };
    })
    .sort((a, b) => a.endpoint.localeCompare(b.endpoint));
}
