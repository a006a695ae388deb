/**
 * The auth breaker: a refused credential costs a couple of requests, never
 * one per cluster, and never enough consecutive failures to lock the access
 * key (more than 5). Pure state machine: no HTTP involved.
 */
import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { AuthBreakerOpenError, type ApiCallContext } from '../../../../src/core/errors.js';
import { AuthBreaker, REFUSALS_BEFORE_STOP, type AuthPermit } from '../../../../src/source/auth/auth-breaker.js';
import { akskAdvice, type CredentialLease } from '../../../../src/source/auth/credential-provider.js';

function lease(key = 'k1'): CredentialLease {
  return {
    credential: { kind: 'aksk', accessKey: 'AKAKAKAKAKAKAK', secretKey: 'secret', securityToken: undefined },
    key,
    label: 'AK/SK (access key AKAK…)',
    advice: akskAdvice('HUAWEICLOUD_SDK_AK / HUAWEICLOUD_SDK_SK'),
  };
}

function call(clusterId: string): ApiCallContext {
  return { projectId: 'p1', clusterId, path: `/v2/p1/clusters/${clusterId}/logical-clusters/tasks` };
}

function refused(clusterId: string, status = 401) {
  return {
    kind: 'refused' as const,
    refusal: {
      call: call(clusterId),
      details: { status, errorCode: 'APIG.0301', errorMsg: 'Incorrect IAM authentication information: signature mismatch', requestId: `r-${clusterId}` },
    },
  };
}

/** Starts an acquire and reports whether it has settled, without any timer. */
function pending(promise: Promise<AuthPermit>) {
  const state: { done: boolean; permit?: AuthPermit; error?: unknown } = { done: false };
  promise.then(
    (permit) => Object.assign(state, { done: true, permit }),
    (error: unknown) => Object.assign(state, { done: true, error }),
  );
  return state;
}

