/** `dws-task-exporter run`: the nightly export. */
import { readEnv, requireCredentials } from '../config/env.js';
import { loadConfigFile } from '../config/load-config.js';
import { ConfigError } from '../errors.js';
import type { ExitCodeValue } from '../report/exit-codes.js';
import { createLogger } from '../report/logger.js';
import { formatRunSummary } from '../report/summary.js';
import { runExportSession } from './export-session.js';
import { installShutdown } from './shutdown.js';

export interface RunCommandOptions {
  readonly configPath: string | undefined;
  readonly migrate: boolean;
}

export async function runCommand(options: RunCommandOptions, out: (line: string) => void): Promise<ExitCodeValue> {
  const env = readEnv();
  const logger = createLogger(env.logLevel);
  const configPath = options.configPath ?? env.configPath;
  if (!configPath) {
    throw new ConfigError('no config file: pass --config FILE or set DWS_EXPORTER_CONFIG', 'command line');
  }
  const config = await loadConfigFile(configPath);
  const credentials = requireCredentials(env);
  const shutdown = installShutdown(config.shutdownGraceMs, logger);
  try {
    const report = await runExportSession({
      env,
      config,
      credentials,
      migrate: options.migrate,
      logger,
      announce: out,
      signal: shutdown.signal,
    });
    out(formatRunSummary(report));
    return report.exitCode;
  } finally {
    shutdown.dispose();
  }
}
