/**
 * The simulator's fleet: clusters indexed by project and id, and the only
 * sanctioned way to change their tasks, so the server's cached views know when
 * they are stale. The data model is in fleet-model.ts, generation from a seed
 * in fleet-generator.ts; both are re-exported here for existing callers.
 */
import { generateClusters, type FleetSpec } from './fleet-generator.js';
import type { SimCluster, SimTask } from './fleet-model.js';

export type { ClusterFault, SimCluster, SimTask } from './fleet-model.js';
export type { FleetSpec } from './fleet-generator.js';

const HISTORY_DAYS = 730;
const DAY_MS = 86_400_000;

/** The dates that make a generated fleet's ~two years of history end at `end` (no task starts later). */
export function historyEndingAt(end: Date): Pick<FleetSpec, 'startDate' | 'notAfterMs'> {
  return {
    startDate: new Date(end.getTime() - HISTORY_DAYS * DAY_MS).toISOString().slice(0, 10),
    notAfterMs: end.getTime(),
  };
}

export class SimFleet {
  private readonly byKey = new Map<string, SimCluster>();
  private readonly byProject = new Map<string, SimCluster[]>();
  private readonly revisions = new WeakMap<SimCluster, number>();

  constructor(readonly clusters: readonly SimCluster[]) {
    for (const c of clusters) {
      this.byKey.set(`${c.projectId}/${c.id}`, c);
      const list = this.byProject.get(c.projectId) ?? [];
      list.push(c);
      this.byProject.set(c.projectId, list);
    }
  }

  static generate(spec: FleetSpec): SimFleet {
    return new SimFleet(generateClusters(spec));
  }

  /** In order of first appearance. */
  projectIds(): string[] {
    return [...this.byProject.keys()];
  }

  cluster(projectId: string, clusterId: string): SimCluster | undefined {
    return this.byKey.get(`${projectId}/${clusterId}`);
  }

  clustersOf(projectId: string): SimCluster[] {
    return [...(this.byProject.get(projectId) ?? [])];
  }

  totalTasks(): number {
    return this.clusters.reduce((sum, c) => sum + c.tasks.length, 0);
  }

  /**
   * Bumped by addTask/finishRunningTask so the server can cache sorted views.
   * Code that edits `cluster.tasks` in place must go through those methods.
   */
  revisionOf(cluster: SimCluster): number {
    return this.revisions.get(cluster) ?? 0;
  }

  /** A task appearing after an earlier export (appended: stored order is insertion order). */
  addTask(projectId: string, clusterId: string, task: SimTask): void {
    const cluster = this.require(projectId, clusterId);
    cluster.tasks.push(task);
    this.bump(cluster);
  }

  /** A running task finishes; throws if `index` is not a running task, to catch test mistakes. */
  finishRunningTask(
    projectId: string,
    clusterId: string,
    index: number,
    endTime: string,
    result: string,
  ): void {
    const cluster = this.require(projectId, clusterId);
    const task = cluster.tasks[index];
    if (!task) throw new RangeError(`cluster ${clusterId} has no task #${index}`);
    if (task.end_time) throw new Error(`task #${index} of cluster ${clusterId} is not running`);
    cluster.tasks[index] = { ...task, end_time: endTime, result };
    this.bump(cluster);
  }

  private require(projectId: string, clusterId: string): SimCluster {
    const cluster = this.cluster(projectId, clusterId);
    if (!cluster) throw new RangeError(`unknown cluster ${projectId}/${clusterId}`);
    return cluster;
  }

  private bump(cluster: SimCluster): void {
    this.revisions.set(cluster, this.revisionOf(cluster) + 1);
  }
}