describe('AuthBreaker', () => {
  it('lets one request of an unproven credential through at a time, then all once it is accepted', async () => {
    const breaker = new AuthBreaker();
    const probe = await breaker.acquire(lease(), call('c1'));
    expect(probe.probe).toBe(true);
    const second = pending(breaker.acquire(lease(), call('c2')));
    const third = pending(breaker.acquire(lease(), call('c3')));
    await tick();
    expect([second.done, third.done]).toEqual([false, false]);
    breaker.settle(probe, { kind: 'accepted' });
    await tick();
    expect([second.permit?.probe, third.permit?.probe]).toEqual([false, false]);
  });

  it(`opens after ${REFUSALS_BEFORE_STOP} refusals: every waiting and later request fails without being sent`, async () => {
    const breaker = new AuthBreaker();
    const requests = Array.from({ length: 200 }, (_, i) => ({ id: `c${i}`, state: pending(breaker.acquire(lease(), call(`c${i}`))) }));
    const sent: string[] = [];
    for (let round = 0; round < REFUSALS_BEFORE_STOP; round++) {
      await tick();
      const granted = requests.filter((r) => r.state.permit !== undefined && !sent.includes(r.id));
      expect(granted).toHaveLength(1); // one probe at a time
      const [probe] = granted;
      if (!probe?.state.permit) throw new Error('no probe');
      sent.push(probe.id);
      breaker.settle(probe.state.permit, refused(probe.id));
    }
    await tick();
    expect(breaker.isOpen('k1')).toBe(true);
    const skipped = requests.filter((r) => r.state.error !== undefined).map((r) => r.state);
    expect(sent).toEqual(['c0', 'c1']);
    expect(skipped).toHaveLength(198);
    const error = skipped[0]?.error as AuthBreakerOpenError;
    expect(error).toBeInstanceOf(AuthBreakerOpenError);
    expect(error.code).toBe('DWS_AUTH_FAILED');
    expect(error.details).toMatchObject({ status: 401, errorCode: 'APIG.0301', requestId: null });
    expect(error.message).toMatch(
      /^not sent: the API already refused AK\/SK \(access key AKAK…\) for cluster c0 \(project p1\) and cluster c1 \(project p1\) \(401 APIG\.0301: .*\); the run stops using it so the account is not locked\. Check that the access key .*HUAWEICLOUD_SDK_AK.*clock.*locks an access key for 5 minutes/,
    );
    await expect(breaker.acquire(lease(), call('later'))).rejects.toBeInstanceOf(AuthBreakerOpenError);
  });

  it('treats a rotated credential (new lease key) as a fresh start', async () => {
    const breaker = new AuthBreaker();
    for (const id of ['a', 'b']) breaker.settle(await breaker.acquire(lease('old'), call(id)), refused(id));
    await expect(breaker.acquire(lease('old'), call('c'))).rejects.toBeInstanceOf(AuthBreakerOpenError);
    await expect(breaker.acquire(lease('new'), call('c'))).resolves.toMatchObject({ probe: true });
  });

  it('puts an accepted credential back on probation after a 401, and clears it with the next success', async () => {
    const breaker = new AuthBreaker();
    breaker.settle(await breaker.acquire(lease(), call('a')), { kind: 'accepted' });
    const inFlight = await breaker.acquire(lease(), call('b'));
    expect(inFlight.probe).toBe(false);
    breaker.settle(inFlight, refused('b'));
    const probe = await breaker.acquire(lease(), call('c'));
    expect(probe.probe).toBe(true);
    const waiter = pending(breaker.acquire(lease(), call('d')));
    await tick();
    expect(waiter.done).toBe(false);
    breaker.settle(probe, { kind: 'accepted' });
    await tick();
    expect(waiter.permit?.probe).toBe(false);
    // One refusal, then a success: the count starts over.
    breaker.settle(await breaker.acquire(lease(), call('e')), refused('e'));
    breaker.settle(await breaker.acquire(lease(), call('f')), { kind: 'accepted' });
    breaker.settle(await breaker.acquire(lease(), call('g')), refused('g'));
    expect(breaker.isOpen('k1')).toBe(false);
  });

  it('does not count a 403 on a credential that has worked (a per-cluster permission)', async () => {
    const breaker = new AuthBreaker();
    breaker.settle(await breaker.acquire(lease(), call('a')), { kind: 'accepted' });
    for (const id of ['b', 'c', 'd']) breaker.settle(await breaker.acquire(lease(), call(id)), refused(id, 403));
    expect(breaker.isOpen('k1')).toBe(false);
  });

  it('counts 403s on a credential that never worked (no permission at all)', async () => {
    const breaker = new AuthBreaker();
    for (const id of ['a', 'b']) breaker.settle(await breaker.acquire(lease(), call(id)), refused(id, 403));
    expect(breaker.isOpen('k1')).toBe(true);
  });

  it('hands the probe to the next request when the answer says nothing about the credential', async () => {
    const breaker = new AuthBreaker();
    const probe = await breaker.acquire(lease(), call('a'));
    const next = pending(breaker.acquire(lease(), call('b')));
    breaker.settle(probe, { kind: 'unknown' });
    await tick();
    expect(next.permit?.probe).toBe(true);
  });

  it('a probe whose attempt got no answer (a dead endpoint) hands the probe to a request for another endpoint; those for its own endpoint keep waiting', async () => {
    const breaker = new AuthBreaker();
    const probe = await breaker.acquire(lease(), call('a'), undefined, 'https://dead.example');
    const sameEndpoint = pending(breaker.acquire(lease(), call('b'), undefined, 'https://dead.example'));
    const otherEndpoint = pending(breaker.acquire(lease(), call('c'), undefined, 'https://alive.example'));
    await tick();
    expect([sameEndpoint.done, otherEndpoint.done]).toEqual([false, false]);
    breaker.unanswered(probe);
    await tick();
    expect(otherEndpoint.permit?.probe).toBe(true);
    expect(sameEndpoint.done).toBe(false);
    // The new probe's success proves the credential: everyone goes.
    if (!otherEndpoint.permit) throw new Error('no probe');
    breaker.settle(otherEndpoint.permit, { kind: 'accepted' });
    await tick();
    expect(sameEndpoint.permit?.probe).toBe(false);
    breaker.settle(probe, { kind: 'unknown' });
  });

  it('a probe that got no answer and then a 401 still counts as a refusal; unproven requests never outnumber the endpoints', async () => {
    const breaker = new AuthBreaker();
    const first = await breaker.acquire(lease(), call('a'), undefined, 'https://one.example');
    breaker.unanswered(first);
    const second = await breaker.acquire(lease(), call('b'), undefined, 'https://two.example');
    breaker.unanswered(second);
    // A request for an endpoint whose probe is still out unanswered waits for it.
    const third = pending(breaker.acquire(lease(), call('c'), undefined, 'https://one.example'));
    await tick();
    expect(third.done).toBe(false);
    breaker.settle(first, refused('a'));
    await tick();
    expect(third.permit?.probe).toBe(true);
    breaker.settle(second, refused('b'));
    expect(breaker.isOpen('k1')).toBe(true);
  });

  it('stops waiting when the run is aborted', async () => {
    const breaker = new AuthBreaker();
    await breaker.acquire(lease(), call('a'));
    const controller = new AbortController();
    const waiting = breaker.acquire(lease(), call('b'), controller.signal);
    controller.abort(new Error('SIGTERM'));
    await expect(waiting).rejects.toThrow('SIGTERM');
  });
});
