/**
 * Filtered, sorted task lists per cluster, and the page cut from one. Cached
 * because sorting a large cluster on every request would cap the simulator far
 * below the request rates the benchmark drives through it.
 */
import type { SimFleet } from './fleet.js';
import type { SimCluster, SimTask } from './fleet-model.js';

/** An exact-match query filter; null when the parameter is absent. */
export type Filter = string | null;

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

interface CachedViews {
  readonly revision: number;
  readonly length: number;
  readonly views: Map<string, readonly SimTask[]>;
}

/**
 * Filtered and sorted task lists per cluster, built on first use. Stale when
 * the fleet's revision or the task count changes (addTask, finishRunningTask).
 */
export class TaskViews {
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

/**
 * Up to `size` tasks from row `start`; `descending` counts from the end of the
 * ascending view, so DESC needs no second sorted copy.
 */
export function slicePage(
  view: readonly SimTask[],
  start: number,
  size: number,
  descending: boolean,
): readonly SimTask[] {
  if (!descending) return view.slice(start, start + size);
  const out: SimTask[] = [];
  for (let i = view.length - 1 - start; i >= 0 && out.length < size; i--) {
    out.push(view[i] as SimTask);
  }
  return out;
}
