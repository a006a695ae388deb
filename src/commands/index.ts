/**
 * Every command with its options (declared once: parser, checks and --help
 * derive from them). A command's implementation is imported when it runs, so
 * usage and --version load none of the commands' dependencies.
 */
import { randomUUID } from 'node:crypto';
import { resolveRunGroupId, resolveShard } from '../plan/shard.js';
import { REPORT_DAYS_MAX, REPORT_DEFAULTS } from '../warehouse/report-data/model.js';
import { defineCommand, type CommandSpec } from './command-line.js';

const CONFIG = { kind: 'string', short: 'c', value: 'FILE', help: 'JSON config file', defaultHelp: '$DWS_EXPORTER_CONFIG' } as const;
const SEED = { kind: 'int', value: 'N', help: 'fleet seed', default: 42, min: 0, max: 2 ** 31 - 1 } as const;

/** The simulated fleet's size, as `demo` and `simulate` take it (defaults and limits differ). */
function fleetOptions(defaults: { readonly projects: number; readonly clusters: number; readonly maxTasks: number }, scale: number) {
  return {
    projects: { kind: 'int', value: 'N', help: 'projects in the simulated fleet', default: defaults.projects, min: 1, max: 100 * scale },
    'clusters-per-project': { kind: 'int', value: 'N', help: 'clusters per project', default: defaults.clusters, min: 1, max: 1000 * scale },
    'max-tasks': { kind: 'int', value: 'N', help: 'most tasks per cluster', default: defaults.maxTasks, min: 0, max: 1_000_000 * scale },
    seed: SEED,
  } as const;
}

interface FleetValues {
  readonly projects: number;
  readonly 'clusters-per-project': number;
  readonly 'max-tasks': number;
  readonly seed: number;
}

function fleetOf(v: FleetValues): { projects: number; clustersPerProject: number; maxTasks: number; seed: number } {
  return { projects: v.projects, clustersPerProject: v['clusters-per-project'], maxTasks: v['max-tasks'], seed: v.seed };
}

const run = defineCommand({
  name: 'run',
  summary: 'export the task history of every configured cluster into PostgreSQL',
  options: {
    config: CONFIG,
    'no-migrate': { kind: 'flag', help: 'do not apply pending migrations; fail if the schema is not up to date' },
    'shard-count': {
      kind: 'string',
      value: 'N',
      help: 'split the clusters over N processes by a stable hash of the cluster id',
      defaultHelp: '1',
    },
    'shard-index': { kind: 'string', value: 'I', help: "this process's shard, 0..N-1", defaultHelp: '$JOB_COMPLETION_INDEX, else 0' },
    'run-group': {
      kind: 'string',
      value: 'ID',
      help: 'ties the shards of one scheduled run together in dws.export_runs',
      defaultHelp: '$DWS_EXPORTER_RUN_GROUP, else a random UUID',
    },
    'summary-json': { kind: 'string', value: 'PATH', help: "write the run's result as one JSON document to PATH" },
    output: { kind: 'string', value: 'FORMAT', choices: ['text', 'json'], default: 'text', help: 'stdout: the text summary, or that JSON document on one line' },
  },
  notes:
    'Environment: DATABASE_URL (unset: embedded PostgreSQL in $DWS_EXPORTER_DATA_DIR),\n' +
    'HUAWEICLOUD_SDK_AK + HUAWEICLOUD_SDK_SK [+ HUAWEICLOUD_SDK_SECURITY_TOKEN] or DWS_AUTH_TOKEN, LOG_LEVEL,\n' +
    'LOG_FORMAT (json|pretty), DWS_EXPORTER_PROGRESS (on|off), PUSHGATEWAY_URL [+ PUSHGATEWAY_JOB].',
  run: async (v, out) =>
    (await import('./run.js')).runCommand(
      {
        configPath: v.config,
        migrate: !v['no-migrate'],
        shard: resolveShard({ index: v['shard-index'], count: v['shard-count'] }, process.env),
        runGroupId: resolveRunGroupId(v['run-group'], process.env, randomUUID),
        output: v.output,
        ...(v['summary-json'] !== undefined ? { summaryJsonPath: v['summary-json'] } : {}),
      },
      out,
    ),
});

const discover = defineCommand({
  name: 'discover',
  summary: 'print what a run would export (projects, regions, clusters, status); no database',
  options: {
    config: CONFIG,
    output: { kind: 'string', value: 'FORMAT', choices: ['text', 'json'], default: 'text', help: 'a text report, or one JSON document' },
  },
  notes:
    'Lists the clusters of every configured project with the run\'s credentials and\n' +
    'prints, per cluster, its name, status and whether a run would export it (and\n' +
    'why not). Never connects to the database. Same environment as "run". Exits 2\n' +
    'when a configured cluster id is not in its project.',
  run: async (v, out) =>
    (await import('./discover.js')).discoverCommand({ configPath: v.config, output: v.output }, out),
});

const migrate = defineCommand({
  name: 'migrate',
  summary: 'apply pending SQL migrations (migrations/*.sql) and exit',
  options: {},
  notes:
    'Applies migrations/*.sql in order under an advisory lock. Uses DATABASE_URL\n' +
    '(unset: the embedded PostgreSQL in $DWS_EXPORTER_DATA_DIR).',
  run: async (_v, out) => (await import('./migrate.js')).migrateCommand(out),
});

