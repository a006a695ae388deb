/**
 * Reads everything the HTML report shows in one read-only, repeatable-read
 * transaction (one consistent snapshot), with the session TimeZone set to the
 * report's zone so that "a day" means the same in every query.
 */
import type pg from 'pg';
import { DbError, ExporterError, SchemaNotMigratedError } from '../../core/errors.js';
import { pendingMigrations } from '../migrate.js';
import {
  ATTENTION_SHOWN,
  FAILURES_SHOWN,
  LATEST_RUNS_SHOWN,
  LOG_EXCERPT_CHARS,
  LOGICAL_CLUSTERS_SHOWN,
  RUNNING_TASKS_SHOWN,
  STALENESS_BUCKETS,
  TIMELINE_CLUSTER_ROWS,
  TIMELINE_TASKS_PER_CLUSTER,
  type FleetHealth,
  type ReportData,
  type ReportOptions,
  type ReportWindow,
  type RunRow,
  type Timeline,
} from './model.js';
import {
  toClusterRef,
  toDurationStats,
  toFailedTask,
  toRunningTask,
  toTimelineTask,
  type ActiveClusterRow,
  type AttentionRow,
  type DailyRow,
  type DurationRow,
  type FailureRow,
  type FleetStatusRow,
  type LogicalClusterRow,
  type OthersDailyRow,
  type RunningRow,
  type TimelineTaskRow,
  type WindowRow,
} from './rows.js';
import * as sql from './report-sql.js';

export async function readReportData(pool: pg.Pool, options: ReportOptions): Promise<ReportData> {
  const client = await connect(pool);
  try {
    const pending = await pendingMigrations(client);
    if (pending.length > 0) {
      const error = new SchemaNotMigratedError(pending);
      // Its own message suggests dropping --no-migrate, which the report does not have: the report never migrates.
      error.message = `the warehouse schema is not up to date (pending migrations: ${pending.join(', ')}); run \`dws-task-exporter migrate\` or an export first`;
      throw error;
    }
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      await client.query("SELECT set_config('TimeZone', $1, true)", [options.timeZone]);
      const data = await readAll(client, options);
      await client.query('COMMIT');
      return data;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  } catch (error) {
    throw error instanceof ExporterError ? error : new DbError('reading the report data failed', error);
  } finally {
    client.release();
  }
}

async function connect(pool: pg.Pool): Promise<pg.PoolClient> {
  try {
    return await pool.connect();
  } catch (error) {
    throw new DbError('connecting to read the report data failed', error);
  }
}

async function rows<R extends pg.QueryResultRow>(client: pg.ClientBase, text: string, values: readonly unknown[]): Promise<R[]> {
  return (await client.query<R>(text, [...values])).rows;
}

/** The count a LIMITed query reports in every row (0 when there are none). */
function totalOf(list: readonly { readonly total: number }[]): number {
  return list[0]?.total ?? 0;
}

async function readAll(client: pg.ClientBase, options: ReportOptions): Promise<ReportData> {
  const window = await readWindow(client, options);
  const range = [window.start, window.end] as const;
  const days = [window.firstDay, window.lastDay] as const;
  const fleet = await readFleet(client);
  const daily = await rows<DailyRow>(client, sql.DAILY_SQL, days);
  const logical = await rows<LogicalClusterRow>(client, sql.LOGICAL_CLUSTERS_SQL, [...days, LOGICAL_CLUSTERS_SHOWN]);
  const durations = await rows<DurationRow>(client, sql.DURATIONS_SQL, range);
  const timeline = await readTimeline(client, range);
  const running = await rows<RunningRow>(client, sql.RUNNING_SQL, [RUNNING_TASKS_SHOWN, LOG_EXCERPT_CHARS]);
  const failures = await rows<FailureRow>(client, sql.FAILURES_SQL, [...range, FAILURES_SHOWN, LOG_EXCERPT_CHARS]);
  return {
    window,
    fleet,
    daily: daily.map((r) => ({
      day: r.day,
      taskType: r.task_type,
      succeeded: r.succeeded,
      failed: r.failed,
      running: r.running,
      other: r.other,
    })),
    logicalClusters: {
      rows: logical.map((r) => ({
        ...toClusterRef(r),
        logicalClusterName: r.logical_cluster_name,
        succeeded: r.succeeded,
        failed: r.failed,
      })),
      total: totalOf(logical),
    },
    durations: durations.map(toDurationStats),
    timeline,
    running: { rows: running.map(toRunningTask), total: totalOf(running) },
    failures: { rows: failures.map(toFailedTask), total: totalOf(failures) },
  };
}

