/**
 * Node ends at once on a SIGINT or SIGTERM nothing listens for, leaving
 * initdb or the embedded server running: a rerun then finds them holding the
 * data directory. While a guard is held, such a signal stops them first, then
 * exits as an interrupted export does (130/143).
 */
import { ExitCode } from '../core/exit-codes.js';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
const stops = new Set<() => Promise<void>>();
let exiting = false;

function onSignal(signal: NodeJS.Signals): void {
  // Another listener (an export's shutdown, the demo's keep-open) decides; it releases the server when done.
  if (process.listenerCount(signal) > 1) return;
  exiting = true;
  // A second signal ends the process at once, as Node's default does.
  for (const name of SIGNALS) process.off(name, onSignal);
  const code = signal === 'SIGINT' ? ExitCode.INTERRUPTED_SIGINT : ExitCode.INTERRUPTED_SIGTERM;
  void Promise.allSettled([...stops].map((stop) => stop())).then(() => process.exit(code));
}

/** Until the returned release is called, a signal nothing else handles awaits `stop` (which must be bounded) before exiting. */
export function stopOnSignal(stop: () => Promise<void>): () => void {
  if (stops.size === 0 && !exiting) for (const name of SIGNALS) process.on(name, onSignal);
  stops.add(stop);
  return () => {
    stops.delete(stop);
    if (stops.size === 0) for (const name of SIGNALS) process.off(name, onSignal);
  };
}

/** True once a signal is stopping the guarded processes: their exit is no failure to report, the process is about to end. */
export function exitingOnSignal(): boolean {
  return exiting;
}
