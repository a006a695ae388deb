/**
 * One cluster's listing on its way to the warehouse: the identity rule
 * (transform/task-identity.ts) says which task each listed entry is, from its
 * key and fingerprint alone; only new or changed tasks become rows and go to
 * the run's writer. An unchanged task is never transformed, nor sent.
 */
import type { RawTask } from '../source/task-page.js';
import { TaskIdentities, type StoredTasks } from '../transform/task-identity.js';
import { isRunningTask, rawTaskKey, toTaskRow, type RowContext } from '../transform/task-row.js';
import { copyLine, identityEnd, runIdsEnd } from './copy-text.js';
import { fingerprintSeed, taskFingerprint } from './fingerprint.js';
import type { RowCounts, TaskWriter } from './task-writer.js';

/** What became of one page: `accepted` resolves when the walk may fetch more. */
export interface PageOutcome {
  readonly accepted: Promise<void>;
  readonly repeats: number;
  readonly leadingRepeats: number;
}

const NOTHING_TO_WAIT_FOR = Promise.resolve();

export class ClusterListing {
  private readonly identities: TaskIdentities;
  private readonly seed: number;
  private readonly newRowEnd: string;
  private readonly commits: Promise<RowCounts>[] = [];

  constructor(
    private readonly writer: TaskWriter,
    private readonly context: RowContext,
    stored: StoredTasks,
  ) {
    this.identities = new TaskIdentities(stored);
    this.seed = fingerprintSeed(context);
    this.newRowEnd = runIdsEnd(writer.runId);
  }

  /** Distinct tasks met so far, over every walk of this export. */
  get distinct(): number {
    return this.identities.distinct;
  }

  /** The page size for a re-walk after a walk with pages of `limit` (TaskIdentities.rewalkPageSize). */
  rewalkPageSize(limit: number): number {
    return this.identities.rewalkPageSize(limit);
  }

  beginWalk(): void {
    this.identities.beginWalk();
  }

  /** One page, as a whole; `start`: the listing position of its first task (null: unknown). */
  page(tasks: readonly RawTask[], start: number | null): PageOutcome {
    const keys = new Array<string>(tasks.length);
    const fingerprints = new Array<number>(tasks.length);
    const running = new Array<boolean>(tasks.length);
    tasks.forEach((task, i) => {
      keys[i] = rawTaskKey(task);
      fingerprints[i] = taskFingerprint(task, this.seed);
      running[i] = isRunningTask(task);
    });
    const found = this.identities.identifyPage({ keys, fingerprints, running }, start);
    let newText = '';
    let changedText = '';
    let flagged = found.unchangedFlagged;
    let newRows = 0;
    for (const { index, occurrence, verdict } of found.toWrite) {
      const row = toTaskRow(tasks[index] as RawTask, this.context);
      if (row.issues.length > 0) flagged += 1;
      const fingerprint = fingerprints[index] as number;
      if (verdict === 'new') {
        newText += copyLine(row, identityEnd(occurrence, fingerprint, this.newRowEnd));
        newRows += 1;
      } else changedText += copyLine(row, identityEnd(occurrence, fingerprint));
    }
    const changedRows = found.toWrite.length - newRows;
    const fetched = found.toWrite.length + found.unchanged;
    const { repeats, leadingRepeats } = found;
    if (fetched === 0) return { accepted: NOTHING_TO_WAIT_FOR, repeats, leadingRepeats };
    const page = { newText, newRows, changedText, changedRows, fetched, flagged };
    const { accepted, committed } = this.writer.write(this.context.clusterId, page);
    this.commits.push(committed);
    return { accepted, repeats, leadingRepeats };
  }

  /** Every write handed to the writer, once committed or failed. */
  settled(): Promise<PromiseSettledResult<RowCounts>[]> {
    return Promise.allSettled(this.commits);
  }
}
