/**
 * CPU profile (`node --cpu-prof`) of a fleet run and its rerun, summarised by cpuprofile-summary.ts;
 * not in the table. At --profile-scale 1 it runs on the fleet scenario's simulator (fleet.ts).
 */
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { freshDatabase, log, PROFILES_DIR, type Context } from '../context.js';
import { summarizeProfile } from '../cpuprofile-summary.js';
import type { Options } from '../options.js';
import type { SimulatorHandle } from '../simulator-control.js';
import { exporterRun } from '../timed-run.js';
import { fleetGroups, withSimulator, type ProfileOutcome, type Scenario } from './scenario.js';

/** The fleet scenario profiles on its own simulator (no second fleet of the same size). */
export function profileOnFleetSimulator(options: Options): boolean {
  return options.only.has('profile') && options.profileScale === 1;
}

export async function profileRuns(ctx: Context, sim: SimulatorHandle, rows: number): Promise<ProfileOutcome> {
  const { options } = ctx;
  const db = await freshDatabase(ctx, 'profile');
  const out: ProfileOutcome = { fleet: null, rerun: null, files: [] };
  try {
    for (const which of ['fleet', 'rerun'] as const) {
      const profDir = join(ctx.workDir, 'profiles', which);
      await mkdir(profDir, { recursive: true });
      await exporterRun(ctx, {
        label: `profile-${which}`,
        sim,
        databaseUrl: db.url,
        concurrency: options.concurrency,
        expectRows: rows,
        freshDatabase: which === 'fleet',
        nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${profDir}`],
      });
      const file = (await readdir(profDir)).find((name) => name.endsWith('.cpuprofile'));
      if (!file) continue;
      const path = join(profDir, file);
      out[which] = await summarizeProfile(path, 25);
      const kept = join(PROFILES_DIR, `${which}.cpuprofile`);
      await mkdir(PROFILES_DIR, { recursive: true });
      await copyFile(path, kept);
      out.files.push(kept);
      log(`profile-${which}: ${kept}`);
    }
  } finally {
    await db.drop();
  }
  return out;
}

export const profileScenario: Scenario = {
  names: { profile: 'CPU profile of the fleet run and its rerun at --profile-scale (not in the table)' },
  wanted: (options) => options.only.has('profile') && !(options.only.has('fleet') && profileOnFleetSimulator(options)),
  run: async (ctx) => {
    const { options } = ctx;
    const clusters = Math.max(1, Math.round(options.fleetClusters * options.profileScale));
    const profile = await withSimulator(ctx, 'profile', fleetGroups(1, clusters, options.fleetTasks), (sim) =>
      profileRuns(ctx, sim, clusters * options.fleetTasks),
    );
    return { profile };
  },
};
