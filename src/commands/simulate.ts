/**
 * `dws-task-exporter simulate`: the DWS API simulator as a standalone server,
 * for trying the exporter (or anything else) against a realistic fleet.
 * Prints a matching config file on stdout; runs until SIGINT/SIGTERM.
 */
import { once } from 'node:events';
import { UsageError } from '../core/errors.js';
import { ExitCode, type ExitCodeValue } from '../core/exit-codes.js';
import { historyEndingAt, SimFleet, startSimulator } from '../simulator/index.js';

export interface SimulateOptions {
  readonly host: string;
  readonly port: number;
  readonly projects: number;
  readonly clustersPerProject: number;
  readonly minTasks: number;
  readonly maxTasks: number;
  readonly seed: number;
  readonly offsetMode: 'rows' | 'pages';
  readonly pageCap: number | undefined;
  readonly latencyMs: number;
  readonly token: string | undefined;
}

/** The server, or a usage error naming the address when it cannot listen there (port taken, address not local). */
async function listening<T>(options: Pick<SimulateOptions, 'host' | 'port'>, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new UsageError(`port ${options.port} on ${options.host} is in use: pass another --port, or --port 0 for a free one`);
    }
    if (code === 'EADDRNOTAVAIL' || code === 'EACCES') {
      throw new UsageError(`cannot listen on ${options.host}:${options.port} (${code}): pass --host 127.0.0.1, or a port above 1023`);
    }
    throw error;
  }
}

export async function simulateCommand(options: SimulateOptions, out: (line: string) => void): Promise<ExitCodeValue> {
  const fleet = SimFleet.generate({
    seed: options.seed,
    projects: options.projects,
    clustersPerProject: options.clustersPerProject,
    minTasks: options.minTasks,
    maxTasks: options.maxTasks,
    // Two years of history ending now: dashboards and reports over recent days show something.
    ...historyEndingAt(new Date()),
  });
  const simulator = await listening(options, () => startSimulator({
    fleet,
    host: options.host,
    port: options.port,
    offsetMode: options.offsetMode,
    latencyMs: options.latencyMs,
    ...(options.pageCap !== undefined ? { pageSizeCap: options.pageCap } : {}),
    ...(options.token !== undefined ? { auth: { token: options.token } } : {}),
  }));
  const config = {
    endpoint: simulator.url,
    projects: fleet.projectIds().map((projectId) => ({
      projectId,
      clusters: fleet.clustersOf(projectId).map((c) => c.id),
    })),
  };
  process.stderr.write(
    `DWS API simulator listening at ${simulator.url}: ${fleet.clusters.length} clusters, ` +
      `${fleet.totalTasks()} tasks, offset counts ${options.offsetMode}` +
      `${options.token ? ', requires X-Auth-Token' : ', accepts any credentials'}. Ctrl-C stops it.\n` +
      'A matching config file follows on stdout.\n',
  );
  out(JSON.stringify(config, null, 2));
  await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
  await simulator.close();
  return ExitCode.OK;
}
