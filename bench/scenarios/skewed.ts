/** (2) skewed: many small clusters and one big one, which must be fetched over the full concurrency. */
import { latencyBound, measureBounds, pagesFor } from '../bounds.js';
import { f, int } from '../format.js';
import { freshRuns, medians } from '../timed-run.js';
import { scenarioResult, withSimulator, type Scenario } from './scenario.js';

export const skewedScenario: Scenario = {
  names: { skewed: '(2) --skew-clusters small clusters and one of --skew-big-tasks' },
  run: async (ctx) => {
    const { options } = ctx;
    const c = options.concurrency;
    const rows = options.skewClusters * options.skewTasks + options.skewBigTasks;
    // The big cluster comes last in the config: it starts after most small ones.
    const groups = [
      { seed: 2, projects: 1, clustersPerProject: options.skewClusters, tasks: options.skewTasks },
      { seed: 3, projects: 1, clustersPerProject: 1, tasks: options.skewBigTasks },
    ];
    const result = await withSimulator(ctx, 'skewed', groups, async (sim) => {
      const bounds = await measureBounds(ctx, 'skewed', sim, c, options.repeat, false);
      const runs = await freshRuns(ctx, 'skewed', sim, c, rows, options.repeat);
      const bigPages = pagesFor(options.skewBigTasks, options.pageSize);
      const bigBound = latencyBound(bigPages, options.latencyMs, c);
      return scenarioResult({
        id: '2',
        title: `skewed ${options.skewClusters}×${options.skewTasks} + 1×${int(options.skewBigTasks)}`,
        rows,
        concurrency: c,
        runs,
        bounds,
        target: `≤ 1.5 × big-cluster HTTP bound (${f(bigBound)} s) = ${f(1.5 * bigBound)} s`,
        met: runs.every((r) => r.ok) && medians(runs).wallS <= 1.5 * bigBound,
        notes: [`big cluster alone: ${bigPages} pages × ${options.latencyMs} ms ÷ ${c} = ${f(bigBound)} s`],
      });
    });
    return { results: [result] };
  },
};
