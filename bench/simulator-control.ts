/**
 * The benchmark's side of bench/simulator-process.ts: starts it as a child
 * process, waits for its `ready` line, sends commands and reads replies.
 * Also the "trivial client" that measures the simulator's maximum throughput.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface, type Interface } from 'node:readline';
import { Agent, request } from 'undici';
import type { DumpReply, SimulatorReady, SimulatorSpec, SimulatorStatsReply } from './simulator-process.js';

export interface SimulatorHandle {
  readonly ready: SimulatorReady;
  readonly pid: number | undefined;
  stats(): Promise<SimulatorStatsReply>;
  dump(file: string): Promise<DumpReply>;
  stop(): Promise<void>;
}

export async function startSimulatorProcess(script: string, spec: SimulatorSpec): Promise<SimulatorHandle> {
  const child: ChildProcess = spawn(process.execPath, [script, JSON.stringify(spec)], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { PATH: process.env.PATH ?? '' },
  });
  const lines: Interface = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const pending: ((line: string) => void)[] = [];
  const early: string[] = [];
  lines.on('line', (line) => {
    const waiter = pending.shift();
    if (waiter) waiter(line);
    else early.push(line);
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const nextLine = (timeoutMs: number): Promise<string> =>
    new Promise((resolve, reject) => {
      const buffered = early.shift();
      if (buffered !== undefined) {
        resolve(buffered);
        return;
      }
      const timer = setTimeout(() => reject(new Error(`simulator did not answer within ${timeoutMs} ms`)), timeoutMs);
      const onExit = (): void => reject(new Error('simulator process exited'));
      child.once('exit', onExit);
      pending.push((line) => {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve(line);
      });
    });
  const command = async <T>(text: string, timeoutMs: number): Promise<T> => {
    (child.stdin as NodeJS.WritableStream).write(`${text}\n`);
    return JSON.parse(await nextLine(timeoutMs)) as T;
  };
  let ready: SimulatorReady;
  try {
    ready = JSON.parse(await nextLine(180_000)) as SimulatorReady;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    ready,
    pid: child.pid,
    stats: () => command<SimulatorStatsReply>('stats', 10_000),
    dump: (file) => command<DumpReply>(`dump ${file}`, 600_000),
    async stop() {
      if (exited) return;
      const gone = once(child, 'exit');
      (child.stdin as NodeJS.WritableStream).end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

export interface ProbeResult {
  readonly requests: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly errors: number;
}

/**
 * A trivial client: `connections` keep-alive connections, each looping
 * GET page → read body, for at most `seconds` and at most `maxRequests`
 * requests, against the zero-latency twin of the scenario's simulator.
 * Pages are the exporter's (same limit, order), cycling over the first
 * clusters of the fleet so the simulator's per-cluster sort cache is warm
 * after the first round, as it is for the exporter after each first page.
 */
export async function probeSimulator(
  ready: SimulatorReady,
  token: string,
  options: {
    readonly seconds: number;
    /** Run first, not counted: JIT warm-up and the simulator's per-cluster sort cache. */
    readonly warmupSeconds: number;
    readonly maxRequests: number;
    readonly connections: number;
    readonly pageSize: number;
    /** Against the scenario's own simulator, with its latency, instead of the zero-latency twin. */
    readonly atLatency?: boolean;
  },
): Promise<ProbeResult> {
  const targets: { path: string }[] = [];
  let index = 0;
  for (const project of ready.projects) {
    for (const clusterId of project.clusters) {
      const tasks = ready.taskCounts[index++] ?? 0;
      const pages = Math.max(1, Math.ceil(tasks / options.pageSize));
      for (let page = 0; page < Math.min(pages, 50); page++) {
        targets.push({
          path:
            `/v2/${project.projectId}/clusters/${clusterId}/logical-clusters/tasks` +
            `?offset=${page}&limit=${options.pageSize}&order_by=startTime&order=ASC`,
        });
      }
      if (targets.length >= 5_000) break;
    }
    if (targets.length >= 5_000) break;
  }
  const agent = new Agent({ connections: options.connections, keepAliveTimeout: 10_000 });
  const origin = options.atLatency === true ? ready.url : ready.probeUrl;
  let deadline = performance.now() + options.warmupSeconds * 1000;
  let sent = 0;
  let errors = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline && sent < options.maxRequests) {
      const target = targets[sent++ % targets.length] as { path: string };
      try {
        const response = await request(`${origin}${target.path}`, {
          dispatcher: agent,
          headers: { 'x-auth-token': token, accept: 'application/json' },
        });
        await response.body.text();
        if (response.statusCode === 200) done++;
        else errors++;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: options.connections }, () => worker()));
  done = 0;
  errors = 0;
  sent = 0;
  const started = performance.now();
  deadline = started + options.seconds * 1000;
  await Promise.all(Array.from({ length: options.connections }, () => worker()));
  const seconds = (performance.now() - started) / 1000;
  await agent.close();
  return { requests: done, seconds, requestsPerSecond: done / seconds, errors };
}
