/**
 * Runs the real export in-process (the same runExportSession the CLI uses)
 * against a simulator and a test database, and reads back what landed.
 */
import { setMaxListeners } from 'node:events';
import type pg from 'pg';
import type { Credentials, ExporterEnv } from '../../src/config/env.js';
import { parseConfig } from '../../src/config/load-config.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { runExportSession, type ExportSessionInput } from '../../src/commands/export-session.js';
import type { RunReport } from '../../src/export/run-export.js';
import { createLogger, type Logger } from '../../src/core/logger.js';
import { startSimulator, type SimFleet, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';

export const TEST_TOKEN = 'test-iam-token';

function neverAborted(): AbortSignal {
  const { signal } = new AbortController();
  // Every request in flight listens on it, as in production (see src/commands/shutdown.ts).
  setMaxListeners(0, signal);
  return signal;
}

/**
 * A config for every cluster of `fleet` on `simulator`. Retries are fast and
 * the request budget generous so fault tests stay quick (the policies are
 * unit-tested); an `http` override is merged into those defaults.
 */
export function fleetConfig(simulator: Simulator, fleet: SimFleet, overrides: Partial<ConfigInput> = {}): ConfigInput {
  const { http, ...rest } = overrides;
  return {
    endpoint: simulator.url,
    projects: fleet.projectIds().map((projectId) => ({
      projectId,
      clusters: fleet.clustersOf(projectId).map((c) => c.id),
    })),
    http: { retryMinDelayMs: 5, retryMaxDelayMs: 50, maxRequestsPerSecond: 5000, ...http },
    ...rest,
  };
}

/** A simulator for the duration of `body`, requiring TEST_TOKEN unless `options.auth` says otherwise. */
export async function withSimulator<T>(
  options: SimulatorOptions,
  body: (simulator: Simulator) => Promise<T>,
): Promise<T> {
  const simulator = await startSimulator({ auth: { token: TEST_TOKEN }, ...options });
  try {
    return await body(simulator);
  } finally {
    await simulator.close();
  }
}

export async function exportOnce(
  databaseUrl: string,
  config: ConfigInput,
  credentials: Credentials = { kind: 'token', token: TEST_TOKEN },
  signal: AbortSignal = neverAborted(),
  options: Pick<ExportSessionInput, 'shard' | 'runGroupId'> & { readonly logger?: Logger } = {},
): Promise<RunReport> {
  const { logger, ...session } = options;
  const env: ExporterEnv = {
    databaseUrl,
    configPath: undefined,
    dataDir: '.dws-exporter',
    logLevel: 'silent',
    credentials,
  };
  return runExportSession({
    env,
    config: parseConfig(config, 'test config'),
    credentials,
    migrate: true,
    logger: logger ?? createLogger('silent'),
    announce: () => undefined,
    signal,
    ...session,
  });
}

export interface LogLine {
  readonly level: string;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** A JSON logger whose lines land in `lines`, parsed; `onLine` sees each as it is written. */
export function captureLogger(onLine: (line: LogLine) => void = () => undefined): { readonly lines: LogLine[]; readonly logger: Logger } {
  const lines: LogLine[] = [];
  const write = (chunk: string): void => {
    const line = JSON.parse(chunk) as LogLine;
    lines.push(line);
    onLine(line);
  };
  return { lines, logger: createLogger('debug', { write }, { format: 'json' }) };
}

export interface StoredTask {
  readonly cluster_id: string;
  readonly logical_cluster_name: string;
  readonly task_type: string;
  readonly start_time_raw: string;
  readonly end_time_raw: string | null;
  readonly result: string | null;
  readonly log: string | null;
}

/** Stored rows as the API would have sent them, sorted, for exact comparison. */
export async function storedTasks(pool: pg.Pool): Promise<string[]> {
  const result = await pool.query<StoredTask>(
    `SELECT cluster_id, logical_cluster_name, task_type, start_time_raw, end_time_raw, result, log
       FROM dws.logical_cluster_tasks`,
  );
  return result.rows
    .map((r) => JSON.stringify([r.cluster_id, r.logical_cluster_name, r.task_type, r.start_time_raw, r.end_time_raw, r.result, r.log]))
    .sort();
}

/** The simulator's truth in the same form. */
export function fleetTasks(fleet: SimFleet): string[] {
  return fleet.clusters
    .flatMap((c) =>
      c.tasks.map((t) =>
        JSON.stringify([c.id, t.logical_cluster_name ?? '', t.type ?? '', t.start_time ?? '', t.end_time, t.result, t.log]),
      ),
    )
    .sort();
}
