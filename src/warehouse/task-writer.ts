/**
 * The run's writer: clusters hand it pages of rows and go on fetching; it
 * gathers them across pages and clusters into batches (by size, or after a
 * short delay) and keeps up to `writers` batches in flight on their own
 * connections (write-batch.ts), so the database merges one while the next is
 * copied in. Memory is bounded by batch size, never by the number of tasks.
 */
import { BatchWriter, type BatchWriterOptions, type PageRows, type QueuedRows, type RowCounts } from './write-batch.js';

export type { LoadMethod, PageRows, RowCounts } from './write-batch.js';

export interface TaskWriterOptions extends BatchWriterOptions {
  readonly batchRows: number;
  /** Batches written at once, each on its own connection. */
  readonly writers: number;
  readonly maxDelayMs: number;
}

export class TaskWriter {
  private readonly batches: BatchWriter;
  private queue: QueuedRows[] = [];
  private queuedRows = 0;
  private readonly activeWriters = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private spaceWaiters: (() => void)[] = [];

  constructor(private readonly options: TaskWriterOptions) {
    this.batches = new BatchWriter(options);
  }

  /** The run the rows are written for (a new task's line carries it). */
  get runId(): number {
    return this.options.runId;
  }

  /**
   * `accepted`: the caller may fetch more (the queue is below its bound).
   * `committed`: the rows are in the database with their ledger counters,
   * or the write failed.
   */
  write(clusterId: string, page: PageRows): { accepted: Promise<void>; committed: Promise<RowCounts> } {
    // The queue holds UTF-8 bytes, not strings or row objects.
    const { newRows, changedRows, fetched, flagged } = page;
    const entry = {
      clusterId,
      newRows,
      changedRows,
      fetched,
      flagged,
      newData: Buffer.from(page.newText, 'utf8'),
      changedData: Buffer.from(page.changedText, 'utf8'),
    };
    const committed = new Promise<RowCounts>((resolve, reject) => {
      this.queue.push({ ...entry, resolve, reject });
    });
    // The caller may stop awaiting after its own error; the failure is still reported through allSettled.
    committed.catch(() => undefined);
    this.queuedRows += newRows + changedRows;
    if (this.queuedRows >= this.options.batchRows) this.startWriters();
    else this.timer ??= setTimeout(() => this.startWriters(), this.options.maxDelayMs);
    return { accepted: this.waitForSpace(), committed };
  }

  /** Writes everything queued; resolves when the queue is empty. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.activeWriters.size > 0) {
      this.startWriters();
      await Promise.all(this.activeWriters);
    }
  }

  private waitForSpace(): Promise<void> {
    if (this.queuedRows <= this.options.batchRows * 2) return Promise.resolve();
    return new Promise((resolve) => this.spaceWaiters.push(resolve));
  }

  /** Starts writers for what is queued: one takes whatever is there, more only for full batches. */
  private startWriters(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (
      this.activeWriters.size < this.options.writers &&
      this.queue.length > 0 &&
      (this.activeWriters.size === 0 || this.queuedRows >= this.options.batchRows)
    ) {
      const writer: Promise<void> = this.writeWhileQueued(this.takeBatch()).finally(() => {
        this.activeWriters.delete(writer);
        // Two writers may stop at once, each leaving the rest to the other.
        this.startWriters();
      });
      this.activeWriters.add(writer);
    }
  }

  /** One writer: writes `first`, then further batches while there is work for it. */
  private async writeWhileQueued(first: QueuedRows[]): Promise<void> {
    let batch: QueuedRows[] | null = first;
    while (batch) {
      await this.batches.write(batch);
      const more =
        this.queue.length > 0 && (this.activeWriters.size === 1 || this.queuedRows >= this.options.batchRows);
      batch = more ? this.takeBatch() : null;
    }
  }

  private takeBatch(): QueuedRows[] {
    const batch: QueuedRows[] = [];
    let rows = 0;
    while (this.queue.length > 0 && rows < this.options.batchRows) {
      const entry = this.queue.shift() as QueuedRows;
      batch.push(entry);
      rows += entry.newRows + entry.changedRows;
    }
    this.queuedRows -= rows;
    this.releaseSpace();
    return batch;
  }

  private releaseSpace(): void {
    while (this.spaceWaiters.length > 0 && this.queuedRows <= this.options.batchRows * 2) {
      this.spaceWaiters.shift()?.();
    }
  }
}
