/**
 * Which PostgreSQL a command writes to, named (password masked) before
 * anything is written: a URL the user gave, or an embedded server started
 * here (stopped by `release`), or for a read-only command the one another
 * command is running.
 */
import type { ExporterEnv } from '../config/env.js';
import type { Logger } from '../core/logger.js';
import { redactUrl } from '../warehouse/database.js';
import { EmbeddedInUseError } from '../core/errors.js';
import { sharedEmbeddedPostgres, startEmbeddedPostgres, type EmbeddedServer, type SharedServer } from '../warehouse/embedded-postgres.js';

export interface DatabaseTarget {
  readonly url: string;
  /** The embedded server, when this target started one. */
  readonly server: EmbeddedServer | undefined;
  /** The exporter process whose embedded server this read-only target shares (it may stop it meanwhile). */
  readonly sharedWith?: number;
  release(): Promise<void>;
}

/** Where `run` and `migrate` name their target: stdout carries their result alone. */
export const announceOnStderr = (line: string): void => void process.stderr.write(`${line}\n`);

/**
 * DATABASE_URL when set, else the embedded server in DWS_EXPORTER_DATA_DIR.
 * `readOnly` (`report`): the embedded server another command is running is
 * used as it is, where starting one would fail until that command ends.
 */
export async function resolveDatabaseTarget(
  env: ExporterEnv,
  logger: Logger,
  announce: (line: string) => void,
  options: { readonly readOnly?: boolean } = {},
): Promise<DatabaseTarget> {
  if (env.databaseUrl) return namedDatabase(env.databaseUrl, 'DATABASE_URL', announce);
  const shared = options.readOnly ? await sharedEmbeddedPostgres(env.dataDir) : undefined;
  if (shared) return sharedDatabase(shared, announce);
  try {
    return await embeddedDatabase({ dataDir: env.dataDir, name: 'the embedded PostgreSQL', why: 'DATABASE_URL is not set' }, logger, announce);
  } catch (error) {
    // The other command's server was starting (or won the race to start): now that it is ready, share it.
    const late = options.readOnly && error instanceof EmbeddedInUseError ? await sharedEmbeddedPostgres(env.dataDir) : undefined;
    if (late) return sharedDatabase(late, announce);
    throw error;
  }
}

function sharedDatabase(shared: SharedServer, announce: (line: string) => void): DatabaseTarget {
  announce(`Reading from the embedded PostgreSQL ${redactUrl(shared.url)} that dws-task-exporter process ${shared.owner} runs, data in ${shared.dataDir}.`);
  return { url: shared.url, server: undefined, sharedWith: shared.owner, release: async () => undefined };
}

/** A database the user named; `source` says how (DATABASE_URL, --database-url). */
export function namedDatabase(url: string, source: string, announce: (line: string) => void): DatabaseTarget {
  announce(`Writing to ${redactUrl(url)} (${source}).`);
  return { url, server: undefined, release: async () => undefined };
}

export interface EmbeddedChoice {
  /** DWS_EXPORTER_DATA_DIR. */
  readonly dataDir: string;
  /** A cluster of its own in this subdirectory (the demo's). */
  readonly cluster?: string;
  /** "the embedded PostgreSQL" */
  readonly name: string;
  /** Why this one: shown in parentheses. */
  readonly why: string;
}

/**
 * The embedded server. Its generated password stays in pg-password next to
 * the data, never in the announcement.
 */
export async function embeddedDatabase(choice: EmbeddedChoice, logger: Logger, announce: (line: string) => void): Promise<DatabaseTarget> {
  logger.debug({ dataDir: choice.dataDir, cluster: choice.cluster }, 'starting the embedded PostgreSQL');
  const server = await startEmbeddedPostgres(choice.dataDir, choice.cluster !== undefined ? { cluster: choice.cluster } : {});
  announce(`Writing to ${choice.name} ${redactUrl(server.url)}, data in ${server.dataDir} (${choice.why}).`);
  return { url: server.url, server, release: () => server.stop() };
}
