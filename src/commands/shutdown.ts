/**
 * SIGTERM/SIGINT, the way Kubernetes and Airflow send them: the first signal
 * aborts the run's AbortSignal (no new cluster starts, pages in hand are
 * stored, the ledger closes as `interrupted`); if the work is not done within
 * the grace period, or a second signal arrives, the process exits at once
 * (open transactions roll back; the next run marks the ledger `abandoned`).
 */
import { setMaxListeners } from 'node:events';
import { ExitCode } from '../core/exit-codes.js';
import type { Logger } from '../core/logger.js';

export interface Shutdown {
  readonly signal: AbortSignal;
  dispose(): void;
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

export function installShutdown(graceMs: number, logger: Logger): Shutdown {
  const controller = new AbortController();
  // Every request in flight listens on it; that is expected, not a leak.
  setMaxListeners(0, controller.signal);
  let timer: NodeJS.Timeout | undefined;
  const onSignal = (name: NodeJS.Signals): void => {
    const code = name === 'SIGINT' ? ExitCode.INTERRUPTED_SIGINT : ExitCode.INTERRUPTED_SIGTERM;
    if (controller.signal.aborted) {
      logger.error({ signal: name }, 'second signal: exiting now');
      process.exit(code);
    }
    logger.warn({ signal: name, graceMs }, 'shutting down: no new clusters; storing what was fetched');
    controller.abort(name);
    timer = setTimeout(() => {
      logger.error({ graceMs }, 'grace period over: exiting now');
      process.exit(code);
    }, graceMs);
    timer.unref();
  };
  for (const name of SIGNALS) process.on(name, onSignal);
  return {
    signal: controller.signal,
    dispose() {
      for (const name of SIGNALS) process.off(name, onSignal);
      if (timer) clearTimeout(timer);
    },
  };
}
