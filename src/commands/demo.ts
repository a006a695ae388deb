/**
 * `dws-task-exporter demo`: the real export against the project's DWS API
 * simulator (on loopback, signed with demo AK/SK) into the demo's own
 * embedded PostgreSQL (never DATABASE_URL: only --database-url writes
 * elsewhere), then a look at what landed. Same code path as `run`; only the
 * endpoint, credentials and database differ.
 */
import { join } from 'node:path';
import { readEnv, type ExporterEnv } from '../config/env.js';
import { parseConfig } from '../config/load-config.js';
import { UsageError } from '../core/errors.js';
import type { RunReport } from '../export/run-export.js';
import type { ExitCodeValue } from '../core/exit-codes.js';
import { createLogger, type Logger } from '../core/logger.js';
import { formatRunSummary } from '../report/summary.js';
import { formatTable } from '../report/table.js';
import { startSimulator } from '../simulator/index.js';
import type { Database } from '../warehouse/database.js';
import type { EmbeddedServer } from '../warehouse/embedded-postgres.js';
import { readWarehouseSample } from '../warehouse/warehouse-sample.js';
import { embeddedDatabase, namedDatabase, type DatabaseTarget } from './database-target.js';
import { demoFleet, demoHistoryEnd } from './demo-fleet.js';
import { runExportSession } from './export-session.js';
import { writeHtmlReport } from './report.js';
import { installShutdown } from './shutdown.js';

export interface DemoOptions {
  readonly projects: number;
  readonly clustersPerProject: number;
  readonly maxTasks: number;
  readonly seed: number;
  /** --database-url: write the simulated fleet there instead of the demo's embedded PostgreSQL. */
  readonly databaseUrl: string | undefined;
  /** --keep-open: after the summary, keep the embedded server up for psql and BI tools until Ctrl-C. */
  readonly keepOpen: boolean;
}

/** The demo's embedded cluster, apart from the one `run` uses: its fake clusters never mix with real ones. */
const DEMO_CLUSTER = 'demo';

const DEMO_CREDENTIALS = { kind: 'aksk', accessKey: 'DEMOACCESSKEY0000001', secretKey: 'demo-secret-key-not-a-real-one', securityToken: undefined } as const;

export async function demoCommand(options: DemoOptions, out: (line: string) => void): Promise<ExitCodeValue> {
  if (options.databaseUrl !== undefined && options.databaseUrl.trim() === '') throw new UsageError('--database-url needs a PostgreSQL URL');
  if (options.keepOpen && options.databaseUrl !== undefined) {
    throw new UsageError("--keep-open keeps the demo's embedded PostgreSQL running; it does not apply to --database-url");
  }
  // Its simulator is on loopback in this process: proxy variables do not apply.
  const env = readEnv(process.env, { ignoreProxy: true });
  // The demo's story is on stdout; keep the JSON log for warnings unless asked.
  const logger = createLogger(process.env.LOG_LEVEL ? env.logLevel : 'warn');
  if (options.databaseUrl === undefined && env.databaseUrl) {
    out('DATABASE_URL is set, but the demo does not write to it: pass --database-url "$DATABASE_URL" to write its simulated clusters there.');
  }
  const target: DatabaseTarget =
    options.databaseUrl !== undefined
      ? namedDatabase(options.databaseUrl, '--database-url', out)
      : await embeddedDatabase(
          { dataDir: env.dataDir, cluster: DEMO_CLUSTER, name: "the demo's embedded PostgreSQL", why: 'its own; --database-url URL writes elsewhere' },
          logger,
          out,
        );
  try {
    const report = await exportSimulatedFleet(options, { env, logger, target, out });
    // A Ctrl-C during the export means stop, not keep open.
    if (options.keepOpen && target.server && report.status !== 'interrupted') await keepOpen(target.server, out);
    return report.exitCode;
  } finally {
    await target.release();
  }
}

interface DemoContext {
  readonly env: ExporterEnv;
  readonly logger: Logger;
  readonly target: DatabaseTarget;
  readonly out: (line: string) => void;
}

async function exportSimulatedFleet(options: DemoOptions, { env, logger, target, out }: DemoContext): Promise<RunReport> {
  const fleet = demoFleet(options, await demoHistoryEnd(env.dataDir));
  const simulator = await startSimulator({
    fleet,
    offsetMode: 'rows',
    pageSizeCap: 50,
    latencyMs: 5,
    auth: { credentials: { accessKey: DEMO_CREDENTIALS.accessKey, secretKey: DEMO_CREDENTIALS.secretKey } },
  });
  try {
    out(
      `DWS API simulator at ${simulator.url}: ${fleet.clusters.length} clusters in ${options.projects} projects, ` +
        `${fleet.totalTasks().toLocaleString('en-US')} tasks (page size capped at 50, offset counts rows, AK/SK signatures verified).`,
    );
    const config = parseConfig(
      {
        endpoint: simulator.url,
        // Listed, as a real setup would: dws.clusters then has the names the report and BI tools show.
        projects: fleet.projectIds().map((projectId) => ({ projectId, clusters: 'all' })),
        concurrency: 8,
        pageSize: 100,
        // The simulator is on loopback: no shared gateway quota to protect.
        http: { maxRequestsPerSecond: 2000 },
      },
      'demo config',
    );
    const shutdown = installShutdown(config.shutdownGraceMs, logger);
    try {
      const report = await runExportSession({
        env,
        config,
        credentials: DEMO_CREDENTIALS,
        migrate: true,
        logger,
        announce: out,
        signal: shutdown.signal,
        target,
        afterRun: (database) => showWarehouse(database, env.dataDir, out),
      });
      out(formatRunSummary(report));
      return report;
    } finally {
      shutdown.dispose();
    }
  } finally {
    await simulator.close();
  }
}

/** Until SIGINT (Ctrl-C) or SIGTERM; the caller then stops the server. */
async function keepOpen(server: EmbeddedServer, out: (line: string) => void): Promise<void> {
  const { port, username, password, pathname } = new URL(server.url);
  out(`\nThe demo's PostgreSQL keeps running until Ctrl-C (password kept in ${server.passwordFile}):`);
  out(`  psql "${server.url}"`);
  out(`  URL for a BI tool: ${server.url}`);
  out(`  or: host 127.0.0.1, port ${port}, database ${pathname.slice(1)}, user ${username}, password ${decodeURIComponent(password)}`);
  await new Promise<void>((resolve) => {
    // Signal listeners do not keep Node running, and the server's process is unref'd: this timer does.
    const hold = setInterval(() => undefined, 2 ** 30);
    const done = (): void => {
      clearInterval(hold);
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}

/** What landed, then the HTML report of it beside the data. */
async function showWarehouse(database: Database, dataDir: string, out: (line: string) => void): Promise<void> {
  for (const table of await readWarehouseSample(database.pool)) {
    out(`\n${table.title}:`);
    out(formatTable(table.columns, table.rows));
  }
  const report = await writeHtmlReport(database.pool, join(dataDir, 'demo-report.html'));
  out(`\nA picture of the fleet, the HTML report of the last 14 days: ${report}`);
  out('(For your own warehouse: DATABASE_URL=… dws-task-exporter report --html FILE.)\n');
}
