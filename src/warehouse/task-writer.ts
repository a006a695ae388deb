/**
 * The run's writer: clusters hand it rows as pages arrive and go on
 * fetching; it batches rows across pages and clusters (by size, or after a
 * short delay) so a fleet of small clusters does not pay one transaction per
 * cluster, and writes each batch in its own transaction. Up to `writers`
 * batches are written at once, on their own connections, so the database
 * can merge one batch while the next is copied in.
 *
 * - Backpressure: `accepted` resolves only while the queue is below its
 *   bound, so memory depends on batch size and concurrency, never on the
 *   number of tasks.
 * - Isolation: a batch that fails for a reason other than a lost connection
 *   is split and retried cluster by cluster, so one cluster's bad rows never
 *   fail another's.
 * - Load method: COPY into a staging table (fast), or unnest parameters
 *   (tiny batches, or where temporary tables are not allowed).
 * - No deadlocks between concurrent batches: within a run no two batches
 *   hold the same task, and each batch locks its clusters' ledger rows in
 *   cluster order (addBatchCounts).
 */
import type pg from 'pg';
import type { Logger } from '../core/logger.js';
import type { TaskRow } from '../transform/task-row.js';
import { copyAndMerge } from './copy-tasks.js';
import { encodeRows } from './copy-text.js';
import { withDbRetry, type DbRetryPolicy } from './db-retry.js';
import { addBatchCounts, type ClusterBatchCounts } from './batch-ledger.js';
import { withPooledTransaction } from './transaction.js';
import { unnestAndMerge } from './upsert-tasks.js';

export type LoadMethod = 'auto' | 'copy' | 'insert';

export interface RowCounts {
  readonly inserted: number;
  readonly updated: number;
  readonly unchanged: number;
}

export interface TaskWriterOptions {
  readonly pool: pg.Pool;
  readonly retry: DbRetryPolicy;
  readonly runId: number;
  readonly batchRows: number;
  /** Batches written at once, each on its own connection. */
  readonly writers: number;
  readonly maxDelayMs: number;
  readonly method: LoadMethod;
  readonly logger: Logger;
}

interface Entry {
  readonly clusterId: string;
  readonly rowCount: number;
  /** The rows as COPY text (UTF-8): one buffer per page, not thousands of objects. */
  readonly copyData: Buffer;
  resolve(counts: RowCounts): void;
  reject(error: unknown): void;
}

// Below this, one unnest statement beats COPY's extra round trips.
const AUTO_COPY_MIN_ROWS = 200;
// Pages are joined into COPY writes of about this many bytes.
const COPY_CHUNK_BYTES = 256 * 1024;
const ZERO: RowCounts = { inserted: 0, updated: 0, unchanged: 0 };

export class TaskWriter {
  private queue: Entry[] = [];
  private queuedRows = 0;
  private loops = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private spaceWaiters: (() => void)[] = [];
  private copyAllowed: boolean;

  constructor(private readonly options: TaskWriterOptions) {
    this.copyAllowed = options.method !== 'insert';
  }

  /**
   * `accepted`: the caller may fetch more. `committed`: these rows are in
   * the database (with their ledger counters), or the write failed.
   */
  write(clusterId: string, rows: readonly TaskRow[]): { accepted: Promise<void>; committed: Promise<RowCounts> } {
    // Encoded now, while the rows are young: the queue holds only the text.
    // No closure below may mention `rows`: closures share their function's
    // context, and the one on `committed` would keep the rows alive until
    // the batch commits (a heap snapshot found ~20,000 of them).
    const entry = { clusterId, rowCount: rows.length, copyData: Buffer.from(encodeRows(rows), 'utf8') };
    const committed = new Promise<RowCounts>((resolve, reject) => {
      this.queue.push({ ...entry, resolve, reject });
    });
    // The caller may stop awaiting after its own error; the failure is still reported through allSettled.
    committed.catch(() => undefined);
    this.queuedRows += entry.rowCount;
    if (this.queuedRows >= this.options.batchRows) this.kick();
    else this.timer ??= setTimeout(() => this.kick(), this.options.maxDelayMs);
    return { accepted: this.waitForSpace(), committed };
  }

