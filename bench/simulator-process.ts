/**
 * The DWS API simulator as its own process (`node bench/.build/bench/simulator-process.js '<spec>'`), so its
 * CPU is never counted as the exporter's. One SimFleet from several groups (the skewed fleet, which `simulate`
 * cannot express), served twice: with latency for the exporter, without for the throughput probe.
 */
import { EventEmitter, once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { SimFleet, startSimulator, type SimCluster, type Simulator } from '../src/simulator/index.js';
import type { RawTask } from '../src/source/task-page.js';
import { toTaskRow } from '../src/transform/task-row.js';
import { copyLine, identityEnd } from '../src/warehouse/copy-text.js';
import { fingerprintSeed, taskFingerprint } from '../src/warehouse/fingerprint.js';

export interface FleetGroup {
  readonly seed: number;
  readonly projects: number;
  readonly clustersPerProject: number;
  /** Tasks per cluster (fixed: minTasks = maxTasks). */
  readonly tasks: number;
}

export interface SimulatorSpec {
  readonly groups: readonly FleetGroup[];
  readonly latencyMs: number;
  readonly token: string;
}

export interface SimulatorReady {
  readonly kind: 'ready';
  readonly url: string;
  readonly probeUrl: string;
  readonly projects: readonly { readonly projectId: string; readonly clusters: readonly string[] }[];
  /** Tasks per cluster, in config order (for request counts and probe targets). */
  readonly taskCounts: readonly number[];
  readonly totalTasks: number;
  readonly generateMs: number;
}

export interface SimulatorStatsReply {
  readonly kind: 'stats';
  readonly requests: number;
  readonly maxInFlight: number;
  readonly byStatus: Record<string, number>;
}

export interface DumpReply {
  readonly kind: 'dump';
  readonly rows: number;
  readonly bytes: number;
  readonly ms: number;
}

function buildFleet(groups: readonly FleetGroup[]): SimFleet {
  const clusters: SimCluster[] = [];
  for (const group of groups) {
    const fleet = SimFleet.generate({
      seed: group.seed,
      projects: group.projects,
      clustersPerProject: group.clustersPerProject,
      minTasks: group.tasks,
      maxTasks: group.tasks,
    });
    clusters.push(...fleet.clusters);
  }
  return new SimFleet(clusters);
}

/** The rows the exporter would build from these tasks (UTC, the bench config's zone). */
async function dump(fleet: SimFleet, file: string): Promise<DumpReply> {
  const started = performance.now();
  const out = createWriteStream(file);
  let rows = 0;
  let bytes = 0;
  let chunk: string[] = [];
  const flush = async (): Promise<void> => {
    const text = chunk.join('');
    chunk = [];
    bytes += Buffer.byteLength(text);
    if (!out.write(text)) await once(out, 'drain');
  };
  for (const cluster of fleet.clusters) {
    const context = { projectId: cluster.projectId, clusterId: cluster.id, sourceTimeZone: 'UTC' };
    const seed = fingerprintSeed(context);
    for (const task of cluster.tasks) {
      // Round-trip through JSON: exactly what the exporter's client sees. Every
      // key is unique in these fleets: each task is its key's occurrence 1.
      const raw = JSON.parse(JSON.stringify(task)) as RawTask;
      chunk.push(copyLine(toTaskRow(raw, context), identityEnd(1, taskFingerprint(raw, seed))));
      rows++;
      if (chunk.length >= 10_000) await flush();
    }
  }
  await flush();
  out.end();
  await once(out, 'finish');
  return { kind: 'dump', rows, bytes, ms: performance.now() - started };
}

/**
 * Protocol: one JSON line on stdout when listening (`ready`), then one command per stdin line, each
 * answered with one JSON line:
 *  - `stats`      requests/maxInFlight/byStatus of the latency server since the last `stats`;
 *  - `dump FILE`  every task of the fleet as COPY text (the exporter's own `toTaskRow` + `copyLine`);
 *  - `quit`       closes both servers and exits.
 * It also exits when stdin closes, so it never outlives the benchmark.
 */
async function main(): Promise<void> {
  // The simulator's latency timer listens on one shared shutdown AbortSignal per
  // request in flight; with more than 10 in flight Node warns about a "leak"
  // (EventTargets take their limit from this default). Expected here: silence it.
  EventEmitter.defaultMaxListeners = 0;
  const raw = process.argv[2];
  if (!raw) throw new Error('usage: simulator-process.js <spec JSON>');
  const spec = JSON.parse(raw) as SimulatorSpec;
  const generateStarted = performance.now();
  const fleet = buildFleet(spec.groups);
  const generateMs = performance.now() - generateStarted;
  const auth = { token: spec.token };
  const servers: Simulator[] = [
    await startSimulator({ fleet, offsetMode: 'pages', latencyMs: spec.latencyMs, auth }),
    await startSimulator({ fleet, offsetMode: 'pages', latencyMs: 0, auth }),
  ];
  const [main, probe] = servers as [Simulator, Simulator];
  const reply = (value: unknown): void => {
    process.stdout.write(`${JSON.stringify(value)}\n`);
  };
  const ready: SimulatorReady = {
    kind: 'ready',
    url: main.url,
    probeUrl: probe.url,
    projects: fleet.projectIds().map((projectId) => ({
      projectId,
      clusters: fleet.clustersOf(projectId).map((c) => c.id),
    })),
    taskCounts: fleet.projectIds().flatMap((projectId) => fleet.clustersOf(projectId).map((c) => c.tasks.length)),
    totalTasks: fleet.totalTasks(),
    generateMs,
  };
  reply(ready);

  let closing = false;
  const close = async (): Promise<void> => {
    if (closing) return;
    closing = true;
    await Promise.all(servers.map((s) => s.close()));
    process.exit(0);
  };
  process.once('SIGTERM', () => void close());
  process.once('SIGINT', () => void close());
  const lines = createInterface({ input: process.stdin });
  lines.on('close', () => void close());
  for await (const line of lines) {
    const [command, ...rest] = line.trim().split(' ');
    if (command === 'stats') {
      const s = main.stats;
      const stats: SimulatorStatsReply = {
        kind: 'stats',
        requests: s.requests,
        maxInFlight: s.maxInFlight,
        byStatus: { ...s.byStatus },
      };
      main.resetStats();
      reply(stats);
    } else if (command === 'dump') {
      reply(await dump(fleet, rest.join(' ')));
    } else if (command === 'quit') {
      await close();
    } else if (command) {
      reply({ kind: 'error', message: `unknown command ${command}` });
    }
  }
}

await main();
