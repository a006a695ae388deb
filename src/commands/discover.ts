/**
 * `dws-task-exporter discover`: what a run would export, read from the API
 * with the run's own config and credentials, without touching the database.
 * The first command an operator runs: it proves credentials, endpoints and
 * the cluster selection in one go.
 */
import { readEnv } from '../config/env.js';
import { loadConfigFile } from '../config/load-config.js';
import { ConfigError } from '../core/errors.js';
import { ExitCode, exitCodeForError } from '../core/exit-codes.js';
import { createLogger } from '../core/logger.js';
import { planClusters, type ClusterPlan } from '../plan/plan-clusters.js';
import { discoveryDocument, formatDiscovery } from '../report/discovery.js';
import { createAuthorizer } from '../source/auth/authorizer.js';
import { describeCredentials, resolveCredentials } from '../source/auth/resolve-credentials.js';
import { createDwsClient } from '../source/dws-client.js';
import { createHttpClient, httpClientOptions } from '../source/http-client.js';
import { logProxy } from './export-session.js';

export interface DiscoverOptions {
  readonly configPath: string | undefined;
  readonly output?: 'text' | 'json';
}

/** 2 for configured ids the project does not have (fix the config); else the cluster lists' failure, if any. */
function discoveryExitCode(plan: ClusterPlan): number {
  if (plan.projects.some((p) => p.missing.length > 0)) return ExitCode.USAGE_OR_CONFIG;
  const codes = plan.projects.flatMap((p) => (p.error ? [exitCodeForError(p.error)] : []));
  if (codes.length === 0) return ExitCode.OK;
  return codes.every((code) => code === codes[0]) ? (codes[0] ?? ExitCode.FAILED) : ExitCode.FAILED;
}

export async function discoverCommand(
  options: DiscoverOptions,
  out: (line: string) => void,
  environment: NodeJS.ProcessEnv = process.env,
): Promise<number> {
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
    const code = discoveryExitCode(plan);
    if (options.output === 'json') {
      out(JSON.stringify(discoveryDocument(config, plan, describeCredentials(credentials), code)));
    } else {
      out(`Credentials: ${describeCredentials(credentials)}.`);
      out(formatDiscovery(config, plan));
    }
    return code;
  } finally {
    await http.close();
    await authorizer.close();
  }
}
