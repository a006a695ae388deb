/**
 * How many clusters are opened ahead of a free fetch slot. Opening a cluster
 * reads what is stored of it, held until its walk starts; so while recent
 * clusters store little, one per fetch slot is opened ahead (many share each
 * open statement: tiny clusters never wait on opens), and fewer as their
 * stored tasks grow, never fewer than two.
 */
import pLimit, { type LimitFunction } from 'p-limit';

/** Stored tasks that opened clusters waiting for a fetch slot may hold between them (~100 bytes each). */
export const OPEN_AHEAD_STORED_TASKS = 100_000;

export interface OpenAhead {
  /** Taken before a cluster is opened, given back when it has a fetch slot. */
  readonly slots: LimitFunction;
  /** A cluster was opened with this many stored tasks. */
  opened(storedTasks: number): void;
}

export function openAhead(fetchSlots: number, storedTasksHeld = OPEN_AHEAD_STORED_TASKS): OpenAhead {
  const most = Math.max(2, fetchSlots);
  const slots = pLimit(most);
  // A moving average over the last few opens: one large cluster among small ones barely moves it.
  let recent = 0;
  return {
    slots,
    opened(storedTasks) {
      recent += (storedTasks - recent) / 8;
      slots.concurrency = Math.min(most, Math.max(2, Math.floor(storedTasksHeld / Math.max(1, recent))));
    },
  };
}
