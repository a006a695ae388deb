/**
 * The scenarios, in the order they run. Adding one: a file exporting a `Scenario` (see
 * scenario.ts and tiny.ts, the smallest) and its line below; `--only` and `--help` follow.
 */
import type { Options } from '../options.js';
import { collationScenario } from './collation.js';
import { fleetScenario } from './fleet.js';
import { memorySweepScenario } from './memory-sweep.js';
import { profileScenario } from './profile.js';
import type { Scenario } from './scenario.js';
import { skewedScenario } from './skewed.js';
import { tinyScenario } from './tiny.js';

export const SCENARIOS: readonly Scenario[] = [
  fleetScenario,
  skewedScenario,
  tinyScenario,
  memorySweepScenario,
  collationScenario,
  profileScenario,
];

/** Every `--only` name with its help line, in registry order. */
export const SCENARIO_NAMES: ReadonlyMap<string, string> = new Map(SCENARIOS.flatMap((s) => Object.entries(s.names)));

export function wanted(scenario: Scenario, options: Options): boolean {
  return scenario.wanted ? scenario.wanted(options) : Object.keys(scenario.names).some((name) => options.only.has(name));
}
