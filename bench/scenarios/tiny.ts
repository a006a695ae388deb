/** (3) many tiny clusters: per-cluster overhead rather than rows; ≤ 2 × max(HTTP bound, DB bound). */
import { measureBounds } from '../bounds.js';
import { f, int } from '../format.js';
import { freshRuns, medians } from '../timed-run.js';
import { fleetGroups, scenarioResult, withSimulator, type Scenario } from './scenario.js';

export const tinyScenario: Scenario = {
  names: { tiny: '(3) --tiny-clusters clusters of --tiny-tasks' },
  run: async (ctx) => {
    const { options } = ctx;
    const c = options.concurrency;
    const rows = options.tinyClusters * options.tinyTasks;
    const result = await withSimulator(ctx, 'tiny', fleetGroups(4, options.tinyClusters, options.tinyTasks), async (sim) => {
      const bounds = await measureBounds(ctx, 'tiny', sim, c, options.repeat, false);
      const runs = await freshRuns(ctx, 'tiny', sim, c, rows, options.repeat);
      const bound = Math.max(bounds.httpBoundS, bounds.dbBoundS);
      return scenarioResult({
        id: '3',
        title: `many tiny ${int(options.tinyClusters)}×${options.tinyTasks}`,
        rows,
        concurrency: c,
        runs,
        bounds,
        target: `≤ 2 × max(bounds) = ${f(2 * bound)} s`,
        met: runs.every((r) => r.ok) && medians(runs).wallS <= 2 * bound,
      });
    });
    return { results: [result] };
  },
};
