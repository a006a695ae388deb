/**
 * (5a) memory at the small size, judged with run 1 and its rerun as (5b): peak RSS ≤ 256 MiB at 1M
 * rows and ≤ 1.2 × the 100k figure; and the concurrency sweep behind the plot. Both share one fleet.
 */
import { latencyBound, measureBounds, type Bounds } from '../bounds.js';
import type { Context } from '../context.js';
import { f, int } from '../format.js';
import type { SimulatorHandle } from '../simulator-control.js';
import { freshRun, freshRuns, type RunRecord } from '../timed-run.js';
import { fleetGroups, scenarioResult, withSimulator, type DerivedRow, type Scenario, type ScenarioResult, type SweepPoint } from './scenario.js';

const LABEL = 'memsmall';
const MEMORY_LIMIT_MIB = 256;

export const memorySweepScenario: Scenario = {
  names: {
    memory: '(5a) the fleet at --memory-small-rows; with fleet also (5b), the memory verdict',
    sweep: 'wall time against concurrency (--sweep) on the 5a fleet: the plot and its table',
  },
  run: async (ctx) => {
    const { options } = ctx;
    const clusters = Math.max(1, Math.round(options.memorySmallRows / options.fleetTasks));
    const rows = clusters * options.fleetTasks;
    return withSimulator(ctx, LABEL, fleetGroups(5, clusters, options.fleetTasks), async (sim) => {
      const bounds = await measureBounds(ctx, LABEL, sim, options.concurrency, options.repeat, false);
      const small = options.only.has('memory') ? await memorySmall(ctx, sim, bounds, rows) : null;
      const points = options.only.has('sweep') ? await sweep(ctx, sim, bounds, rows) : [];
      return {
        results: small ? [small] : [],
        sweep: { rows, points },
        derive: (all) => (small ? memoryVerdict(all, small) : null),
      };
    });
  },
};

async function memorySmall(ctx: Context, sim: SimulatorHandle, bounds: Bounds, rows: number): Promise<ScenarioResult> {
  const c = ctx.options.concurrency;
  const runs = await freshRuns(ctx, LABEL, sim, c, rows, ctx.options.repeat);
  return scenarioResult({ id: '5a', title: `memory: (1) at ${int(rows)} rows`, rows, concurrency: c, runs, bounds, target: '— (reference for 5b)' });
}

async function sweep(ctx: Context, sim: SimulatorHandle, bounds: Bounds, rows: number): Promise<SweepPoint[]> {
  const points: SweepPoint[] = [];
  for (const c of ctx.options.sweep) {
    const run = await freshRun(ctx, `sweep-c${c}`, sim, c, rows);
    const latencyBoundS = latencyBound(bounds.minRequests, ctx.options.latencyMs, c);
    points.push({ concurrency: c, run, latencyBoundS, httpBoundS: Math.max(latencyBoundS, bounds.throughputBoundS), dbBoundS: bounds.dbBoundS });
  }
  return points;
}

/**
 * (5b): the highest peak RSS of the fleet's runs and reruns (4), where every stored fingerprint of a
 * cluster is in memory while it is walked, against the limit and against 5a's highest.
 */
function memoryVerdict(all: readonly ScenarioResult[], small: ScenarioResult): DerivedRow | null {
  const fleet = all.find((s) => s.id === '1');
  if (!fleet) return null;
  const rerun = all.find((s) => s.id === '4');
  const everyRun: readonly RunRecord[] = [...fleet.runs, ...(rerun?.runs ?? [])];
  // The row shows the run that peaked highest.
  const highest = everyRun.reduce((a, b) => (b.result.maxRssMb > a.result.maxRssMb ? b : a));
  const big = highest.result.maxRssMb;
  // Like with like: the highest peak at the small size too.
  const ref = Math.max(...small.runs.map((r) => r.result.maxRssMb));
  // Its wall time and ratio against its own scenario's bound: a rerun's against the HTTP bound.
  const shown = rerun?.runs.includes(highest) ? rerun : fleet;
  return {
    result: {
      ...shown,
      runs: [highest],
      id: '5b',
      title: `memory: (1) and its rerun at ${int(fleet.rows)} rows (row: ${highest.label}, the highest peak)`,
      target: `≤ ${MEMORY_LIMIT_MIB} MiB and ≤ 1.2 × 5a = ${f(1.2 * ref, 0)} MiB`,
      met: everyRun.every((r) => r.ok) && big <= MEMORY_LIMIT_MIB && big <= 1.2 * ref,
    },
    detail:
      `memory: ${f(big, 0)} MiB at ${int(fleet.rows)} rows, the highest of ${everyRun.length} runs ` +
      `(runs ${fleet.runs.map((r) => f(r.result.maxRssMb, 0)).join(', ')}; reruns ${rerun ? rerun.runs.map((r) => f(r.result.maxRssMb, 0)).join(', ') : '—'}) ` +
      `vs ${f(ref, 0)} MiB at ${int(small.rows)} rows, the highest of ${small.runs.length} (×${f(big / ref)})`,
  };
}
