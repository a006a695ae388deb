/**
 * Writing one batch in one transaction (retried while the database is away):
 * new tasks COPYed straight in, changed ones merged (COPY or unnest), the
 * counters added to the ledger. A batch that fails for another reason is
 * retried cluster by cluster, so one cluster's bad rows never fail another's.
 */
import type pg from 'pg';
import type { Logger } from '../core/logger.js';
import { addBatchCounts, batchCounts, type ClusterBatchCounts, type WrittenRow } from './batch-ledger.js';
import { copyAndMerge, copyNewRows } from './copy-tasks.js';
import { runIdsEnd } from './copy-text.js';
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
  /** New tasks as complete lines with their run ids, and changed ones as identified lines (copy-text.ts). */
  readonly newText: string;
  readonly newRows: number;
  readonly changedText: string;
  readonly changedRows: number;
  /** Tasks the page counted (written or not), and of those the ones with parse issues. */
  readonly fetched: number;
  readonly flagged: number;
}

/** One page, queued; settled with its cluster's counters once written. */
export interface QueuedRows {
  readonly clusterId: string;
  readonly newRows: number;
  readonly changedRows: number;
  readonly fetched: number;
  readonly flagged: number;
  /** The rows as COPY text (UTF-8): one buffer per page and kind, not thousands of objects. */
  readonly newData: Buffer;
  readonly changedData: Buffer;
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
const UNIQUE_VIOLATION = '23505';
const LOCK_NOT_AVAILABLE = '55P03';
// Far below PostgreSQL's default deadlock_timeout (1 s).
const NEW_ROWS_LOCK_TIMEOUT = '100ms';
const ZERO: RowCounts = { inserted: 0, updated: 0, unchanged: 0 };

export class BatchWriter {
  private stagingAllowed = true;

  constructor(private readonly options: BatchWriterOptions) {}

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
    const newRows = entries.reduce((sum, e) => sum + e.newRows, 0);
    const changedRows = entries.reduce((sum, e) => sum + e.changedRows, 0);
    const newChunks = joinChunks(entries.map((e) => e.newData));
    const changedChunks = joinChunks(entries.map((e) => e.changedData));
    const { pool, retry, runId } = this.options;
    return withDbRetry(retry, () =>
      withPooledTransaction(pool, async (client) => {
        const written: WrittenRow[] = [];
        if (newRows > 0) written.push(...(await this.insertNew(client, entries, newRows, newChunks)));
        if (changedRows > 0) written.push(...(await this.merge(client, this.useCopy(changedRows), changedChunks)));
        const counts = batchCounts(entries, written);
        await addBatchCounts(client, runId, counts);
        return counts;
      }),
    );
  }

  private useCopy(rows: number): boolean {
    const { method } = this.options;
    return method === 'copy' || (method === 'auto' && rows >= AUTO_COPY_MIN_ROWS);
  }

  /**
   * New tasks: COPY straight into the table, however few (one round trip more
   * than an INSERT, no staging); merged like changed ones if another run
   * stored one meanwhile, or is storing one (a wait on it times out).
   */
  private async insertNew(client: pg.PoolClient, entries: readonly QueuedRows[], rows: number, chunks: Buffer[]): Promise<WrittenRow[]> {
    if (this.options.method !== 'insert') {
      try {
        // Unsorted rows may wait on another run's uncommitted copies of them:
        // give up such a wait long before deadlock_timeout, and merge in key order instead.
        await client.query(`SAVEPOINT new_rows; SET LOCAL lock_timeout = '${NEW_ROWS_LOCK_TIMEOUT}'`);
        await copyNewRows(client, chunks);
        await client.query('SET LOCAL lock_timeout TO DEFAULT');
        return [...countBy(entries, (e) => e.newRows)].map(([cluster_id, inserted]) => ({ cluster_id, inserted, updated: 0 }));
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (code !== UNIQUE_VIOLATION && code !== LOCK_NOT_AVAILABLE) throw error;
        await client.query('ROLLBACK TO SAVEPOINT new_rows');
      }
    }
    // Without their run ids, the lines are identified lines like changed ones.
    const text = Buffer.concat(chunks).toString('utf8').replaceAll(runIdsEnd(this.options.runId), '\n');
    return this.merge(client, this.useCopy(rows), [Buffer.from(text, 'utf8')]);
  }

  private async merge(client: pg.PoolClient, useCopy: boolean, chunks: readonly Buffer[]): Promise<WrittenRow[]> {
    const { runId } = this.options;
    if (!useCopy || !this.stagingAllowed) return unnestAndMerge(client, Buffer.concat(chunks).toString('utf8'), runId);
    try {
      await client.query('SAVEPOINT copy_path');
      return await copyAndMerge(client, chunks, runId);
    } catch (error) {
      if ((error as { code?: unknown }).code !== INSUFFICIENT_PRIVILEGE) throw error;
      this.stagingAllowed = false;
      this.options.logger.warn('no privilege to create a temporary staging table: merging with INSERT … unnest instead of COPY');
      await client.query('ROLLBACK TO SAVEPOINT copy_path');
      return unnestAndMerge(client, Buffer.concat(chunks).toString('utf8'), runId);
    }
  }
}

function countBy(entries: readonly QueuedRows[], rows: (e: QueuedRows) => number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const entry of entries) counts.set(entry.clusterId, (counts.get(entry.clusterId) ?? 0) + rows(entry));
  return counts;
}

/** Buffers joined into writes of ~COPY_CHUNK_BYTES: large writes, never one per row. */
function joinChunks(buffers: readonly Buffer[]): Buffer[] {
  const chunks: Buffer[] = [];
  let pending: Buffer[] = [];
  let bytes = 0;
  for (const buffer of buffers) {
    if (buffer.length === 0) continue;
    pending.push(buffer);
    bytes += buffer.length;
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
