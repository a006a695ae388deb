/** The endpoint breaker's states, driven the way dws-client.ts drives them (short pauses, no timing assertions). */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EndpointUnreachableError, type ApiCallContext } from '../../../src/core/errors.js';
import { isConnectionFailure } from '../../../src/source/connection-failure.js';
import { EndpointBreaker, PROBES_BEFORE_REFUSING, type EndpointPermit } from '../../../src/source/endpoint-breaker.js';

const DEAD = 'https://dws.dead.example';
const OTHER = 'https://dws.other.example';
const call = (clusterId: string): ApiCallContext => ({ projectId: 'p', clusterId, path: `/v2/p/clusters/${clusterId}/logical-clusters/tasks` });
const never = new AbortController().signal;

function breaker(): EndpointBreaker {
  return new EndpointBreaker({ firstPauseMs: 20, maxPauseMs: 80 });
}

/** Strikes `clusters` distinct clusters (one request each) with a connection failure. */
async function strikeClusters(b: EndpointBreaker, clusters: readonly string[]): Promise<EndpointPermit[]> {
  const permits: EndpointPermit[] = [];
  for (const cluster of clusters) {
    const permit = await b.admit(DEAD, call(cluster));
    b.strike(permit, cluster, 'ECONNREFUSED');
    permits.push(permit);
  }
  return permits;
}

describe('isConnectionFailure', () => {
  it('knows refused, reset, DNS, TLS and connect timeouts, also as a cause or inside an AggregateError', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'ERR_TLS_CERT_ALTNAME_INVALID', 'DEPTH_ZERO_SELF_SIGNED_CERT']) {
      expect(isConnectionFailure({ code }), code).toBe(true);
    }
    expect(isConnectionFailure(new Error('wrapped', { cause: { code: 'ENOTFOUND' } }))).toBe(true);
    expect(isConnectionFailure(new AggregateError([{ code: 'ECONNREFUSED' }]))).toBe(true);
  });

  it('counts a CONNECT the proxy answered 502, 503 or 504 (the host is unreachable behind it), also as a cause; not 403 or 407', () => {
    const tunnel = (status: number): Error =>
      Object.assign(new Error(`Proxy response (${status}) !== 200 when HTTP Tunneling`), { code: 'UND_ERR_ABORTED' });
    for (const status of [502, 503, 504]) {
      expect(isConnectionFailure(tunnel(status)), String(status)).toBe(true);
      expect(isConnectionFailure(new Error('hinted', { cause: tunnel(status) })), String(status)).toBe(true);
    }
    for (const status of [403, 407]) expect(isConnectionFailure(tunnel(status)), String(status)).toBe(false);
  });

  it('does not count a server that accepted the connection and was slow, or an abort', () => {
    for (const code of ['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_ABORTED', 'ABORT_ERR']) {
      expect(isConnectionFailure({ code }), code).toBe(false);
    }
    expect(isConnectionFailure(undefined)).toBe(false);
  });
});

