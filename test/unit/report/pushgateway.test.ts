/** PUSHGATEWAY_URL and PUSHGATEWAY_JOB: checked at start, and never leaking the URL's password. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/errors.js';
import { exitCodeForError } from '../../../src/core/exit-codes.js';
import { pushTargetFromEnv, pushUrl } from '../../../src/report/push-target.js';

describe('pushTargetFromEnv', () => {
  it('reads PUSHGATEWAY_URL and PUSHGATEWAY_JOB and groups by shard', () => {
    expect(pushTargetFromEnv({}, 0)).toBeNull();
    expect(pushTargetFromEnv({ PUSHGATEWAY_URL: '  ' }, 0)).toBeNull();
    const target = pushTargetFromEnv({ PUSHGATEWAY_URL: 'http://pushgateway:9091/' }, 2);
    expect(target).toEqual({ url: 'http://pushgateway:9091/', job: 'dws_task_exporter', shardIndex: 2 });
    expect(pushUrl(target!)).toBe('http://pushgateway:9091/metrics/job/dws_task_exporter/shard/2');
    expect(pushTargetFromEnv({ PUSHGATEWAY_URL: 'https://pg:9091', PUSHGATEWAY_JOB: ' nightly ' }, 0)?.job).toBe('nightly');
  });

  it('never puts user:password in the push URL it logs', () => {
    expect(pushUrl({ url: 'https://u:p%40ss@pg.example:9091', job: 'nightly dws', shardIndex: 0 })).toBe(
      'https://pg.example:9091/metrics/job/nightly%20dws/shard/0',
    );
  });

  it.each([
    ['ftp://x', 'PUSHGATEWAY_URL'],
    ['pushgateway:9091', 'PUSHGATEWAY_URL'],
    ['not a url', 'PUSHGATEWAY_URL'],
    ['http://pg:9091/?x=1', 'PUSHGATEWAY_URL'],
  ])('refuses PUSHGATEWAY_URL=%s as a config error (exit 2) naming the variable', (url, variable) => {
    let error: unknown;
    try {
      pushTargetFromEnv({ PUSHGATEWAY_URL: url }, 0);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(new RegExp(`^${variable}: `));
    expect(exitCodeForError(error)).toBe(2);
  });

  it('refuses a user:password that is not valid percent-encoding (a literal "%") at start, without echoing it', () => {
    let error: unknown;
    try {
      pushTargetFromEnv({ PUSHGATEWAY_URL: 'http://ops:50%off@pg.example:9091' }, 0);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/^PUSHGATEWAY_URL: .*%25/);
    expect((error as Error).message).not.toContain('50%off');
    expect(exitCodeForError(error)).toBe(2);
    // Percent-encoded, the same password is fine.
    expect(pushTargetFromEnv({ PUSHGATEWAY_URL: 'http://ops:50%25off@pg.example:9091' }, 0)).not.toBeNull();
  });

  it('pushUrl cannot throw, even for a user:password that does not decode', () => {
    expect(pushUrl({ url: 'http://ops:50%off@pg.example:9091', job: 'j', shardIndex: 1 })).toBe('http://pg.example:9091/metrics/job/j/shard/1');
  });

  it('refuses a PUSHGATEWAY_JOB with a "/" (it would split the grouping key)', () => {
    expect(() => pushTargetFromEnv({ PUSHGATEWAY_URL: 'http://pg:9091', PUSHGATEWAY_JOB: 'a/b' }, 0)).toThrow(/^PUSHGATEWAY_JOB: /);
  });
});
