/**
 * The demo's simulated fleet: two years of task history ending when this data
 * directory first ran the demo, so the dashboards and the report show recent
 * days, and a rerun sees exactly the same tasks (it writes nothing).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeDirectory } from '../core/make-directory.js';
import { historyEndingAt, SimFleet } from '../simulator/index.js';

/** In DWS_EXPORTER_DATA_DIR: `{"historyEndsAt": "<ISO instant>"}`. */
export const DEMO_FLEET_FILE = 'demo-fleet.json';

export interface DemoFleetSpec {
  readonly seed: number;
  readonly projects: number;
  readonly clustersPerProject: number;
  readonly maxTasks: number;
}

/** The fleet for `spec` whose history ends at `historyEndsAt`: no task starts later. */
export function demoFleet(spec: DemoFleetSpec, historyEndsAt: Date): SimFleet {
  return SimFleet.generate({
    seed: spec.seed,
    projects: spec.projects,
    clustersPerProject: spec.clustersPerProject,
    minTasks: 0,
    maxTasks: spec.maxTasks,
    ...historyEndingAt(historyEndsAt),
  });
}

/** When the demo's history ends: kept from the first demo in `dataDir`, else now (and kept, if the directory is writable). */
export async function demoHistoryEnd(dataDir: string, now: Date = new Date()): Promise<Date> {
  const path = join(dataDir, DEMO_FLEET_FILE);
  try {
    const saved: unknown = JSON.parse(await readFile(path, 'utf8'));
    const at = typeof saved === 'object' && saved !== null ? Date.parse(String((saved as { historyEndsAt?: unknown }).historyEndsAt)) : NaN;
    if (Number.isFinite(at)) return new Date(at);
  } catch {
    // No demo ran here yet, or the file is unreadable: a new history, from now.
  }
  await makeDirectory(dataDir)
    .then(() => writeFile(path, `${JSON.stringify({ historyEndsAt: now.toISOString() })}\n`))
    // Not fatal: a demo without it still works, with a history ending now.
    .catch(() => undefined);
  return now;
}