describe('EndpointBreaker', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('opens after failures from three distinct clusters, not from one cluster three times', async () => {
    const b = breaker();
    await strikeClusters(b, ['a', 'a', 'a', 'b']);
    expect(b.isOpen(DEAD)).toBe(false);
    const [permit] = await strikeClusters(b, ['c']);
    expect(b.isOpen(DEAD)).toBe(true);
    // Requests in flight when it opened are told to stop.
    expect(permit?.signal.aborted).toBe(true);
  });

  it('a success in between starts the count again', async () => {
    const b = breaker();
    await strikeClusters(b, ['a', 'b']);
    const ok = await b.admit(DEAD, call('x'));
    b.settle(ok, true);
    await strikeClusters(b, ['c', 'd']);
    expect(b.isOpen(DEAD)).toBe(false);
  });

  it('a request out of retries at the connection level opens it at once', async () => {
    const b = breaker();
    const permit = await b.admit(DEAD, call('a'));
    b.strike(permit, 'a', 'ECONNREFUSED', true);
    expect(b.isOpen(DEAD)).toBe(true);
  });

  it('holds requests and clusters for a probe; the probe succeeding closes it and lets them all go', async () => {
    // A fake clock: the pause ends at one instant for both waiters. With a real one, a
    // timer firing a millisecond early can let the cluster see the half-open endpoint
    // before the request does, and start (as designed) ahead of the probe.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const b = breaker();
    await strikeClusters(b, ['a', 'b', 'c']);
    const order: string[] = [];
    const held = b.admit(DEAD, call('d')).then((permit) => {
      order.push(permit.probe ? 'probe' : 'request');
      return permit;
    });
    const waiting = b.clusterTurn(DEAD, never).then((refusal) => order.push(refusal ? 'refused' : 'cluster'));
    await vi.advanceTimersByTimeAsync(20);
    const probe = await held;
    expect(probe.probe).toBe(true);
    const second = b.admit(DEAD, call('e')).then((permit) => order.push(permit.probe ? 'probe' : 'request'));
    await vi.advanceTimersByTimeAsync(5);
    // While the probe is out, everyone else waits for its answer.
    expect(order).toEqual(['probe']);
    b.settle(probe, true);
    await Promise.all([second, waiting]);
    expect(order.slice(1).sort()).toEqual(['cluster', 'request']);
    expect(b.isOpen(DEAD)).toBe(false);
  });

  /** Admits the next probe once the pause is over (a request arriving early waits for it). */
  async function nextProbe(b: EndpointBreaker, cluster: string): Promise<EndpointPermit> {
    const permit = await b.admit(DEAD, call(cluster));
    expect(permit.probe).toBe(true);
    return permit;
  }

  /** The probe fails the way dws-client.ts reports it: a counted failure, then its settle. */
  function failProbe(b: EndpointBreaker, probe: EndpointPermit, error = 'connect ECONNREFUSED 10.0.0.1:443'): void {
    b.strike(probe, 'probe', error);
    b.settle(probe, false);
  }

  it('a failed probe keeps requests held: each waits out the doubled pause and the next goes as a probe, until PROBES_BEFORE_REFUSING have failed', async () => {
    const b = breaker();
    await strikeClusters(b, ['a', 'b', 'c']);
    let probe = await nextProbe(b, 'p1');
    for (let failed = 1; failed < PROBES_BEFORE_REFUSING; failed += 1) {
      failProbe(b, probe);
      expect(b.isOpen(DEAD)).toBe(true);
      probe = await nextProbe(b, `p${failed + 1}`);
    }
    failProbe(b, probe);
    expect(await b.admit(DEAD, call('late')).catch((error: unknown) => error)).toBeInstanceOf(EndpointUnreachableError);
    expect(await b.clusterTurn(DEAD, never)).toBeInstanceOf(EndpointUnreachableError);
  });

  it('a probe that gets through after failed ones closes the endpoint; the next outage has the whole budget again', async () => {
    const b = breaker();
    await strikeClusters(b, ['a', 'b', 'c']);
    failProbe(b, await nextProbe(b, 'p1'));
    b.settle(await nextProbe(b, 'p2'), true);
    expect(b.isOpen(DEAD)).toBe(false);
    expect((await b.admit(DEAD, call('x'))).probe).toBe(false);
    await strikeClusters(b, ['a', 'b', 'c']);
    let probe = await nextProbe(b, 'q1');
    for (let failed = 1; failed < PROBES_BEFORE_REFUSING; failed += 1) {
      failProbe(b, probe);
      probe = await nextProbe(b, `q${failed + 1}`);
    }
    b.settle(probe, true);
    expect(await b.clusterTurn(DEAD, never)).toBeNull();
  });

  it('once PROBES_BEFORE_REFUSING probes in a row have failed, the endpoint refuses: requests throw DWS_ENDPOINT_UNREACHABLE naming it, clusters are not called', async () => {
    const b = breaker();
    await strikeClusters(b, ['a', 'b', 'c']);
    for (let failed = 1; failed <= PROBES_BEFORE_REFUSING; failed += 1) failProbe(b, await nextProbe(b, `probe-${failed}`));
    const refused = await b.admit(DEAD, call('e')).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(EndpointUnreachableError);
    expect((refused as EndpointUnreachableError).code).toBe('DWS_ENDPOINT_UNREACHABLE');
    expect((refused as Error).message).toContain(`endpoint ${DEAD} unreachable (last error: connect ECONNREFUSED 10.0.0.1:443)`);
    const cluster = await b.clusterTurn(DEAD, never);
    expect(cluster?.message).toContain('cluster not called');
    expect(b.lastError(DEAD)).toBe('connect ECONNREFUSED 10.0.0.1:443');
    // After the (doubled) pause, one request goes again as a probe, and its success closes the endpoint.
    const next = await new Promise<EndpointPermit>((resolve) => {
      const retry = (): void => void b.admit(DEAD, call('f')).then(resolve, () => setTimeout(retry, 10));
      retry();
    });
    expect(next.probe).toBe(true);
    b.settle(next, true);
    expect((await b.admit(DEAD, call('g'))).probe).toBe(false);
  });

  it('a pause timer that fires a millisecond before the clock reaches its deadline still ends the wait', async () => {
    // Node's timers and Date.now() can disagree by a millisecond; a waiter woken
    // too early must get a new timer, or it waits forever (seen: 1 run in 10).
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const b = breaker();
    await strikeClusters(b, ['a', 'b', 'c']);
    vi.setSystemTime(Date.now() - 1);
    let admitted: EndpointPermit | null = null;
    const held = b.admit(DEAD, call('d')).then((permit) => {
      admitted = permit;
    });
    await vi.advanceTimersByTimeAsync(20);
    expect(admitted, 'the first wake came one millisecond early').toBeNull();
    await vi.advanceTimersByTimeAsync(5);
    await held;
    expect(admitted).toMatchObject({ probe: true });
  });

  it('never affects another endpoint', async () => {
    const b = breaker();
    await strikeClusters(b, ['a', 'b', 'c']);
    expect(b.isOpen(DEAD)).toBe(true);
    expect((await b.admit(OTHER, call('x'))).probe).toBe(false);
    expect(await b.clusterTurn(OTHER, never)).toBeNull();
  });

  it('a shutdown ends a held wait', async () => {
    const b = breaker();
    await strikeClusters(b, ['a', 'b', 'c']);
    const controller = new AbortController();
    const held = b.admit(DEAD, call('d'), controller.signal).catch((error: unknown) => error);
    const cluster = b.clusterTurn(DEAD, controller.signal);
    controller.abort('SIGTERM');
    expect(await held).toBe('SIGTERM');
    expect(await cluster).toBeNull();
  });
});
