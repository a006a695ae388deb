/**
 * A run whose plan is empty exports nothing every night while looking green:
 * that is a mistake in the config (an "include" that matches nothing, a
 * project without clusters), refused with the reason per project.
 */
import { ConfigError } from '../core/errors.js';
import type { ClusterPlan, ProjectPlan } from './plan-clusters.js';

function why(plan: ProjectPlan): string {
  const project = `project ${plan.project.projectId}`;
  if (plan.unmatched.length > 0) return `${project}: "include" ${JSON.stringify(plan.unmatched)} matches no cluster`;
  if (plan.decisions.length === 0) return `${project} lists no cluster`;
  const reasons = [...new Set(plan.decisions.map((d) => d.skipReason ?? 'planned elsewhere'))];
  return `${project}: all ${plan.decisions.length} clusters skipped (${reasons.join(', ')})`;
}

/** The error for a plan without a single cluster to export; null when there is one. */
export function nothingToExport(plan: ClusterPlan, source: string): ConfigError | null {
  if (plan.clusters.length > 0) return null;
  return new ConfigError(`nothing to export: ${plan.projects.map(why).join('; ')}; see what a run would do with \`dws-task-exporter discover\``, source);
}
