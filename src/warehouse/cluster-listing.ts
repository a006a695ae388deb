/**
 * One cluster's listing on its way to the warehouse: each page's tasks become
 * rows, the identity rule (transform/task-identity.ts) says which task each
 * is, and the rows to write go to the run's writer with their identity.
 */
import type { RawTask } from '../source/task-page.js';
import { TaskIdentities, type Identified, type ListedTask, type StoredTask } from '../transform/task-identity.js';
import { naturalKey, toTaskRow, type RowContext } from '../transform/task-row.js';
import { copyLine, identifiedLine } from './copy-text.js';
import { rowFingerprint } from './fingerprint.js';
import type { RowCounts, TaskWriter } from './task-writer.js';

/** What became of one page: `accepted` resolves when the walk may fetch more. */
export interface PageOutcome {
  readonly accepted: Promise<void>;
  readonly repeats: number;
  readonly leadingRepeats: number;
}

export class ClusterListing {
  private readonly identities: TaskIdentities<string>;
  private readonly commits: Promise<RowCounts>[] = [];

  constructor(
    private readonly writer: TaskWriter,
    private readonly context: RowContext,
    stored: Iterable<StoredTask>,
  ) {
    this.identities = new TaskIdentities(stored);
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
    const found = this.identities.identifyPage(tasks.map((task) => this.listed(task)), start);
    return { accepted: this.write(found.tasks), repeats: found.repeats, leadingRepeats: found.leadingRepeats };
  }

  /** Every write handed to the writer, once committed or failed. */
  settled(): Promise<PromiseSettledResult<RowCounts>[]> {
    return Promise.allSettled(this.commits);
  }

  /** The row as COPY text, young: the TaskRow dies here. */
  private listed(task: RawTask): ListedTask<string> {
    const row = toTaskRow(task, this.context);
    const line = copyLine(row);
    return { key: naturalKey(row), fingerprint: rowFingerprint(line), running: row.isRunning, payload: line };
  }

  private write(found: readonly Identified<string>[]): Promise<void> {
    if (found.length === 0) return Promise.resolve();
    let text = '';
    for (const { task, occurrence } of found) text += identifiedLine(task.payload, occurrence, task.fingerprint);
    const { accepted, committed } = this.writer.write(this.context.clusterId, text, found.length);
    this.commits.push(committed);
    return accepted;
  }
}
