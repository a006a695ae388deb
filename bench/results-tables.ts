/** The rows of the result tables: one per scenario, one per run (where the CPU went), one per sweep point. */
import type { ScenarioResult, SweepPoint } from './scenarios/scenario.js';
import { f, int, markdownTable } from './format.js';
import type { DbActivity } from './proc-cpu.js';
import { medians, type RunRecord } from './timed-run.js';

export const SCENARIO_HEADER = [
  'scenario',
  'rows',
  'requests',
  'wall s',
  'rows/s',
  'req/s',
  'CPU s',
  'µs CPU/task',
  'peak RSS MiB',
  'HTTP bound s',
  'DB bound s',
  'ratio',
  'target',
  'met?',
] as const;

/** Left-aligned in the text table: scenario and target (met? stays right-aligned, like the figures). */
export const SCENARIO_LEFT_COLUMNS: ReadonlySet<number> = new Set([0, 12]);
/** Right-aligned in Markdown: the figures. */
export const scenarioNumeric = (i: number): boolean => i > 0 && i < 12;

export function scenarioRow(s: ScenarioResult): string[] {
  const m = medians(s.runs);
  return [
    `${s.id} ${s.title}`,
    int(s.rows),
    int(m.requests),
    f(m.wallS),
    int(s.rows / m.wallS),
    int(m.requests / m.wallS),
    f(m.cpuS),
    f((m.cpuS * 1e6) / s.rows, 1),
    f(m.rssMb, 0),
    f(s.bounds.httpBoundS),
    f(s.bounds.dbBoundS),
    f(m.wallS / s.ratioBoundS),
    s.target,
    s.met === null ? '—' : s.met ? 'yes' : 'NO',
  ];
}

/** ", median of a, b, c s" when a bound is the median of several samples. */
function samples(list: readonly number[]): string {
  return list.length > 1 ? `, median of ${list.map((s) => f(s)).join(', ')} s` : '';
}

/** One line: how the bounds were arrived at, and every run's wall time. */
export function boundsDetail(s: ScenarioResult, latencyMs: number): string {
  const b = s.bounds;
  const m = medians(s.runs);
  const db = b.db ? ` (COPY ${f(b.db.copyMs / 1000)} s + INSERT ${f(b.db.insertMs / 1000)} s + COMMIT ${f(b.db.commitMs / 1000)} s)` : '';
  return (
    `- ${s.id} ${s.title}: ${s.runs.length} run(s); min requests ${int(b.minRequests)} → latency bound ` +
    `${int(b.minRequests)} × ${latencyMs} ms ÷ ${s.concurrency} = ${f(b.latencyBoundS)} s; simulator max ` +
    `${int(b.probe.requestsPerSecond)} req/s → ${f(b.throughputBoundS)} s; a trivial client at ${latencyMs} ms ` +
    `${int(b.paced.requestsPerSecond)} req/s → ${f(b.pacedFloorS)} s; DB bound ${f(b.dbBoundS)} s${samples(b.dbSamplesS)}${db}` +
    (Number.isFinite(b.dbRerunBoundS) ? `; same rows into the full table ${f(b.dbRerunBoundS)} s${samples(b.dbRerunSamplesS)}` : '') +
    `; exporter in-process run ${f(m.ledgerS)} s of ${f(m.wallS)} s wall; walls ${s.runs.map((r) => f(r.result.wallMs / 1000)).join(', ')} s` +
    (s.notes.length ? `; ${s.notes.join('; ')}` : '') +
    (s.runs.some((r) => !r.ok) ? `; PROBLEMS: ${s.runs.map((r) => r.problem).filter(Boolean).join(' / ')}` : '')
  );
}

/** "62 / 3 / 21 / 14 %" of the polls. */
function activityShares(activity: Record<DbActivity, number> | null): string {
  if (!activity) return '—';
  const total = activity.working + activity['io/lock'] + activity.client + activity.idle;
  if (total === 0) return '—';
  const pct = (n: number): string => f((100 * n) / total, 0);
  return `${pct(activity.working)} / ${pct(activity['io/lock'])} / ${pct(activity.client)} / ${pct(activity.idle)} %`;
}

export function cpuIntro(cores: number): string {
  return (
    `CPU by process during each run ("others" = other processes on this shared machine; noise = others ÷ (wall × ${cores} cores); ` +
    `last column: share of 100 ms polls in which the run database's busiest backend was running a statement / waiting for I/O or a lock / ` +
    'in a transaction waiting for the exporter / idle):'
  );
}

/** Where the machine's CPU went, run by run (Markdown). */
export function cpuTable(runs: readonly RunRecord[], cores: number): string {
  const header = [
    'run',
    'wall s',
    'exporter CPU s',
    'simulator CPU s',
    'PostgreSQL CPU s',
    'machine busy s',
    'others s',
    'noise',
    'attempts',
    'all CPU ÷ cores s',
    'DB transactions',
    'PG work / io+lock / waits for exporter / idle',
  ];
  const rows = runs.map((r) => {
    const c = r.cpu;
    const known = c.exporterS + (c.simulatorS ?? 0) + (c.postgresS ?? 0);
    return [
      r.label,
      f(r.result.wallMs / 1000),
      f(c.exporterS),
      f(c.simulatorS ?? Number.NaN),
      f(c.postgresS ?? Number.NaN),
      f(c.machineBusyS ?? Number.NaN),
      f(c.machineBusyS === null ? Number.NaN : c.machineBusyS - known),
      r.noise === null ? '—' : `${f(100 * r.noise, 0)}%`,
      String(r.attempts),
      f(known / cores),
      int(r.tuples.after.xactCommit - r.tuples.before.xactCommit),
      activityShares(c.dbActivity),
    ];
  });
  return markdownTable(header, rows, (i) => i > 0);
}

/** Wall time against concurrency (Markdown). */
export function sweepTable(points: readonly SweepPoint[]): string {
  const header = ['concurrency', 'wall s', 'CPU s', 'peak RSS MiB', 'req×latency÷c s', 'HTTP bound s', 'DB bound s', 'ratio', 'check'];
  const rows = points.map((p) => [
    String(p.concurrency),
    f(p.run.result.wallMs / 1000),
    f(p.run.result.cpuS),
    f(p.run.result.maxRssMb, 0),
    f(p.latencyBoundS),
    f(p.httpBoundS),
    f(p.dbBoundS),
    f(p.run.result.wallMs / 1000 / Math.max(p.httpBoundS, p.dbBoundS)),
    p.run.ok ? 'ok' : `PROBLEM: ${p.run.problem ?? ''}`,
  ]);
  return markdownTable(header, rows, (i) => i > 0 && i < 8);
}
