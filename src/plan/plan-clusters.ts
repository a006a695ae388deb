/**
 * Which clusters a run exports, in a stable order, each with the endpoint to
 * ask; and the cluster inventory (id, name, project, region, status) the
 * warehouse keeps in dws.clusters. Projects configured with explicit ids cost
 * no API call; "all" and include/exclude list the project's clusters first.
 */
import pLimit from 'p-limit';
import type { ExporterConfig, ProjectConfig } from '../config/schema.js';
import type { Logger } from '../core/logger.js';
import type { ClusterLister, ClusterRef, ListedCluster } from './cluster-ref.js';
import { DiscoveryError } from '../core/errors.js';
import { selectClusters, type ClusterDecision } from './discover-clusters.js';

/** One row of dws.clusters. */
export interface InventoryEntry {
  readonly clusterId: string;
  readonly name: string | null;
  readonly projectId: string;
  readonly region: string | null;
  readonly status: string | null;
  /** True when name and status come from ListClusters just now. */
  readonly listed: boolean;
  readonly skipReason: string | null;
}

export interface ProjectPlan {
  readonly project: ProjectConfig;
  /** What ListClusters returned; null when it was not asked or failed. */
  readonly listed: readonly ListedCluster[] | null;
  readonly error: Error | null;
  /** The list failed and the clusters last seen in dws.clusters were planned instead. */
  readonly fromInventory: boolean;
  readonly decisions: readonly ClusterDecision[];
  readonly unmatched: readonly string[];
  readonly missing: readonly string[];
}

export interface ClusterPlan {
  /** What the run exports, in order. */
  readonly clusters: readonly ClusterRef[];
  /** Every cluster seen (exported or skipped), for dws.clusters. */
  readonly inventory: readonly InventoryEntry[];
  readonly projects: readonly ProjectPlan[];
}

export interface PlanOptions {
  /** Needed as soon as one project discovers its clusters. */
  readonly client?: ClusterLister;
  /** Also list projects configured by id, to show names and catch wrong ids (the discover command). */
  readonly listEveryProject?: boolean;
  /** Return failed lists in `projects[].error` instead of throwing (the discover command). */
  readonly tolerateFailures?: boolean;
  /** The clusters a project had when last listed (dws.clusters): used when its list cannot be read now. */
  readonly lastKnownClusters?: (projectId: string) => Promise<readonly ListedCluster[]>;
  readonly concurrency?: number;
  readonly logger?: Logger;
  readonly signal?: AbortSignal;
}

export async function planClusters(config: ExporterConfig, options: PlanOptions = {}): Promise<ClusterPlan> {
  const limit = pLimit(options.concurrency ?? config.concurrency);
  const projects = await Promise.all(config.projects.map((project) => limit(() => planProject(project, options))));
  const failed = projects.filter((p) => p.error !== null && p.project.clusters.mode === 'discover' && !p.fromInventory);
  const first = failed[0];
  if (first && !options.tolerateFailures) {
    throw new DiscoveryError(first.project, first.error, failed.slice(1).map((p) => `project ${p.project.projectId}`));
  }
  const clusters: ClusterRef[] = [];
  const inventory: InventoryEntry[] = [];
  const planned = new Set<string>();
  for (const plan of projects) {
    const { project } = plan;
    for (const { cluster, skipReason } of plan.decisions) {
      // A cluster id configured twice is refused by the schema; this only guards the ledger's key.
      const duplicate = skipReason === null && planned.has(cluster.id);
      if (skipReason === null && !duplicate) {
        planned.add(cluster.id);
        clusters.push({ endpoint: project.endpoint, projectId: project.projectId, clusterId: cluster.id });
      }
      if (plan.fromInventory) continue; // not seen this time: leave its row as it was
      inventory.push({
        clusterId: cluster.id,
        name: cluster.name,
        projectId: project.projectId,
        region: project.region,
        status: cluster.status,
        listed: plan.listed !== null,
        skipReason: duplicate ? 'planned under another project entry' : skipReason,
      });
    }
  }
  return { clusters, inventory, projects };
}

async function planProject(project: ProjectConfig, options: PlanOptions): Promise<ProjectPlan> {
  const wantsList = project.clusters.mode === 'discover' || options.listEveryProject === true;
  if (!wantsList) return { project, listed: null, error: null, fromInventory: false, ...selectClusters(project.clusters, null) };
  if (!options.client) throw new Error(`planClusters: project ${project.projectId} needs a DWS client to list its clusters`);
  try {
    const listed = await options.client.listClusters(project.endpoint, project.projectId, options.signal);
    const selection = selectClusters(project.clusters, listed);
    for (const pattern of selection.unmatched) {
      options.logger?.warn({ projectId: project.projectId, pattern }, 'an "include" entry matches no cluster of the project');
    }
    return { project, listed, error: null, fromInventory: false, ...selection };
  } catch (error) {
    if (project.clusters.mode === 'ids') {
      // The run itself never needs the list for explicit ids.
      return { project, listed: null, error: error as Error, fromInventory: false, ...selectClusters(project.clusters, null) };
    }
    if (options.signal?.aborted) return interruptedPlan(project, options);
    options.logger?.error({ projectId: project.projectId, err: (error as Error).message }, 'cannot list the clusters of the project');
    const known = options.lastKnownClusters ? await options.lastKnownClusters(project.projectId) : [];
    if (known.length === 0) {
      return { project, listed: null, error: error as Error, fromInventory: false, decisions: [], unmatched: [], missing: [] };
    }
    options.logger?.warn(
      { projectId: project.projectId, clusters: known.length },
      'exporting the clusters the project had when its list was last read (dws.clusters)',
    );
    return { project, listed: null, error: error as Error, fromInventory: true, ...selectClusters(project.clusters, known) };
  }
}

/**
 * A shutdown cut the list short: not a failure to list. The run goes on to
 * close as interrupted, with the clusters last seen (dws.clusters) planned
 * and not started, or none.
 */
async function interruptedPlan(project: ProjectConfig, options: PlanOptions): Promise<ProjectPlan> {
  options.logger?.warn({ projectId: project.projectId }, 'listing the clusters of the project was interrupted by the shutdown');
  const known = options.lastKnownClusters ? await options.lastKnownClusters(project.projectId).catch(() => []) : [];
  return { project, listed: null, error: null, fromInventory: true, ...selectClusters(project.clusters, known) };
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Plain-HTTP endpoints other than loopback: credentials would cross the network in clear. */
export function insecureEndpoints(config: ExporterConfig): string[] {
  const endpoints = new Set(config.projects.map((p) => p.endpoint));
  // IAM receives the password: a plain-HTTP IAM endpoint is worse than a DWS one.
  if (config.auth.iam?.endpoint) endpoints.add(config.auth.iam.endpoint);
  return [...endpoints].filter((endpoint) => {
    const url = new URL(endpoint);
    return url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname) && !/^127(\.\d{1,3}){3}$/.test(url.hostname);
  });
}
