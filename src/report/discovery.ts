/** What `discover` prints: the plan as a text report, or as one JSON document (--output json). */
import type { ClusterSelection, ExporterConfig } from '../config/schema.js';
import { ExporterError } from '../core/errors.js';
import type { ClusterPlan, ProjectPlan } from '../plan/plan-clusters.js';
import { formatTable } from './table.js';

function describeSelection(selection: ClusterSelection): string {
  if (selection.mode === 'ids') return `${selection.ids.length} cluster id${selection.ids.length === 1 ? '' : 's'} listed in the config`;
  if (selection.include === null && selection.exclude.length === 0) return '"all"';
  const parts = [
    selection.include === null ? 'all' : `include ${JSON.stringify(selection.include)}`,
    ...(selection.exclude.length > 0 ? [`exclude ${JSON.stringify(selection.exclude)}`] : []),
  ];
  return parts.join(', ');
}

function formatProject(plan: ProjectPlan): string {
  const { project } = plan;
  const lines = [
    `Project ${project.projectId}, region ${project.region ?? 'unknown'}, ${project.endpoint}: clusters ${describeSelection(project.clusters)}`,
  ];
  if (plan.error) {
    const consequence =
      project.clusters.mode === 'ids'
        ? ' (names and statuses unknown; a run exports the configured ids without listing them)'
        : ' (a run cannot tell which clusters to export)';
    lines.push(`  cannot list the clusters: ${plan.error.message}${consequence}`);
  }
  const missing = new Set(plan.missing);
  // Listed clusters that are not configured are shown too, so a typo's right id is on the screen.
  const extra = plan.project.clusters.mode === 'ids' && missing.size > 0 ? (plan.listed ?? []).filter((c) => !plan.decisions.some((d) => d.cluster.id === c.id)) : [];
  const rows = [
    ...plan.decisions.map(({ cluster, skipReason }) => [
      cluster.id,
      cluster.name ?? '?',
      cluster.status ?? '?',
      missing.has(cluster.id) ? 'fail: not in the project' : skipReason === null ? 'export' : `skip: ${skipReason}`,
    ]),
    ...extra.map((cluster) => [cluster.id, cluster.name ?? '?', cluster.status ?? '?', 'skip: not configured']),
  ];
  if (rows.length > 0) {
    lines.push(...formatTable(['cluster id', 'name', 'status', 'a run would'], rows).split('\n').map((line) => `  ${line}`));
  } else if (!plan.error) {
    lines.push('  no clusters');
  }
  for (const pattern of plan.unmatched) lines.push(`  warning: "include" entry ${JSON.stringify(pattern)} matches no cluster`);
  for (const id of plan.missing) lines.push(`  error: cluster ${id} is configured but not in the project's cluster list`);
  return lines.join('\n');
}

export interface DiscoveryTotals {
  readonly projects: number;
  readonly regions: number;
  readonly clustersToExport: number;
  readonly clustersSkipped: number;
  readonly projectsFailed: number;
  readonly missingIds: number;
}

export function discoveryTotals(config: ExporterConfig, plan: ClusterPlan): DiscoveryTotals {
  return {
    projects: config.projects.length,
    regions: new Set(config.projects.map((p) => p.region ?? p.endpoint)).size,
    clustersToExport: plan.clusters.length,
    clustersSkipped: plan.projects.reduce((n, p) => n + p.decisions.filter((d) => d.skipReason !== null).length, 0),
    projectsFailed: plan.projects.filter((p) => p.error !== null).length,
    missingIds: plan.projects.reduce((n, p) => n + p.missing.length, 0),
  };
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export function formatDiscovery(config: ExporterConfig, plan: ClusterPlan): string {
  const t = discoveryTotals(config, plan);
  const summary =
    `${plural(t.projects, 'project')} in ${plural(t.regions, 'region')}: ` +
    `${plural(t.clustersToExport, 'cluster')} to export, ${t.clustersSkipped} skipped` +
    `${t.projectsFailed > 0 ? `, ${plural(t.projectsFailed, 'project')} whose cluster list could not be read` : ''}` +
    `${t.missingIds > 0 ? `, ${plural(t.missingIds, 'configured cluster id')} not in ${t.missingIds === 1 ? 'its' : 'their'} project (fix the config)` : ''}. ` +
    'Nothing was written to the database.';
  return [...plan.projects.map(formatProject), summary].join('\n\n');
}

/** The same plan as one JSON document (versioned; fields are only ever added). */
export function discoveryDocument(config: ExporterConfig, plan: ClusterPlan, credentials: string, exitCode: number): unknown {
  return {
    schemaVersion: 1,
    credentials,
    exitCode,
    totals: discoveryTotals(config, plan),
    projects: plan.projects.map((p) => ({
      projectId: p.project.projectId,
      region: p.project.region,
      endpoint: p.project.endpoint,
      selection: describeSelection(p.project.clusters),
      error: p.error ? { code: p.error instanceof ExporterError ? p.error.code : 'INTERNAL', message: p.error.message } : null,
      clusters: p.decisions.map(({ cluster, skipReason }) => ({
        id: cluster.id,
        name: cluster.name,
        status: cluster.status,
        export: skipReason === null,
        skipReason,
      })),
      unmatchedIncludes: p.unmatched,
      missingIds: p.missing,
    })),
  };
}
