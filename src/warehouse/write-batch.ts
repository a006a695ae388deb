/**
 * Writing one batch: in one transaction (retried while the database is away),
 * COPY or unnest its rows into the merge and add its counters to the ledger.
 * A batch that fails for another reason is retried cluster by cluster, so one
 * cluster's bad rows never fail another's.
 */
import type pg from 'pg';
import type { Logger } from '../core/logger.js';
import { addBatchCounts, batchCounts, type ClusterBatchCounts, type WrittenRow } from './batch-ledger.js';
import { copyAndMerge } from './copy-tasks.js';
import { withDbRetry, type DbRetryPolicy } from './db-retry.js';
import { withPooledTransaction } from './transaction.js';
import { unnestAndMerge } from './upsert-tasks.js';

export type LoadMethod = 'auto' | 'copy' | 'insert';

export interface RowCounts {
  readonly inserted: number;
  readonly updated: number;
  readonly unchanged: number;
}

/** What one page of a cluster brings: the rows to write, and its counters for the ledger. */
export interface PageRows {
  /** New or changed rows as identified COPY lines (copy-text.ts). */
  readonly copyText: string;
  readonly rows: number;
  /** Tasks the page counted (written or not), and of those the ones with parse issues. */
  readonly fetched: number;
  readonly flagged: number;
}

/** One page, queued; settled with its cluster's counters once written. */
export interface QueuedRows {
  readonly clusterId: string;
  readonly rowCount: number;
  readonly fetched: number;
  readonly flagged: number;
  /** The rows as COPY text (UTF-8): one buffer per page, not thousands of objects. */
  readonly copyData: Buffer;
  resolve(counts: RowCounts): void;
  reject(error: unknown): void;
}

export interface BatchWriterOptions {
  readonly pool: pg.Pool;
  readonly retry: DbRetryPolicy;
  readonly runId: number;
  readonly method: LoadMethod;
  readonly logger: Logger;
}

// Below this, one unnest statement beats COPY's extra round trips.
const AUTO_COPY_MIN_ROWS = 200;
// Pages are joined into COPY writes of about this many bytes.
const COPY_CHUNK_BYTES = 256 * 1024;
const INSUFFICIENT_PRIVILEGE = '42501';
const ZERO: RowCounts = { inserted: 0, updated: 0, unchanged: 0 };

export class BatchWriter {
  private copyAllowed: boolean;

  constructor(private readonly options: BatchWriterOptions) {
    this.copyAllowed = options.method !== 'insert';
  }

  /** Writes `batch` and settles each of its entries; never throws. */
  async write(batch: readonly QueuedRows[]): Promise<void> {
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

  private commit(entries: readonly QueuedRows[]): Promise<ClusterBatchCounts[]> {
    const rowCount = entries.reduce((sum, e) => sum + e.rowCount, 0);
    const useCopy = this.copyAllowed && (this.options.method === 'copy' || rowCount >= AUTO_COPY_MIN_ROWS);
    const chunks = joinChunks(entries);
    const { pool, retry, runId } = this.options;
    return withDbRetry(retry, () =>
      withPooledTransaction(pool, async (client) => {
        const written = rowCount > 0 ? await this.merge(client, useCopy, chunks) : [];
        const counts = batchCounts(entries, written);
        await addBatchCounts(client, runId, counts);
        return counts;
      }),
    );
  }

  private async merge(client: pg.PoolClient, useCopy: boolean, chunks: readonly Buffer[]): Promise<WrittenRow[]> {
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

/** The entries' COPY data in writes of ~COPY_CHUNK_BYTES: large writes, never one per row. */
function joinChunks(entries: readonly QueuedRows[]): Buffer[] {
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
function settle(batch: readonly QueuedRows[], counts: readonly ClusterBatchCounts[]): void {
  const byCluster = new Map(counts.map((c) => [c.clusterId, c]));
  const last = new Map(batch.map((entry) => [entry.clusterId, entry]));
  for (const entry of batch) {
    const total = byCluster.get(entry.clusterId);
    entry.resolve(last.get(entry.clusterId) === entry && total ? total : ZERO);
  }
}
