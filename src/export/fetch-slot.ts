/**
 * One of the run's `concurrency` fetch slots (a p-limit), held by a cluster
 * while it is fetched, and lent out while its requests wait for the endpoint
 * breaker: held clusters never keep other endpoints' clusters waiting.
 */
import type { LimitFunction } from 'p-limit';

export interface FetchSlot {
  /**
   * Runs `wait` without the slot, then takes a slot again (behind the
   * clusters already waiting for one). Several requests of the cluster may
   * wait at once: they share the one slot.
   */
  lend<T>(wait: () => Promise<T>): Promise<T>;
  /** Gives the slot back for good (a request still lending it then goes on without one). */
  release(): void;
}

/** Waits for a slot; it stays taken until the returned function is called (p-limit frees it when its task settles). */
function take(slots: LimitFunction): Promise<() => void> {
  return new Promise((taken) => {
    void slots(() => new Promise<void>((free) => taken(() => free())));
  });
}

export async function takeSlot(slots: LimitFunction): Promise<FetchSlot> {
  let held: (() => void) | null = await take(slots);
  let retaking: Promise<void> | null = null;
  let released = false;
  const retake = async (): Promise<void> => {
    if (held !== null || released) return;
    retaking ??= take(slots).then((free) => {
      retaking = null;
      if (released) free();
      else held = free;
    });
    await retaking;
  };
  return {
    async lend(wait) {
      held?.();
      held = null;
      try {
        return await wait();
      } finally {
        await retake();
      }
    },
    release() {
      released = true;
      held?.();
      held = null;
    },
  };
}
