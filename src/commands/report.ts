/**
 * `dws-task-exporter report --html FILE`: reads the warehouse (DATABASE_URL,
 * else the embedded PostgreSQL), renders one self-contained HTML page and
 * writes it atomically, so a scheduler or a web server never sees half a
 * file. Read-only: never migrates, never writes to the database.
 */
import { randomBytes } from 'node:crypto';
import { rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { DateTime, IANAZone } from 'luxon';
import type pg from 'pg';
import { readEnv } from '../config/env.js';
import { ConfigError, describeCause, EmbeddedPostgresError, UsageError } from '../core/errors.js';
import { makeDirectory } from '../core/make-directory.js';
import { EXPORTER_VERSION } from '../core/package-info.js';
import { ExitCode, type ExitCodeValue } from '../core/exit-codes.js';
import { renderHtmlReport } from '../report/html/page.js';
import { createLogger } from '../core/logger.js';
import { openDatabase } from '../warehouse/database.js';
import { embeddedClusterExists, sharedEmbeddedPostgres } from '../warehouse/embedded-postgres.js';
import { REPORT_DAYS_MAX, REPORT_DEFAULTS, type ReportOptions } from '../warehouse/report-data/model.js';
import { readReportData } from '../warehouse/report-data/read-report-data.js';
import { resolveDatabaseTarget } from './database-target.js';

/** As the command line gives them; `days` already checked against 1..REPORT_DAYS_MAX. */
export interface ReportFlags {
  readonly html: string | undefined;
  readonly days: number;
  readonly until: string | undefined;
  readonly timeZone: string | undefined;
}

/** The other flags as report options, or a UsageError naming the bad one. */
export function reportOptions(flags: ReportFlags): ReportOptions & { readonly htmlPath: string } {
  if (flags.html === undefined || flags.html.trim() === '') throw new UsageError('report: --html FILE is required');
  const until = flags.until ?? REPORT_DEFAULTS.until;
  const isDate = /^\d{4}-\d{2}-\d{2}$/.test(until) && DateTime.fromISO(until).isValid;
  if (!isDate && until !== 'today' && until !== 'latest') {
    throw new UsageError(`--until must be a date (YYYY-MM-DD), "today" or "latest", not ${JSON.stringify(until)}`);
  }
  const timeZone = flags.timeZone ?? REPORT_DEFAULTS.timeZone;
  if (!IANAZone.isValidZone(timeZone)) {
    throw new UsageError(`--time-zone must be an IANA time zone such as UTC or Asia/Shanghai, not ${JSON.stringify(timeZone)}`);
  }
  return { htmlPath: flags.html, days: flags.days, until, timeZone };
}

/**
 * Reads the warehouse through `pool`, writes the page to `path` and returns
 * its absolute path. The demo calls this after its export.
 */
export async function writeHtmlReport(pool: pg.Pool, path: string, options: Partial<ReportOptions> = {}): Promise<string> {
  const data = await readReportData(pool, { ...REPORT_DEFAULTS, ...options });
  const html = renderHtmlReport(data, { exporterVersion: EXPORTER_VERSION });
  const target = resolve(path);
  await writeAtomically(target, html);
  return target;
}

/** A temporary file beside the target, then rename: readers see the old page or the new one, never a part. */
async function writeAtomically(target: string, content: string): Promise<void> {
  if ((await stat(target).catch(() => undefined))?.isDirectory()) {
    throw new ConfigError(`${target} is a directory: give a file name, e.g. ${join(target, 'fleet.html')}`, '--html');
  }
  const temporary = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await makeDirectory(dirname(target));
    await writeFile(temporary, content, { mode: 0o644 });
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw new ConfigError(`cannot write the report to ${target}: ${describeCause(error)}`, '--html');
  }
}

export async function reportCommand(flags: ReportFlags, out: (line: string) => void): Promise<ExitCodeValue> {
  const { htmlPath, ...options } = reportOptions(flags);
  const env = readEnv();
  const logger = createLogger(env.logLevel);
  // Read-only: never create an empty embedded cluster just to find nothing in it.
  if (!env.databaseUrl && !embeddedClusterExists(env.dataDir)) {
    throw new ConfigError(
      `no warehouse to read: DATABASE_URL is not set and nothing was exported to the embedded PostgreSQL in ${resolve(env.dataDir)} yet; ` +
        `set DATABASE_URL to your warehouse (the demo writes its own report: ${join(resolve(env.dataDir), 'demo-report.html')})`,
      'env',
    );
  }
  // The embedded server's URL carries its local password: not for stdout, which is the path only.
  // Read-only: during a run on the embedded server, the report reads that server.
  const target = await resolveDatabaseTarget(env, logger, () => undefined, { readOnly: true });
  try {
    const database = await openDatabase(target.url, { maxConnections: 1 });
    try {
      out(await writeHtmlReport(database.pool, htmlPath, options));
    } finally {
      await database.close();
    }
  } catch (error) {
    // The command whose server this report shared ended meanwhile: say so, not a URL the user never set.
    if (target.sharedWith !== undefined && !(await sharedEmbeddedPostgres(env.dataDir))) {
      throw new EmbeddedPostgresError(
        `the embedded PostgreSQL that dws-task-exporter process ${target.sharedWith} ran stopped while this report read it ` +
          `(that command ended): rerun the report (${describeCause(error)})`,
        { cause: error },
      );
    }
    throw error;
  } finally {
    await target.release();
  }
  return ExitCode.OK;
}
