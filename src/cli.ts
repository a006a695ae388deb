#!/usr/bin/env node
/**
 * The command line: parses arguments, dispatches to src/commands/*, and maps
 * whatever comes back (an exit code or an error) to the process exit code.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { demoCommand } from './commands/demo.js';
import { discoverCommand } from './commands/discover.js';
import { migrateCommand } from './commands/migrate.js';
import { runCommand } from './commands/run.js';
import { simulateCommand } from './commands/simulate.js';
import { ExporterError, UsageError } from './errors.js';
import { EXPORTER_VERSION } from './package-info.js';
import { resolveRunGroupId, resolveShard } from './plan/shard.js';
import { ExitCode, exitCodeForError, type ExitCodeValue } from './report/exit-codes.js';

type Options = NonNullable<ParseArgsConfig['options']>;
type Values = Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;

interface Command {
  readonly summary: string;
  readonly usage: string;
  readonly options: Options;
  readonly run: (values: Values, out: (line: string) => void) => Promise<ExitCodeValue>;
}

const HELP: Options = { help: { type: 'boolean', short: 'h' } };

const COMMANDS: Readonly<Record<string, Command>> = {
  run: {
    summary: 'export the task history of every configured cluster into PostgreSQL',
    usage: `Usage: dws-task-exporter run [--config FILE] [--no-migrate] [--shard-index I --shard-count N]
                             [--run-group ID] [--summary-json PATH] [--output text|json]

  --config FILE        JSON config file (default: $DWS_EXPORTER_CONFIG)
  --no-migrate         do not apply pending migrations; fail if the schema is not up to date
  --shard-count N      split the clusters over N processes by a stable hash of the cluster id (default 1)
  --shard-index I      this process's shard, 0..N-1 (default: $JOB_COMPLETION_INDEX, else 0)
  --run-group ID       ties the shards of one scheduled run together in dws.export_runs
                       (default: $DWS_EXPORTER_RUN_GROUP, else a random UUID)
  --summary-json PATH  write the run's result as one JSON document to PATH
  --output text|json   stdout: the text summary (default) or that JSON document on one line

Environment: DATABASE_URL (unset: embedded PostgreSQL in $DWS_EXPORTER_DATA_DIR),
HUAWEICLOUD_SDK_AK + HUAWEICLOUD_SDK_SK [+ HUAWEICLOUD_SDK_SECURITY_TOKEN] or DWS_AUTH_TOKEN, LOG_LEVEL,
LOG_FORMAT (json|pretty), DWS_EXPORTER_PROGRESS (on|off), PUSHGATEWAY_URL [+ PUSHGATEWAY_JOB].`,
    options: {
      ...HELP,
      config: { type: 'string', short: 'c' },
      'no-migrate': { type: 'boolean' },
      'shard-index': { type: 'string' },
      'shard-count': { type: 'string' },
      'run-group': { type: 'string' },
      'summary-json': { type: 'string' },
      output: { type: 'string' },
    },
    run: (v, out) => {
      const output = v.output ?? 'text';
      if (output !== 'text' && output !== 'json') {
        throw new UsageError(`--output must be "text" or "json", not ${JSON.stringify(output)}`);
      }
      const summaryJson = v['summary-json'];
      if (summaryJson !== undefined && (typeof summaryJson !== 'string' || summaryJson.trim() === '')) {
        throw new UsageError('--summary-json needs a file path');
      }
      return runCommand(
        {
          configPath: v.config as string | undefined,
          migrate: v['no-migrate'] !== true,
          shard: resolveShard(
            { index: v['shard-index'] as string | undefined, count: v['shard-count'] as string | undefined },
            process.env,
          ),
          runGroupId: resolveRunGroupId(v['run-group'] as string | undefined, process.env, randomUUID),
          output,
          ...(summaryJson !== undefined ? { summaryJsonPath: summaryJson } : {}),
        },
        out,
      );
    },
  },
  discover: {
    summary: 'print what a run would export (projects, regions, clusters, status); no database',
    usage: `Usage: dws-task-exporter discover [--config FILE]

  --config FILE   JSON config file (default: $DWS_EXPORTER_CONFIG)

Lists the clusters of every configured project with the run's credentials and
prints, per cluster, its name, status and whether a run would export it (and
why not). Never connects to the database. Same environment as "run".`,
    options: { ...HELP, config: { type: 'string', short: 'c' } },
    run: (v, out) => discoverCommand({ configPath: v.config as string | undefined }, out),
  },
  migrate: {
    summary: 'apply pending SQL migrations (migrations/*.sql) and exit',
    usage: `Usage: dws-task-exporter migrate

Applies migrations/*.sql in order under an advisory lock. Uses DATABASE_URL
(unset: the embedded PostgreSQL in $DWS_EXPORTER_DATA_DIR).`,
    options: HELP,
    run: (_v, out) => migrateCommand(out),
  },
  demo: {
    summary: "run the real export against the built-in DWS API simulator into the demo's own embedded PostgreSQL",
    usage: `Usage: dws-task-exporter demo [--projects N] [--clusters-per-project N] [--max-tasks N] [--seed N]
                              [--database-url URL | --keep-open]

  --projects N              projects in the simulated fleet (default 3)
  --clusters-per-project N  clusters per project (default 12)
  --max-tasks N             tasks per cluster, drawn from 0..N (default 400)
  --seed N                  fleet seed (default 42)
  --database-url URL        write the simulated fleet to this PostgreSQL instead
  --keep-open               after the summary, keep the embedded PostgreSQL running (psql command
                            and URL printed) until Ctrl-C

Writes to its own embedded PostgreSQL in $DWS_EXPORTER_DATA_DIR/demo, never to DATABASE_URL.`,
    options: {
      ...HELP,
      projects: { type: 'string' },
      'clusters-per-project': { type: 'string' },
      'max-tasks': { type: 'string' },
      seed: { type: 'string' },
      'database-url': { type: 'string' },
      'keep-open': { type: 'boolean' },
    },
    run: (v, out) =>
      demoCommand(
        {
          projects: intFlag(v, 'projects', 3, 1, 100),
          clustersPerProject: intFlag(v, 'clusters-per-project', 12, 1, 1000),
          maxTasks: intFlag(v, 'max-tasks', 400, 0, 1_000_000),
          seed: intFlag(v, 'seed', 42, 0, 2 ** 31 - 1),
          databaseUrl: v['database-url'] as string | undefined,
          keepOpen: v['keep-open'] === true,
        },
        out,
      ),
  },
  simulate: {
    summary: 'serve the DWS API simulator on its own (prints a matching config)',
    usage: `Usage: dws-task-exporter simulate [options]

  --host H                  listen address (default 127.0.0.1)
  --port N                  port (default 8080; 0 picks a free one)
  --projects N              projects (default 2)
  --clusters-per-project N  clusters per project (default 10)
  --min-tasks N / --max-tasks N   tasks per cluster (default 0 / 500)
  --seed N                  fleet seed (default 42)
  --offset-mode rows|pages  how the server reads "offset" (default pages, as documented)
  --page-cap N              silently cap "limit" at N (default: no cap)
  --latency-ms N            delay before each answer (default 0)
  --token T                 require this X-Auth-Token (default: accept any request)`,
    options: {
      ...HELP,
      host: { type: 'string' },
      port: { type: 'string' },
      projects: { type: 'string' },
      'clusters-per-project': { type: 'string' },
      'min-tasks': { type: 'string' },
      'max-tasks': { type: 'string' },
      seed: { type: 'string' },
      'offset-mode': { type: 'string' },
      'page-cap': { type: 'string' },
      'latency-ms': { type: 'string' },
      token: { type: 'string' },
    },
    run: (v, out) => {
      const offsetMode = v['offset-mode'] ?? 'pages';
      if (offsetMode !== 'rows' && offsetMode !== 'pages') {
        throw new UsageError(`--offset-mode must be "rows" or "pages", not ${JSON.stringify(offsetMode)}`);
      }
      return simulateCommand(
        {
          host: typeof v.host === 'string' ? v.host : '127.0.0.1',
          port: intFlag(v, 'port', 8080, 0, 65535),
          projects: intFlag(v, 'projects', 2, 1, 1000),
          clustersPerProject: intFlag(v, 'clusters-per-project', 10, 1, 100_000),
          minTasks: intFlag(v, 'min-tasks', 0, 0, 10_000_000),
          maxTasks: intFlag(v, 'max-tasks', 500, 0, 10_000_000),
          seed: intFlag(v, 'seed', 42, 0, 2 ** 31 - 1),
          offsetMode,
          pageCap: v['page-cap'] === undefined ? undefined : intFlag(v, 'page-cap', 0, 1, 100_000),
          latencyMs: intFlag(v, 'latency-ms', 0, 0, 600_000),
          token: typeof v.token === 'string' ? v.token : undefined,
        },
        out,
      );
    },
  },
};

const MAIN_USAGE = `dws-task-exporter ${EXPORTER_VERSION}: GaussDB(DWS) logical-cluster task history into PostgreSQL

Usage: dws-task-exporter <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)}${c.summary}`)
  .join('\n')}

Run "dws-task-exporter <command> --help" for a command's options.
Exit codes: 0 ok, 2 usage/config, 3 partial, 4 failed, 5 database, 6 auth, 1 internal error.`;

function intFlag(values: Values, name: string, fallback: number, min: number, max: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== 'string' || !/^\d+$/.test(raw.trim()) || value < min || value > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not ${JSON.stringify(raw)}`);
  }
  return value;
}

export async function main(argv: readonly string[], out: (line: string) => void): Promise<ExitCodeValue> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    out(MAIN_USAGE);
    return name === undefined ? ExitCode.USAGE_OR_CONFIG : ExitCode.OK;
  }
  if (name === '--version' || name === '-v') {
    out(EXPORTER_VERSION);
    return ExitCode.OK;
  }
  const command = COMMANDS[name];
  if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)} (commands: ${Object.keys(COMMANDS).join(', ')})`);
  let values: Values;
  try {
    ({ values } = parseArgs({ args: [...rest], options: command.options, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new UsageError(`${name}: ${(error as Error).message}\n\n${command.usage}`);
  }
  if (values.help === true) {
    out(command.usage);
    return ExitCode.OK;
  }
  return command.run(values, out);
}

async function cli(): Promise<void> {
  const out = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  let code: ExitCodeValue;
  try {
    code = await main(process.argv.slice(2), out);
  } catch (error) {
    code = exitCodeForError(error);
    const message =
      error instanceof ExporterError
        ? `dws-task-exporter: ${error.code}: ${error.message}`
        : `dws-task-exporter: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
    process.stderr.write(`${message}\n`);
  }
  // Explicit: nothing a dependency registers may turn this into another code.
  process.exit(code);
}

await cli();
