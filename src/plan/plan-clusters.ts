/** Which clusters this run exports, in a stable order, each with the endpoint to ask. */
import type { ExporterConfig } from '../config/schema.js';
import type { ClusterRef } from '../source/dws-client.js';

/** Async because planning may ask the API (cluster discovery). */
export async function planClusters(config: ExporterConfig): Promise<ClusterRef[]> {
  return config.projects.flatMap((project) =>
    project.clusters.map((clusterId) => ({ endpoint: project.endpoint, projectId: project.projectId, clusterId })),
  );
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Plain-HTTP endpoints other than loopback: credentials would cross the network in clear. */
export function insecureEndpoints(config: ExporterConfig): string[] {
  const endpoints = new Set(config.projects.map((p) => p.endpoint));
  return [...endpoints].filter((endpoint) => {
    const url = new URL(endpoint);
    return url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname) && !url.hostname.startsWith('127.');
  });
}
