/**
 * The run's writer: clusters hand it pages of rows and go on fetching; it
 * gathers them across pages and clusters into batches (full ones at once, a
 * partial one `maxDelayMs` after its oldest page, never sooner: a transaction
 * per trickling page is what made small clusters slow) and keeps up to
 * `writers` batches in flight on their own
 * connections (write-batch.ts), so the database merges one while the next is
 * copied in. Memory is bounded by batch size, never by the number of tasks.
 */
import { BatchWriter, type BatchWriterOptions, type PageRows, type QueuedRows, type RowCounts } from './write-batch.js';

export type { LoadMethod, PageRows, RowCounts } from './write-batch.js';

/** A queued page, and when it was queued (its batch is due `maxDelayMs` later). */
interface Queued extends QueuedRows {
  readonly queuedAt: number;
}

export interface TaskWriterOptions extends BatchWriterOptions {
  readonly batchRows: number;
  /** Batches written at once, each on its own connection. */
  readonly writers: number;
  readonly maxDelayMs: number;
}

export class TaskWriter {
  private readonly batches: BatchWriter;
  private queue: Queued[] = [];
  private queuedRows = 0;
  private readonly activeWriters = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private spaceWaiters: (() => void)[] = [];
  /** Set while drain() runs: partial batches go at once. */
  private draining = false;
  /** Set by lastRowsQueued(): nothing more is coming, so a partial batch has nothing to wait for. */
  private intakeClosed = false;

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
      this.queue.push({ ...entry, queuedAt: performance.now(), resolve, reject });
    });
    // The caller may stop awaiting after its own error; the failure is still reported through allSettled.
    committed.catch(() => undefined);
    this.queuedRows += newRows + changedRows;
    if (this.batchReady()) this.startWriters();
    else this.armTimer();
    return { accepted: this.waitForSpace(), committed };
  }

  /**
   * Every page the run will write is queued (each cluster has walked): the
   * partial batches go now instead of `maxDelayMs` after their oldest page.
   */
  lastRowsQueued(): void {
    this.intakeClosed = true;
    this.startWriters();
  }

  /** Writes everything queued; resolves when the queue is empty. */
  async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0 || this.activeWriters.size > 0) {
        this.startWriters();
        await Promise.all(this.activeWriters);
      }
    } finally {
      this.draining = false;
    }
  }

  private waitForSpace(): Promise<void> {
    if (this.queuedRows <= this.options.batchRows * 2) return Promise.resolve();
    return new Promise((resolve) => this.spaceWaiters.push(resolve));
  }

  /** A batch is ready: a full one, or the oldest queued page has waited `maxDelayMs`. */
  private batchReady(): boolean {
    const oldest = this.queue[0];
    if (oldest === undefined) return false;
    return (
      this.draining ||
      this.intakeClosed ||
      this.queuedRows >= this.options.batchRows ||
      performance.now() - oldest.queuedAt >= this.options.maxDelayMs
    );
  }

  /** Starts writers for the batches that are ready; a timer for the next partial one. */
  private startWriters(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.activeWriters.size < this.options.writers && this.batchReady()) {
      const writer: Promise<void> = this.writeWhileQueued(this.takeBatch()).finally(() => {
        this.activeWriters.delete(writer);
        // Two writers may stop at once, each leaving the rest to the other.
        this.startWriters();
      });
      this.activeWriters.add(writer);
    }
    this.armTimer();
  }

  /** Wakes startWriters when the oldest queued page is due; a busy writer looks again when it finishes. */
  private armTimer(): void {
    const oldest = this.queue[0];
    if (this.timer !== null || oldest === undefined || this.activeWriters.size >= this.options.writers) return;
    const wait = Math.max(0, oldest.queuedAt + this.options.maxDelayMs - performance.now());
    this.timer = setTimeout(() => this.startWriters(), wait);
  }

  /** One writer: writes `first`, then further batches while there is work for it. */
  private async writeWhileQueued(first: QueuedRows[]): Promise<void> {
    let batch: QueuedRows[] | null = first;
    while (batch) {
      await this.batches.write(batch);
      batch = this.batchReady() ? this.takeBatch() : null;
    }
  }

  private takeBatch(): QueuedRows[] {
    const batch: QueuedRows[] = [];
    let rows = 0;
    while (this.queue.length > 0 && rows < this.options.batchRows) {
      const entry = this.queue.shift() as Queued;
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
