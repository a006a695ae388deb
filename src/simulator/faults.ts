/**
 * Fault injection for the simulator's tasks endpoint, what a real gateway and
 * service do to a nightly job: seeded per-request probabilities (a failing
 * soak replays), deterministic schedules, and page anomalies on successful
 * answers (lying count, repeated rows, short pages, ignored offset, drift).
 */
import type { SimCluster, SimFleet, SimTask } from './fleet.js';
import { seededRandom } from './random.js';

export interface FaultSpec {
  /** Seed of the fault dice (default 1). */
  readonly seed?: number;
  /** Probability of a 500/502/503/504 answer. */
  readonly serverErrorRate?: number;
  /** Probability of a 429 APIG.0308 answer. */
  readonly throttleRate?: number;
  /** Retry-After (seconds) sent with every 429; absent: none, as the gateway documents. */
  readonly retryAfterSeconds?: number;
  /** Probability that the connection is destroyed without an answer. */
  readonly resetRate?: number;
  /** Probability of an extra delay of `slowMs`. */
  readonly slowRate?: number;
  readonly slowMs?: number;
  /** Probability of a 200 with an HTML body (a proxy's error page). */
  readonly malformedRate?: number;
  /** Probability of a 200 whose JSON is cut off halfway. */
  readonly truncatedRate?: number;
  /** Probability of a 200 whose JSON object has no `logical_cluster_tasks` array. */
  readonly missingTasksArrayRate?: number;
  /** Deterministic: every `n`th tasks request (1-based) answers `status`. */
  readonly every?: { readonly n: number; readonly status: number };
  /** Deterministic: tasks requests number `from` … `from + count - 1` answer 429. */
  readonly throttleBurst?: { readonly from: number; readonly count: number; readonly retryAfterSeconds?: number };
  /** Probability that a page reports `count` off by +1..+drift or -1..-drift (a lie; data unchanged). */
  readonly countDriftRate?: number;
  readonly countDrift?: number;
  /** Probability that a page also repeats the previous page's last task at its start. */
  readonly duplicateRate?: number;
  /** Probability that a page returns only part of its rows (short page, not at the end). */
  readonly shortPageRate?: number;
  /** Probability that a non-first page comes back empty although rows remain. */
  readonly emptyPageRate?: number;
  /** The server ignores offset and always answers the first page. */
  readonly ignoreOffset?: boolean;
  /** The page omits `count`. */
  readonly omitCount?: boolean;
  /** Probability that a request appends a new task to its cluster first (real count drift). */
  readonly appendTaskRate?: number;
  /** Upper bound on appended tasks over the simulator's life (keeps soak runs convergent). */
  readonly maxAppendedTasks?: number;
}

export type RequestFault =
  | { readonly kind: 'none' }
  | { readonly kind: 'status'; readonly status: number; readonly retryAfterSeconds?: number }
  | { readonly kind: 'reset' }
  | { readonly kind: 'malformed' }
  | { readonly kind: 'truncated' }
  | { readonly kind: 'missing_tasks' };

export interface FaultCounters {
  /** Faults injected, by kind (e.g. `status:503`, `reset`, `duplicate`). */
  readonly injected: Record<string, number>;
  appendedTasks: number;
}

const SERVER_ERRORS = [500, 502, 503, 504] as const;


export class FaultInjector {
  readonly counters: FaultCounters = { injected: Object.create(null) as Record<string, number>, appendedTasks: 0 };
  private readonly roll: () => number;
  private tasksRequests = 0;

  constructor(private readonly spec: FaultSpec) {
    this.roll = seededRandom(spec.seed ?? 1);
  }

  private hit(rate: number | undefined): boolean {
    return rate !== undefined && rate > 0 && this.roll() < rate;
  }

  private count(kind: string): void {
    this.counters.injected[kind] = (this.counters.injected[kind] ?? 0) + 1;
  }

