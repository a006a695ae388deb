/**
 * (6) the fleet's first load in a database whose default collation is ICU en-US, against the DB
 * bound measured in such a database: with the task key declared "C" the exporter must keep its
 * distance to the bound there too (≤ 1.2 × max(bounds), as (1)).
 */
import { startBounds } from '../bounds.js';
import type { Context } from '../context.js';
import { f, int } from '../format.js';
import { freshRun, medians, type RunRecord } from '../timed-run.js';
import { FIRST_LOAD_FACTOR } from './fleet.js';
import { fleetGroups, scenarioResult, withSimulator, type Scenario } from './scenario.js';

/** CREATE DATABASE clauses: an ICU en-US default collation (template0: the default one is libc). */
export const ICU_EN_US = "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'";

export const collationScenario: Scenario = {
  names: { icu: "(6) the fleet's first load in a database whose default collation is ICU en-US, with its own DB bound" },
  run: async (ctx) => {
    const { options } = ctx;
    const c = options.concurrency;
    const rows = options.fleetClusters * options.fleetTasks;
    const icu: Context = { ...ctx, databaseClauses: ICU_EN_US };
    const result = await withSimulator(ctx, 'icu', fleetGroups(6, options.fleetClusters, options.fleetTasks), async (sim) => {
      const sampler = await startBounds(icu, 'icu', sim, c, false);
      const runs: RunRecord[] = [];
      for (let i = 1; i <= options.repeatBig; i++) {
        // Interleaved like (1): a DB sample before each run.
        await sampler.sample();
        runs.push(await freshRun(icu, `icu-${i}`, sim, c, rows));
      }
      const bounds = await sampler.finish();
      const bound = Math.max(bounds.httpBoundS, bounds.dbBoundS);
      return scenarioResult({
        id: '6',
        title: `fleet ${int(options.fleetClusters)}×${int(options.fleetTasks)}, ICU en-US database`,
        rows,
        concurrency: c,
        runs,
        bounds,
        target: `≤ 1.2 × max(bounds) = ${f(FIRST_LOAD_FACTOR * bound)} s`,
        met: runs.every((r) => r.ok) && medians(runs).wallS <= FIRST_LOAD_FACTOR * bound,
        notes: [`databases created with ${ICU_EN_US}`],
      });
    });
    return { results: [result] };
  },
};
