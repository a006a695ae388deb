/**
 * tasksUrl (src/source/dws-client.ts): the request URL for one page, encoded
 * exactly as the AK/SK signature encodes it (RFC 3986: space is %20, never "+").
 */
import { describe, expect, it } from 'vitest';
import type { ClusterRef } from '../../../src/plan/cluster-ref.js';
import { tasksUrl, type PageQuery } from '../../../src/source/dws-client.js';

const CLUSTER: ClusterRef = {
  endpoint: 'https://dws.cn-north-4.myhuaweicloud.com',
  projectId: '0123456789abcdef0123456789abcdef',
  clusterId: 'c-1',
};

const QUERY: PageQuery = { offset: 0, limit: 100, orderBy: 'startTime', logicalClusterName: null, type: null };

/** The query string as sent, as [key, raw value] pairs in order. */
function rawPairs(url: URL): [string, string][] {
  return url.search
    .slice(1)
    .split('&')
    .map((pair): [string, string] => {
      const at = pair.indexOf('=');
      return [pair.slice(0, at), pair.slice(at + 1)];
    });
}

describe('tasksUrl', () => {
  it('builds the documented path and offset, limit, order_by and order, in that order', () => {
    expect(tasksUrl(CLUSTER, QUERY).href).toBe(
      'https://dws.cn-north-4.myhuaweicloud.com/v2/0123456789abcdef0123456789abcdef/clusters/c-1/logical-clusters/tasks' +
        '?offset=0&limit=100&order_by=startTime&order=ASC',
    );
  });

  it('always asks for ascending order; without orderBy there is no order_by parameter', () => {
    const url = tasksUrl(CLUSTER, { ...QUERY, orderBy: null });
    expect(rawPairs(url)).toEqual([
      ['offset', '0'],
      ['limit', '100'],
      ['order', 'ASC'],
    ]);
  });

  it('carries offset and limit as given', () => {
    const url = tasksUrl(CLUSTER, { ...QUERY, offset: 7, limit: 25 });
    expect(url.searchParams.get('offset')).toBe('7');
    expect(url.searchParams.get('limit')).toBe('25');
  });

  it('adds the logical_cluster_name and type filters, before order_by and order', () => {
    const url = tasksUrl(CLUSTER, { ...QUERY, logicalClusterName: 'lc_sales', type: 'Expand' });
    expect(rawPairs(url).map(([key]) => key)).toEqual(['offset', 'limit', 'logical_cluster_name', 'type', 'order_by', 'order']);
    expect(url.searchParams.get('logical_cluster_name')).toBe('lc_sales');
    expect(url.searchParams.get('type')).toBe('Expand');
  });

  it('encodes spaces as %20, never "+"', () => {
    const url = tasksUrl(CLUSTER, { ...QUERY, logicalClusterName: 'sales lc', type: 'Shrink Elastic', orderBy: 'start time' });
    expect(url.search).toContain('logical_cluster_name=sales%20lc');
    expect(url.search).toContain('type=Shrink%20Elastic');
    expect(url.search).toContain('order_by=start%20time');
    expect(url.search).not.toContain('+');
  });

  it('percent-encodes reserved and sub-delimiter characters (RFC 3986, upper-case hex) and keeps unreserved ones', () => {
    const url = tasksUrl(CLUSTER, { ...QUERY, logicalClusterName: "a&b=c+d/e?f#g!'()*%", type: 'A-z_0.9~' });
    const pairs = Object.fromEntries(rawPairs(url));
    expect(pairs.logical_cluster_name).toBe('a%26b%3Dc%2Bd%2Fe%3Ff%23g%21%27%28%29%2A%25');
    expect(pairs.type).toBe('A-z_0.9~');
    // And the value round-trips.
    expect(url.searchParams.get('logical_cluster_name')).toBe("a&b=c+d/e?f#g!'()*%");
  });

  it('encodes non-ASCII filter values as UTF-8', () => {
    const url = tasksUrl(CLUSTER, { ...QUERY, logicalClusterName: '逻辑集群' });
    expect(url.search).toContain('logical_cluster_name=%E9%80%BB%E8%BE%91%E9%9B%86%E7%BE%A4');
    expect(url.searchParams.get('logical_cluster_name')).toBe('逻辑集群');
  });

  it('encodes project and cluster ids as single path segments', () => {
    const url = tasksUrl({ ...CLUSTER, projectId: 'p/1', clusterId: 'c 1?x#y' }, QUERY);
    expect(url.pathname).toBe('/v2/p%2F1/clusters/c%201%3Fx%23y/logical-clusters/tasks');
    expect(url.hash).toBe('');
    expect(url.searchParams.get('offset')).toBe('0');
  });

  it('keeps a path prefix of the endpoint (a proxy) and its port', () => {
    const url = tasksUrl({ ...CLUSTER, endpoint: 'http://127.0.0.1:8080/dws' }, QUERY);
    expect(url.origin).toBe('http://127.0.0.1:8080');
    expect(url.pathname).toBe('/dws/v2/0123456789abcdef0123456789abcdef/clusters/c-1/logical-clusters/tasks');
  });
});