  /** Extra delay for this request, in ms (0 for none). */
  delayMs(): number {
    if (!this.hit(this.spec.slowRate)) return 0;
    this.count('slow');
    return this.spec.slowMs ?? 1000;
  }

  /** Decided once per tasks request, before the answer is built. */
  requestFault(): RequestFault {
    const n = ++this.tasksRequests;
    const s = this.spec;
    const burst = s.throttleBurst;
    let fault: RequestFault = { kind: 'none' };
    if (burst && n >= burst.from && n < burst.from + burst.count) {
      fault = { kind: 'status', status: 429, ...retryAfter(burst.retryAfterSeconds) };
    } else if (s.every && n % s.every.n === 0) {
      fault = { kind: 'status', status: s.every.status };
    } else if (this.hit(s.resetRate)) {
      fault = { kind: 'reset' };
    } else if (this.hit(s.throttleRate)) {
      fault = { kind: 'status', status: 429, ...retryAfter(s.retryAfterSeconds) };
    } else if (this.hit(s.serverErrorRate)) {
      fault = { kind: 'status', status: SERVER_ERRORS[Math.floor(this.roll() * SERVER_ERRORS.length)] ?? 503 };
    } else if (this.hit(s.malformedRate)) {
      fault = { kind: 'malformed' };
    } else if (this.hit(s.truncatedRate)) {
      fault = { kind: 'truncated' };
    } else if (this.hit(s.missingTasksArrayRate)) {
      fault = { kind: 'missing_tasks' };
    }
    if (fault.kind !== 'none') this.count(fault.kind === 'status' ? `status:${fault.status}` : fault.kind);
    return fault;
  }

  /** Real drift: a task appears while the exporter is paging. */
  maybeAppendTask(fleet: SimFleet, cluster: SimCluster): void {
    const max = this.spec.maxAppendedTasks ?? 100;
    if (this.counters.appendedTasks >= max || !this.hit(this.spec.appendTaskRate)) return;
    this.counters.appendedTasks += 1;
    this.count('append');
    const n = this.counters.appendedTasks;
    fleet.addTask(cluster.projectId, cluster.id, {
      type: 'Grow',
      logical_cluster_name: 'lc_appended',
      // Later than any generated task, so ASC order puts it at the end.
      start_time: `2099-01-01 00:${String(Math.floor(n / 60) % 60).padStart(2, '0')}:${String(n % 60).padStart(2, '0')}`,
      end_time: '',
      result: '',
      log: `appended during paging #${n}`,
    });
  }

  /** The page as the faulty server sends it. `start` is the first row's index in the view. */
  shapePage(
    view: readonly SimTask[],
    start: number,
    size: number,
  ): { readonly tasks: readonly SimTask[]; readonly count: number | undefined } {
    const s = this.spec;
    const from = s.ignoreOffset ? 0 : start;
    let tasks: SimTask[] = view.slice(from, from + size);
    if (from > 0 && tasks.length > 0 && this.hit(s.emptyPageRate)) {
      this.count('empty_page');
      tasks = [];
    } else if (tasks.length > 1 && from + size < view.length && this.hit(s.shortPageRate)) {
      this.count('short_page');
      tasks = tasks.slice(0, Math.ceil(tasks.length / 2));
    }
    const previous = view[from - 1];
    if (previous && tasks.length > 0 && this.hit(s.duplicateRate)) {
      this.count('duplicate');
      tasks = [previous, ...tasks];
    }
    let count: number | undefined = s.omitCount ? undefined : view.length;
    if (count !== undefined && this.hit(s.countDriftRate)) {
      this.count('count_drift');
      const drift = 1 + Math.floor(this.roll() * (s.countDrift ?? 1));
      count = Math.max(0, count + (this.roll() < 0.5 ? -drift : drift));
    }
    return { tasks, count };
  }
}

function retryAfter(seconds: number | undefined): { retryAfterSeconds?: number } {
  return seconds === undefined ? {} : { retryAfterSeconds: seconds };
}
