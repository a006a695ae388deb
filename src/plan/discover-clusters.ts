/**
 * Cluster discovery for projects configured with "all" or include/exclude:
 * which of the clusters ListClusters reports a run exports, and why the
 * others are left out. Pure functions over the list; the call itself is
 * DwsClient.listClusters.
 */
import type { ClusterSelection } from '../config/schema.js';
import type { ListedCluster } from './cluster-ref.js';

/** Clusters being created or deleted have no task history worth reading, and may vanish mid-run. */
export const SKIPPED_STATUSES: ReadonlySet<string> = new Set(['CREATING', 'DELETING']);

export interface ClusterDecision {
  readonly cluster: ListedCluster;
  /** Null when the run exports it; otherwise why not, e.g. `status CREATING`. */
  readonly skipReason: string | null;
}

export interface Selection {
  readonly decisions: readonly ClusterDecision[];
  /** include patterns that matched no cluster (a typo, or a deleted cluster). */
  readonly unmatched: readonly string[];
  /** Ids configured explicitly that the listing does not contain. */
  readonly missing: readonly string[];
}

/** A cluster id, or a name in which "*" matches any run of characters. */
export function matchesPattern(pattern: string, cluster: ListedCluster): boolean {
  if (pattern === cluster.id) return true;
  if (cluster.name === null) return false;
  if (!pattern.includes('*')) return pattern === cluster.name;
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`, 's').test(cluster.name);
}

function byNameThenId(a: ListedCluster, b: ListedCluster): number {
  const an = a.name ?? '';
  const bn = b.name ?? '';
  if (an !== bn) return an < bn ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Applies a project's selection to its listed clusters. `listed` is null when
 * the list was not asked for (explicit ids in a run): then the ids are taken
 * as they are, names and statuses unknown.
 */
export function selectClusters(selection: ClusterSelection, listed: readonly ListedCluster[] | null): Selection {
  if (selection.mode === 'ids') {
    const byId = new Map((listed ?? []).map((c) => [c.id, c]));
    return {
      decisions: selection.ids.map((id) => ({ cluster: byId.get(id) ?? { id, name: null, status: null }, skipReason: null })),
      unmatched: [],
      missing: listed === null ? [] : selection.ids.filter((id) => !byId.has(id)),
    };
  }
  const clusters = [...(listed ?? [])].sort(byNameThenId);
  const { include, exclude } = selection;
  const decisions = clusters.map((cluster): ClusterDecision => {
    if (include !== null && !include.some((p) => matchesPattern(p, cluster))) {
      return { cluster, skipReason: 'not in "include"' };
    }
    const excludedBy = exclude.find((p) => matchesPattern(p, cluster));
    if (excludedBy !== undefined) return { cluster, skipReason: `excluded by "${excludedBy}"` };
    const status = cluster.status?.toUpperCase() ?? null;
    if (status !== null && SKIPPED_STATUSES.has(status)) return { cluster, skipReason: `status ${status}` };
    return { cluster, skipReason: null };
  });
  return {
    decisions,
    unmatched: (include ?? []).filter((p) => !clusters.some((c) => matchesPattern(p, c))),
    missing: [],
  };
}
