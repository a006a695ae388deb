/**
 * What a scenario is (a registry entry, see index.ts) and what it hands to the report, plus the
 * pieces most scenarios share: a simulator for a fleet, repeated fresh runs, a result row.
 */
import type { ProfileSummary } from '../cpuprofile-summary.js';
import { log, TOKEN, type Context } from '../context.js';
import { f, int } from '../format.js';
import type { Bounds } from '../bounds.js';
import type { Options } from '../options.js';
import { startSimulatorProcess, type SimulatorHandle } from '../simulator-control.js';
import type { FleetGroup } from '../simulator-process.js';
import type { RunRecord } from '../timed-run.js';

/** One row of the main table: a scenario's runs, its bounds and its target. */
export interface ScenarioResult {
  /** Also the table's order ("1", "2", …, "5a"; compared numerically). */
  readonly id: string;
  readonly title: string;
  readonly rows: number;
  readonly concurrency: number;
  readonly runs: readonly RunRecord[];
  readonly bounds: Bounds;
  /** Bound used for the ratio (max of HTTP and DB, or as the scenario says). */
  readonly ratioBoundS: number;
  readonly target: string;
  readonly met: boolean | null;
  readonly notes: string[];
}

export interface SweepPoint {
  readonly concurrency: number;
  readonly run: RunRecord;
  readonly httpBoundS: number;
  readonly latencyBoundS: number;
  readonly dbBoundS: number;
}

export interface ProfileOutcome {
  fleet: ProfileSummary | null;
  rerun: ProfileSummary | null;
  readonly files: string[];
}

/**
 * A table row judged from other scenarios' runs (5b: run 1 against 5a), not a run of its own:
 * shown after the scenario rows, with one line of detail; not in the CPU table or the JSON.
 */
export interface DerivedRow {
  readonly result: ScenarioResult;
  readonly detail: string;
}

export interface ScenarioOutput {
  readonly results?: readonly ScenarioResult[];
  readonly sweep?: { readonly rows: number; readonly points: readonly SweepPoint[] };
  readonly profile?: ProfileOutcome;
  /** Called with every scenario's results once all have run. */
  readonly derive?: (all: readonly ScenarioResult[]) => DerivedRow | null;
}

/** A registry entry (scenarios/index.ts); entries run in registry order. */
export interface Scenario {
  /** The names `--only` selects it by, each with its line in `--help` (one entry may serve several). */
  readonly names: Readonly<Record<string, string>>;
  /** Whether to run it; by default when `--only` names any of `names`. */
  readonly wanted?: (options: Options) => boolean;
  readonly run: (ctx: Context) => Promise<ScenarioOutput>;
}

/** Groups of `projects` × `clustersPerProject` adding up to exactly `clusters`. */
export function fleetGroups(seed: number, clusters: number, tasks: number): FleetGroup[] {
  const projects = clusters >= 10 && clusters % 10 === 0 ? 10 : 1;
  return [{ seed, projects, clustersPerProject: clusters / projects, tasks }];
}

/** Runs `work` with a simulator process serving `groups`, stopped afterwards (and on interrupt). */
export async function withSimulator<T>(
  ctx: Context,
  label: string,
  groups: readonly FleetGroup[],
  work: (sim: SimulatorHandle) => Promise<T>,
): Promise<T> {
  const started = performance.now();
  const sim = await startSimulatorProcess(ctx.simJs, { groups, latencyMs: ctx.options.latencyMs, token: TOKEN });
  ctx.cleanups.push(() => sim.stop());
  log(
    `${label}: simulator up (${int(sim.ready.totalTasks)} tasks in ${sim.ready.taskCounts.length} clusters, ` +
      `generated in ${f(sim.ready.generateMs / 1000, 1)} s, ready after ${f((performance.now() - started) / 1000, 1)} s)`,
  );
  try {
    return await work(sim);
  } finally {
    await sim.stop();
  }
}

/**
 * A result with the usual defaults: ratio against max(HTTP bound, DB bound), no target ("reported"),
 * met only in the sense that every run passed its checks.
 */
export function scenarioResult(
  fields: Pick<ScenarioResult, 'id' | 'title' | 'rows' | 'concurrency' | 'runs' | 'bounds'> & Partial<ScenarioResult>,
): ScenarioResult {
  const { id, title, rows, concurrency, runs, bounds } = fields;
  // Keys in this order: the order of the JSON file's scenario objects.
  return {
    id,
    title,
    rows,
    concurrency,
    runs,
    bounds,
    ratioBoundS: fields.ratioBoundS ?? Math.max(bounds.httpBoundS, bounds.dbBoundS),
    target: fields.target ?? '— (reported)',
    met: fields.met === undefined ? (runs.every((r) => r.ok) ? null : false) : fields.met,
    notes: fields.notes ?? [],
  };
}
