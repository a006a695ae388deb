/**
 * `dws-task-exporter discover`: what a run would export (projects, regions,
 * clusters, their status, and why a cluster would be skipped), read from the
 * API with the run's own config and credentials, without touching the
 * database. The command an operator runs first when setting up: it proves
 * the credentials, the endpoints and the cluster selection in one go.
 */
import { readEnv } from '../config/env.js';
import { loadConfigFile } from '../config/load-config.js';
import type { ClusterSelection, ExporterConfig } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import { planClusters, type ClusterPlan, type ProjectPlan } from '../plan/plan-clusters.js';
import { ExitCode, exitCodeForError, type ExitCodeValue } from '../report/exit-codes.js';
import { createLogger } from '../report/logger.js';
import { formatTable } from '../report/table.js';
import { createAuthorizer } from '../source/auth/authorizer.js';
import { describeCredentials, resolveCredentials } from '../source/auth/resolve-credentials.js';
import { createDwsClient } from '../source/dws-client.js';
import { createHttpClient, httpClientOptions } from '../source/http-client.js';
import { logProxy } from './export-session.js';

export interface DiscoverOptions {
  readonly configPath: string | undefined;
}

export async function discoverCommand(
  options: DiscoverOptions,
  out: (line: string) => void,
  environment: NodeJS.ProcessEnv = process.env,
): Promise<ExitCodeValue> {
  const env = readEnv(environment);
  const logger = createLogger(env.logLevel);
  const configPath = options.configPath ?? env.configPath;
  if (!configPath) {
    throw new ConfigError('no config file: pass --config FILE or set DWS_EXPORTER_CONFIG', 'command line');
  }
  const config = await loadConfigFile(configPath);
  const credentials = await resolveCredentials(env, config);
  logProxy(logger, env);
  const http = createHttpClient(httpClientOptions(config, env.proxy));
  const authorizer = createAuthorizer(credentials, { onWarning: (message) => logger.warn(message), proxy: env.proxy });
  try {
    const client = createDwsClient(http, authorizer);
    const plan = await planClusters(config, { client, listEveryProject: true, tolerateFailures: true, logger });
    out(`Credentials: ${describeCredentials(credentials)}.`);
    out(formatDiscovery(config, plan));
    const codes = plan.projects.flatMap((p) => (p.error ? [exitCodeForError(p.error)] : []));
    if (codes.length === 0) return ExitCode.OK;
    return codes.every((code) => code === codes[0]) ? (codes[0] ?? ExitCode.FAILED) : ExitCode.FAILED;
  } finally {
    await http.close();
    await authorizer.close();
  }
}

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
  if (plan.decisions.length > 0) {
    const rows = plan.decisions.map(({ cluster, skipReason }) => [
      cluster.id,
      cluster.name ?? '?',
      cluster.status ?? '?',
      skipReason === null ? 'export' : `skip: ${skipReason}`,
    ]);
    const table = formatTable(['cluster id', 'name', 'status', 'a run would'], rows);
    lines.push(...table.split('\n').map((line) => `  ${line}`));
  } else if (!plan.error) {
    lines.push('  no clusters');
  }
  for (const pattern of plan.unmatched) lines.push(`  warning: "include" entry ${JSON.stringify(pattern)} matches no cluster`);
  for (const id of plan.missing) lines.push(`  warning: cluster ${id} is configured but not in the project's cluster list`);
  return lines.join('\n');
}

export function formatDiscovery(config: ExporterConfig, plan: ClusterPlan): string {
  const regions = new Set(config.projects.map((p) => p.region ?? p.endpoint));
  const skipped = plan.projects.reduce((n, p) => n + p.decisions.filter((d) => d.skipReason !== null).length, 0);
  const failed = plan.projects.filter((p) => p.error !== null).length;
  const summary =
    `${config.projects.length} project${config.projects.length === 1 ? '' : 's'} in ${regions.size} region${regions.size === 1 ? '' : 's'}: ` +
    `${plan.clusters.length} cluster${plan.clusters.length === 1 ? '' : 's'} to export, ${skipped} skipped` +
    `${failed > 0 ? `, ${failed} project${failed === 1 ? '' : 's'} whose cluster list could not be read` : ''}. ` +
    'Nothing was written to the database.';
  return [...plan.projects.map(formatProject), summary].join('\n\n');
}
