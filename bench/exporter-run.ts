/**
 * One exporter run as its own process (`node <build>/src/cli.js run --config …`), measured from
 * outside: wall time spawn to exit (start-up included, as a scheduler sees it); CPU and peak RSS of
 * the exporter process by GNU time, else the measure-child.ts preload. Killed after `timeoutMs`.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, openSync, closeSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const GNU_TIME = '/usr/bin/time';

/** GNU time is used when present, unless BENCH_NO_GNU_TIME is set (to exercise the preload fallback). */
export function hasGnuTime(): boolean {
  return existsSync(GNU_TIME) && !process.env.BENCH_NO_GNU_TIME;
}

export interface ExporterConfigInput {
  readonly endpoint: string;
  readonly projects: readonly { readonly projectId: string; readonly clusters: readonly string[] }[];
  readonly concurrency: number;
  readonly pageSize: number;
}

export interface ExporterRunOptions {
  readonly cliJs: string;
  readonly measureChildJs: string;
  readonly workDir: string;
  readonly label: string;
  readonly databaseUrl: string;
  readonly token: string;
  readonly config: ExporterConfigInput;
  readonly timeoutMs: number;
  readonly logLevel: string;
  /** Extra node flags, e.g. --cpu-prof. */
  readonly nodeFlags?: readonly string[];
}

export interface ExporterRunResult {
  readonly exitCode: number | null;
  readonly wallMs: number;
  readonly userS: number;
  readonly systemS: number;
  readonly cpuS: number;
  readonly maxRssMb: number;
  readonly stdoutFile: string;
  readonly stderrFile: string;
  readonly measuredWith: 'gnu-time' | 'preload';
}

/**
 * The bench's exporter config: the API budget far above what loopback needs,
 * every request slot usable (`http.maxInFlight` = concurrency, so
 * requests × latency ÷ concurrency is the true floor), pages of one cluster
 * over the full concurrency; everything else at its default.
 */
export function benchConfig(input: ExporterConfigInput): Record<string, unknown> {
  return {
    endpoint: input.endpoint,
    projects: input.projects,
    concurrency: input.concurrency,
    pageSize: input.pageSize,
    pageConcurrency: Math.min(input.concurrency, 64),
    sourceTimeZone: 'UTC',
    http: { maxRequestsPerSecond: 10_000, maxInFlight: input.concurrency },
  };
}

export async function runExporter(options: ExporterRunOptions): Promise<ExporterRunResult> {
  const base = join(options.workDir, options.label);
  const configFile = `${base}.config.json`;
  const stdoutFile = `${base}.stdout.log`;
  const stderrFile = `${base}.stderr.log`;
  const timeFile = `${base}.time`;
  await writeFile(configFile, JSON.stringify(benchConfig(options.config), null, 2));
  const useGnuTime = hasGnuTime();
  const nodeArgs = [...(options.nodeFlags ?? [])];
  if (!useGnuTime) nodeArgs.push('--import', options.measureChildJs);
  nodeArgs.push(options.cliJs, 'run', '--config', configFile, '--no-migrate');
  const [command, args] = useGnuTime
    ? [GNU_TIME, ['-f', '%e %U %S %M', '-o', timeFile, process.execPath, ...nodeArgs]]
    : [process.execPath, nodeArgs];
  const out = openSync(stdoutFile, 'w');
  const err = openSync(stderrFile, 'w');
  const started = performance.now();
  const child = spawn(command, args, {
    stdio: ['ignore', out, err],
    // A clean environment: no credentials or NODE_OPTIONS of the caller leak in.
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      DATABASE_URL: options.databaseUrl,
      DWS_AUTH_TOKEN: options.token,
      LOG_LEVEL: options.logLevel,
      ...(useGnuTime ? {} : { BENCH_MEASURE_FILE: timeFile }),
    },
  });
  const killer = setTimeout(() => {
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  }, options.timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  const wallMs = performance.now() - started;
  clearTimeout(killer);
  closeSync(out);
  closeSync(err);
  const measured = await readFile(timeFile, 'utf8');
  let userS: number;
  let systemS: number;
  let maxRssKb: number;
  if (useGnuTime) {
    // GNU time prints "Command exited with non-zero status N" first when it failed.
    const last = measured.trim().split('\n').at(-1) ?? '';
    const [, u, s, m] = last.split(' ').map(Number);
    userS = u ?? Number.NaN;
    systemS = s ?? Number.NaN;
    maxRssKb = m ?? Number.NaN;
  } else {
    const usage = JSON.parse(measured) as { maxRssKb: number; userUs: number; systemUs: number };
    userS = usage.userUs / 1e6;
    systemS = usage.systemUs / 1e6;
    maxRssKb = usage.maxRssKb;
  }
  return {
    exitCode: code,
    wallMs,
    userS,
    systemS,
    cpuS: userS + systemS,
    maxRssMb: maxRssKb / 1024,
    stdoutFile,
    stderrFile,
    measuredWith: useGnuTime ? 'gnu-time' : 'preload',
  };
}