  /** Writes everything queued; resolves when the queue is empty. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.loops.size > 0) {
      this.kick();
      await Promise.all(this.loops);
    }
  }

  private waitForSpace(): Promise<void> {
    if (this.queuedRows <= this.options.batchRows * 2) return Promise.resolve();
    return new Promise((resolve) => this.spaceWaiters.push(resolve));
  }

  private kick(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    // One writer takes whatever is queued; more start only for full batches.
    while (
      this.loops.size < this.options.writers &&
      this.queue.length > 0 &&
      (this.loops.size === 0 || this.queuedRows >= this.options.batchRows)
    ) {
      const loop: Promise<void> = this.loop(this.takeBatch()).finally(() => {
        this.loops.delete(loop);
        // Two writers may stop at once, each leaving the rest to the other.
        this.kick();
      });
      this.loops.add(loop);
    }
  }

  private async loop(first: Entry[]): Promise<void> {
    let batch: Entry[] | null = first;
    while (batch) {
      await this.writeBatch(batch);
      const more = this.queue.length > 0 && (this.loops.size === 1 || this.queuedRows >= this.options.batchRows);
      batch = more ? this.takeBatch() : null;
    }
  }

  private takeBatch(): Entry[] {
    const batch: Entry[] = [];
    let rows = 0;
    while (this.queue.length > 0 && rows < this.options.batchRows) {
      const entry = this.queue.shift() as Entry;
      batch.push(entry);
      rows += entry.rowCount;
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

  private async writeBatch(batch: readonly Entry[]): Promise<void> {
    try {
      settle(batch, await this.commit(batch));
    } catch (error) {
      const clusters = [...new Set(batch.map((e) => e.clusterId))];
      if (clusters.length === 1) {
        for (const entry of batch) entry.reject(error);
        return;
      }
      // Isolate: each cluster's rows in a transaction of their own.
      for (const clusterId of clusters) {
        const own = batch.filter((e) => e.clusterId === clusterId);
        try {
          settle(own, await this.commit(own));
        } catch (clusterError) {
          for (const entry of own) entry.reject(clusterError);
        }
      }
    }
  }

  private commit(entries: readonly Entry[]): Promise<ClusterBatchCounts[]> {
    const rowCount = entries.reduce((sum, e) => sum + e.rowCount, 0);
    const useCopy =
      this.copyAllowed && (this.options.method === 'copy' || rowCount >= AUTO_COPY_MIN_ROWS);
    const chunks = joinChunks(entries);
    const { runId } = this.options;
    return withDbRetry(this.options.retry, () =>
      withPooledTransaction(this.options.pool, async (client) => {
        const counts = await this.merge(client, useCopy, chunks);
        await addBatchCounts(client, runId, counts);
        return counts;
      }),
    );
  }

  private async merge(client: pg.PoolClient, useCopy: boolean, chunks: readonly Buffer[]): Promise<ClusterBatchCounts[]> {
    const { runId } = this.options;
    if (!useCopy) return unnestAndMerge(client, Buffer.concat(chunks).toString('utf8'), runId);
    try {
      await client.query('SAVEPOINT copy_path');
      return await copyAndMerge(client, chunks, runId);
    } catch (error) {
      if ((error as { code?: unknown }).code !== INSUFFICIENT_PRIVILEGE) throw error;
      this.copyAllowed = false;
      this.options.logger.warn('no privilege to create a temporary staging table: loading with INSERT … unnest instead of COPY');
      await client.query('ROLLBACK TO SAVEPOINT copy_path');
      return unnestAndMerge(client, Buffer.concat(chunks).toString('utf8'), runId);
    }
  }
}

const INSUFFICIENT_PRIVILEGE = '42501';

/** The entries' COPY data in writes of ~COPY_CHUNK_BYTES: large writes, never one per row. */
function joinChunks(entries: readonly Entry[]): Buffer[] {
  const chunks: Buffer[] = [];
  let pending: Buffer[] = [];
  let bytes = 0;
  for (const entry of entries) {
    pending.push(entry.copyData);
    bytes += entry.copyData.length;
    if (bytes >= COPY_CHUNK_BYTES) {
      chunks.push(Buffer.concat(pending, bytes));
      pending = [];
      bytes = 0;
    }
  }
  if (bytes > 0) chunks.push(Buffer.concat(pending, bytes));
  return chunks;
}

/** Each cluster's batch total goes to its last entry; the others report zero. */
function settle(batch: readonly Entry[], counts: readonly ClusterBatchCounts[]): void {
  const byCluster = new Map(counts.map((c) => [c.clusterId, c]));
  const last = new Map(batch.map((entry) => [entry.clusterId, entry]));
  for (const entry of batch) {
    const total = byCluster.get(entry.clusterId);
    entry.resolve(last.get(entry.clusterId) === entry && total ? total : ZERO);
  }
}
