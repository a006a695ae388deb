/** How many clusters are opened ahead: one per fetch slot while they store little, fewer as they store more. */
import { describe, expect, it } from 'vitest';
import { openAhead, OPEN_AHEAD_STORED_TASKS } from '../../../src/export/open-ahead.js';

describe('openAhead', () => {
  it('opens one cluster ahead per fetch slot while clusters store little (a first load stores nothing)', () => {
    const ahead = openAhead(32);
    expect(ahead.slots.concurrency).toBe(32);
    for (let i = 0; i < 100; i++) ahead.opened(i % 2 === 0 ? 0 : 1000);
    expect(ahead.slots.concurrency).toBe(32);
  });

  it('opens fewer as recent clusters store more, so those waiting hold about OPEN_AHEAD_STORED_TASKS between them', () => {
    const ahead = openAhead(32);
    for (let i = 0; i < 100; i++) ahead.opened(10_000);
    expect(ahead.slots.concurrency).toBe(Math.floor(OPEN_AHEAD_STORED_TASKS / 10_000));
  });

  it('never opens fewer than two ahead, however large the clusters, and at least two at concurrency 1', () => {
    const ahead = openAhead(32);
    for (let i = 0; i < 20; i++) ahead.opened(1_000_000);
    expect(ahead.slots.concurrency).toBe(2);
    expect(openAhead(1).slots.concurrency).toBe(2);
  });

  it('goes back up once clusters are small again', () => {
    const ahead = openAhead(32);
    for (let i = 0; i < 20; i++) ahead.opened(1_000_000);
    for (let i = 0; i < 200; i++) ahead.opened(10);
    expect(ahead.slots.concurrency).toBe(32);
  });
});
