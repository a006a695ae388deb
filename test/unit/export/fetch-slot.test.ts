/** A cluster's fetch slot: lent out while its requests are held, taken back after, never leaked. */
import pLimit from 'p-limit';
import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { takeSlot } from '../../../src/export/fetch-slot.js';

function deferred(): { readonly promise: Promise<void>; resolve(): void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

describe('takeSlot', () => {
  it('a held cluster lends its slot: another cluster takes it, and the held one waits for a slot again', async () => {
    const slots = pLimit(1);
    const held = await takeSlot(slots);
    const breaker = deferred();
    let resumed = false;
    const lending = held.lend(() => breaker.promise).then(() => (resumed = true));
    const other = await takeSlot(slots);
    breaker.resolve();
    await tick();
    expect(resumed).toBe(false);
    other.release();
    await lending;
    expect(slots.activeCount).toBe(1);
    held.release();
    await tick();
    expect(slots.activeCount).toBe(0);
  });

  it('several requests of one cluster held at once share the one slot: it is never taken twice', async () => {
    const slots = pLimit(2);
    const slot = await takeSlot(slots);
    const waits = [deferred(), deferred(), deferred()];
    const lends = waits.map((w) => slot.lend(() => w.promise));
    await tick();
    expect(slots.activeCount).toBe(0);
    for (const w of waits) w.resolve();
    await Promise.all(lends);
    expect(slots.activeCount).toBe(1);
    slot.release();
    await tick();
    expect(slots.activeCount).toBe(0);
  });

  it('a request still held when the cluster is done takes no slot afterwards', async () => {
    const slots = pLimit(1);
    const slot = await takeSlot(slots);
    const late = deferred();
    const lending = slot.lend(() => late.promise);
    slot.release();
    late.resolve();
    await lending;
    await tick();
    expect(slots.activeCount).toBe(0);
  });
});
