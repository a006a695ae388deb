/** Callers parked until a breaker's state changes (auth-breaker.ts, endpoint-breaker.ts). */

/** Resolves at the next wakeAll; rejects with the signal's reason if it aborts first. */
export function waitForChange(waiters: Set<() => void>, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      waiters.delete(wake);
      reject(signal?.reason);
    };
    const wake = (): void => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    };
    waiters.add(wake);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function wakeAll(waiters: Set<() => void>): void {
  const woken = [...waiters];
  waiters.clear();
  for (const wake of woken) wake();
}
