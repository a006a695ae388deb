/** (3) many tiny clusters: per-cluster overhead rather than rows; reported, no target. */
import { measureBounds } from '../bounds.js';
import { int } from '../format.js';
import { freshRuns } from '../timed-run.js';
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
      return scenarioResult({ id: '3', title: `many tiny ${int(options.tinyClusters)}×${options.tinyTasks}`, rows, concurrency: c, runs, bounds });
    });
    return { results: [result] };
  },
};
