/**
 * Which database failures a batch or ledger write retries: a lost or busy
 * server, never a bad statement.
 */
import { describe, expect, it } from 'vitest';
import { isTransientDbError } from '../../../src/warehouse/db-retry.js';

function pgError(message: string, code?: string): Error {
  return Object.assign(new Error(message), code === undefined ? {} : { code });
}

describe('isTransientDbError', () => {
  it.each([
    ['a connection exception (08006)', pgError('connection failure', '08006')],
    ['the server shutting down (57P01)', pgError('terminating connection due to administrator command', '57P01')],
    ['too many connections (53300)', pgError('sorry, too many clients already', '53300')],
    ['a deadlock (40P01)', pgError('deadlock detected', '40P01')],
    ['a refused connection', pgError('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['a connection that ended mid-statement', pgError('Connection terminated unexpectedly')],
    ['a statement on a connection that died between two statements', pgError('Client has encountered a connection error and is not queryable')],
    ['a wrapped transient cause', Object.assign(new Error('storing failed'), { cause: pgError('x', '57P03') })],
  ])('retries %s', (_, error) => {
    expect(isTransientDbError(error)).toBe(true);
  });

  it.each([
    ['a syntax error (42601)', pgError('syntax error at or near "SELEC"', '42601')],
    ['a missing privilege (42501)', pgError('permission denied for table logical_cluster_tasks', '42501')],
    ['a constraint violation (23505)', pgError('duplicate key value violates unique constraint', '23505')],
    ['something that is not an Error', 'connection terminated'],
  ])('does not retry %s', (_, error) => {
    expect(isTransientDbError(error)).toBe(false);
  });
});
