/**
 * CPU seconds of the processes sharing the machine during a run, from /proc (Linux; null elsewhere):
 * the simulator, the PostgreSQL processes working for the bench database, the whole machine (what
 * other sessions took). On 2 cores, (exporter + simulator + PostgreSQL CPU) ÷ 2 floors the wall time.
 */
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';

// USER_HZ: 100 on every Linux architecture Node supports.
const TICKS_PER_SECOND = 100;

interface ProcStat {
  readonly ppid: number;
  /** utime + stime, seconds. */
  readonly own: number;
}

function readStat(pid: number): ProcStat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces: split after its closing parenthesis.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const n = (i: number): number => Number(fields[i - 3] ?? 0);
    return { ppid: n(4), own: (n(14) + n(15)) / TICKS_PER_SECOND };
  } catch {
    return null;
  }
}

/** utime + stime of one process, seconds; null if it is gone or /proc is absent. */
export function processCpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  return readStat(pid)?.own ?? null;
}

/** CPU seconds used so far by kernel threads (children of kthreadd: block I/O, writeback, …). */
function kernelThreadSeconds(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat && (stat.ppid === 2 || entry === '2')) total += stat.own;
  }
  return total;
}

/**
 * CPU seconds the machine's processes have used so far (all cores): user +
 * nice + system time from /proc/stat, less what kernel threads did (the disk
 * I/O and writeback the measured processes cause themselves, e.g. PostgreSQL's
 * WAL). Interrupt and steal time are left out. Null without /proc.
 */
export function machineBusySeconds(): number | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const [, user, nice, system] = line.trim().split(/\s+/).map(Number);
    return ((user ?? 0) + (nice ?? 0) + (system ?? 0)) / TICKS_PER_SECOND - kernelThreadSeconds();
  } catch {
    return null;
  }
}

/**
 * The machine is shared: before a timed measurement, wait (at most
 * `maxWaitMs`) until the whole machine was less than `maxBusyShare` busy over
 * a 500 ms window. Returns the busy share seen last and how long it waited.
 */
export async function waitForQuiet(
  maxWaitMs: number,
  cores: number,
  maxBusyShare = 0.15,
): Promise<{ readonly busyShare: number | null; readonly waitedMs: number }> {
  const started = performance.now();
  for (;;) {
    const a = machineBusySeconds();
    const t0 = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const b = machineBusySeconds();
    if (a === null || b === null) return { busyShare: null, waitedMs: 0 };
    const share = (b - a) / (((performance.now() - t0) / 1000) * cores);
    const waitedMs = performance.now() - started;
    if (share < maxBusyShare || waitedMs >= maxWaitMs) return { busyShare: share, waitedMs };
  }
}

/**
 * What the database's backends were doing at each poll, the most telling
 * backend deciding: `working` (a statement running on CPU), `io/lock` (a
 * statement waiting for I/O or a lock), `client` (inside a transaction,
 * waiting for the exporter: mid-COPY or between statements), `idle` (no
 * transaction open: nothing to write).
 */
export type DbActivity = 'working' | 'io/lock' | 'client' | 'idle';

/**
 * CPU of the PostgreSQL processes that work for one database, on a server
 * shared with other sessions: polls pg_stat_activity every `intervalMs` for
 * the backends of `database` and the server's own background processes
 * (WAL writer, checkpointer, background writer, autovacuum), and sums each
 * pid's CPU growth since it was first seen (from 0 for pids born during the
 * run). A backend's last < `intervalMs` before it exits is missed.
 * The same polls sample what the database's backends were doing (DbActivity).
 */
export class PostgresCpuTracker {
  private readonly first = new Map<number, number>();
  private readonly last = new Map<number, number>();
  readonly activity: Record<DbActivity, number> = { working: 0, 'io/lock': 0, client: 0, idle: 0 };
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private initial = true;

  private constructor(
    private readonly client: pg.Client,
    private readonly database: string,
  ) {}

  static async start(adminUrl: string, database: string, intervalMs = 100): Promise<PostgresCpuTracker | null> {
    if (machineBusySeconds() === null) return null;
    const client = new pg.Client({ connectionString: adminUrl, application_name: 'dws-bench-cpu' });
    await client.connect();
    const tracker = new PostgresCpuTracker(client, database);
    await tracker.poll();
    tracker.initial = false;
    tracker.timer = setInterval(() => {
      tracker.polling ??= tracker.poll().finally(() => {
        tracker.polling = null;
      });
    }, intervalMs);
    return tracker;
  }

  private async poll(): Promise<void> {
    const r = await this.client.query<{ pid: number; ours: boolean; state: string | null; wait: string | null }>(
      `SELECT pid, datname = $1 AND backend_type = 'client backend' AS ours, state, wait_event_type AS wait
         FROM pg_stat_activity
        WHERE (datname = $1 OR backend_type IN ('walwriter', 'checkpointer', 'background writer', 'autovacuum worker'))`,
      [this.database],
    );
    if (!this.initial) {
      let sample: DbActivity = 'idle';
      const rank: Record<DbActivity, number> = { idle: 0, client: 1, 'io/lock': 2, working: 3 };
      for (const row of r.rows) {
        if (!row.ours) continue;
        const seen: DbActivity =
          row.state === 'active'
            ? row.wait === null
              ? 'working'
              : row.wait === 'Client'
                ? 'client'
                : 'io/lock'
            : row.state?.startsWith('idle in transaction')
              ? 'client'
              : 'idle';
        if (rank[seen] > rank[sample]) sample = seen;
      }
      this.activity[sample] += 1;
    }
    for (const { pid } of r.rows) {
      const cpu = processCpuSeconds(pid);
      if (cpu === null) continue;
      if (!this.first.has(pid)) this.first.set(pid, this.initial ? cpu : 0);
      this.last.set(pid, cpu);
    }
  }

  /** Stops polling (after one last poll) and returns the CPU seconds seen. */
  async stop(): Promise<number> {
    if (this.timer) clearInterval(this.timer);
    await this.polling;
    await this.poll().catch(() => undefined);
    await this.client.end();
    let total = 0;
    for (const [pid, last] of this.last) total += last - (this.first.get(pid) ?? last);
    return total;
  }
}
