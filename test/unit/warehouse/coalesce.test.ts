/**
 * The coalescer: no wait when idle; requests made while a statement is on its
 * way are served together by the next; each caller gets its own answer, and a
 * failed statement fails exactly the requests it carried.
 */
import { describe, expect, it } from 'vitest';
import { Coalescer } from '../../../src/warehouse/coalesce.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('Coalescer', () => {
  it('serves the first request at once, and those made meanwhile together, each with its own answer', async () => {
    const batches: number[][] = [];
    const gate = deferred();
    const coalescer = new Coalescer<number, number>(async (requests) => {
      batches.push([...requests]);
      if (batches.length === 1) await gate.promise;
      return requests.map((n) => n * 10);
    });
    const first = coalescer.request(1);
    const later = [coalescer.request(2), coalescer.request(3), coalescer.request(4)];
    gate.resolve();
    expect(await Promise.all([first, ...later])).toEqual([10, 20, 30, 40]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it('serves at most maxBatch requests per statement', async () => {
    const sizes: number[] = [];
    const gate = deferred();
    const coalescer = new Coalescer<number, number>(async (requests) => {
      sizes.push(requests.length);
      if (sizes.length === 1) await gate.promise;
      return [...requests];
    }, 2);
    const all = [1, 2, 3, 4, 5, 6].map((n) => coalescer.request(n));
    gate.resolve();
    expect(await Promise.all(all)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(sizes).toEqual([1, 2, 2, 1]);
  });

  it('a failed statement rejects the requests it carried, and the next ones are served anew', async () => {
    let calls = 0;
    const gate = deferred();
    const coalescer = new Coalescer<string, string>(async (requests) => {
      calls += 1;
      if (calls === 1) {
        await gate.promise;
        throw new Error('database went away');
      }
      return requests.map((r) => r.toUpperCase());
    });
    const failed = coalescer.request('a');
    const next = coalescer.request('b');
    gate.resolve();
    await expect(failed).rejects.toThrow('database went away');
    expect(await next).toBe('B');
    expect(await coalescer.request('c')).toBe('C');
  });
});