const report = defineCommand({
  name: 'report',
  summary: 'write an HTML report of the warehouse: fleet health, tasks, failures, timeline',
  options: {
    html: { kind: 'string', value: 'FILE', help: 'write the report to FILE (one self-contained page; replaced atomically)' },
    days: { kind: 'int', value: 'N', help: 'days in the report', default: REPORT_DEFAULTS.days, min: 1, max: REPORT_DAYS_MAX },
    until: {
      kind: 'string',
      value: 'DATE',
      help: 'the report\'s last day: YYYY-MM-DD, "today" or "latest" (the day of the latest task)',
      default: REPORT_DEFAULTS.until,
    },
    'time-zone': { kind: 'string', value: 'ZONE', help: 'IANA zone for days and times, e.g. Asia/Shanghai', default: REPORT_DEFAULTS.timeZone },
  },
  notes: 'Read-only. Prints the path written. Uses DATABASE_URL (unset: the embedded\nPostgreSQL in $DWS_EXPORTER_DATA_DIR).',
  run: async (v, out) =>
    (await import('./report.js')).reportCommand({ html: v.html, days: v.days, until: v.until, timeZone: v['time-zone'] }, out),
});

const demo = defineCommand({
  name: 'demo',
  summary: "run the real export against the built-in DWS API simulator into the demo's own embedded PostgreSQL",
  options: {
    ...fleetOptions({ projects: 3, clusters: 12, maxTasks: 400 }, 1),
    'database-url': { kind: 'string', value: 'URL', help: 'write the simulated fleet to this PostgreSQL instead' },
    'keep-open': {
      kind: 'flag',
      help: 'after the summary, keep the embedded PostgreSQL running (psql command and URL printed) until Ctrl-C',
    },
  },
  notes: 'Writes to its own embedded PostgreSQL in $DWS_EXPORTER_DATA_DIR/demo, never to DATABASE_URL.',
  run: async (v, out) =>
    (await import('./demo.js')).demoCommand({ ...fleetOf(v), databaseUrl: v['database-url'], keepOpen: v['keep-open'] }, out),
});

const simulate = defineCommand({
  name: 'simulate',
  summary: 'serve the DWS API simulator on its own (prints a matching config)',
  options: {
    host: { kind: 'string', value: 'H', help: 'listen address', default: '127.0.0.1' },
    port: { kind: 'int', value: 'N', help: 'port; 0 picks a free one', default: 8080, min: 0, max: 65535 },
    ...fleetOptions({ projects: 2, clusters: 10, maxTasks: 500 }, 10),
    'min-tasks': { kind: 'int', value: 'N', help: 'fewest tasks per cluster', default: 0, min: 0, max: 10_000_000 },
    'offset-mode': {
      kind: 'string',
      value: 'MODE',
      choices: ['rows', 'pages'],
      default: 'pages',
      help: 'how the server reads "offset" (pages, as documented, or rows)',
    },
    'page-cap': { kind: 'int', value: 'N', help: 'silently cap "limit" at N', defaultHelp: 'no cap', min: 1, max: 100_000 },
    'latency-ms': { kind: 'int', value: 'N', help: 'delay before each answer', default: 0, min: 0, max: 600_000 },
    token: { kind: 'string', value: 'T', help: 'require this X-Auth-Token', defaultHelp: 'accept any request' },
  },
  run: async (v, out) =>
    (await import('./simulate.js')).simulateCommand(
      {
        ...fleetOf(v),
        host: v.host,
        port: v.port,
        minTasks: v['min-tasks'],
        offsetMode: v['offset-mode'],
        pageCap: v['page-cap'],
        latencyMs: v['latency-ms'],
        token: v.token,
      },
      out,
    ),
});

const configInit = defineCommand({
  name: 'config init',
  summary: 'write a commented starting config (and its JSON Schema, for editors)',
  options: {
    file: { kind: 'string', value: 'PATH', help: 'the config file to write', default: 'dws-exporter.json' },
    region: { kind: 'string', value: 'REGION', help: 'the region of your clusters', default: 'cn-north-4' },
    'project-id': { kind: 'string', value: 'ID', help: 'your project id (32 hex characters)', defaultHelp: 'a placeholder to replace' },
    force: { kind: 'flag', help: 'overwrite an existing file' },
  },
  notes: 'Next: "discover" shows what a run would export with it, then "run" exports.',
  run: async (v, out) =>
    (await import('./config.js')).configInitCommand(
      { file: v.file, region: v.region, projectId: v['project-id'], force: v.force },
      out,
    ),
});

const configSchema = defineCommand({
  name: 'config schema',
  summary: "print the config file's JSON Schema (for editors and CI checks)",
  options: {},
  run: async (_v, out) => (await import('./config.js')).configSchemaCommand(out),
});

/** In the order `--help` lists them: the first hour's path first. */
export const COMMANDS: readonly CommandSpec[] = [configInit, discover, run, migrate, report, demo, simulate, configSchema];