async function readWindow(client: pg.ClientBase, options: ReportOptions): Promise<ReportWindow> {
  const explicit = /^\d{4}-\d{2}-\d{2}$/.test(options.until) ? options.until : null;
  const [r] = await rows<WindowRow>(client, sql.WINDOW_SQL, [explicit, options.until === 'latest', options.days]);
  if (!r) throw new DbError('reading the report window', 'the query returned no row');
  return {
    days: options.days,
    firstDay: r.first_day,
    lastDay: r.last_day,
    start: r.window_start,
    end: r.window_end,
    timeZone: options.timeZone,
    generatedAt: r.generated_at,
    latestTaskStart: r.latest_task_start,
  };
}

async function readFleet(client: pg.ClientBase): Promise<FleetHealth> {
  const status = await rows<FleetStatusRow>(client, sql.FLEET_STATUS_SQL, []);
  const sum = (pick: (r: FleetStatusRow) => boolean): number =>
    status.filter(pick).reduce((total, r) => total + r.clusters, 0);
  const statuses = [...new Set(status.map((r) => r.status))].sort();
  const attention = await rows<AttentionRow>(client, sql.ATTENTION_SQL, [ATTENTION_SHOWN]);
  const runs = await rows<RunRow>(client, sql.LATEST_RUNS_SQL, [LATEST_RUNS_SHOWN]);
  return {
    clusters: sum(() => true),
    byLastAttempt: statuses.map((s) => ({ status: s, clusters: sum((r) => r.status === s) })),
    byStaleness: STALENESS_BUCKETS.map((bucket) => ({ bucket, clusters: sum((r) => r.bucket === bucket) })),
    attention: attention.map(({ total, ...cluster }) => cluster),
    attentionTotal: totalOf(attention),
    latestRuns: runs,
  };
}

async function readTimeline(client: pg.ClientBase, range: readonly [Date, Date]): Promise<Timeline> {
  const active = await rows<ActiveClusterRow>(client, sql.ACTIVE_CLUSTERS_SQL, range);
  const shown = active.slice(0, TIMELINE_CLUSTER_ROWS);
  const ids = shown.map((r) => r.cluster_id);
  const tasks = await rows<TimelineTaskRow>(client, sql.TIMELINE_TASKS_SQL, [...range, ids, TIMELINE_TASKS_PER_CLUSTER]);
  // Map.groupBy is Node >= 21.
  const byCluster = new Map<string, TimelineTaskRow[]>();
  for (const t of tasks) {
    const list = byCluster.get(t.cluster_id);
    if (list) list.push(t);
    else byCluster.set(t.cluster_id, [t]);
  }
  const others = active.length > shown.length ? await rows<OthersDailyRow>(client, sql.OTHERS_DAILY_SQL, [...range, ids]) : [];
  return {
    activeClusters: active.length,
    rows: shown.map((r) => ({
      ...toClusterRef(r),
      tasks: r.tasks,
      failed: r.failed,
      running: r.running,
      drawn: (byCluster.get(r.cluster_id) ?? []).map(toTimelineTask),
    })),
    others: others.map((r) => ({ day: r.day, tasks: r.tasks, failed: r.failed, running: r.running })),
  };
}
