/**
 * parseTasksPage: a 200 body becomes tasks + count, or a problem that says
 * what is wrong. The envelope is strict; tasks only need to be objects; a
 * count that cannot be read is treated as absent, never as a reason to lose
 * a page.
 */
import { describe, expect, it } from 'vitest';
import { parseTasksPage, type PageParseResult } from '../../../src/source/task-page.js';

const TASK = {
  type: 'Create',
  logical_cluster_name: 'lc_a',
  start_time: '2023-06-15 08:00:00',
  end_time: '2023-06-15 08:05:00',
  result: 'success',
  log: 'ok',
};

function page(body: unknown): PageParseResult {
  return parseTasksPage(JSON.stringify(body));
}

function problem(result: PageParseResult): string {
  if (result.ok) throw new Error(`expected a problem, got ${result.tasks.length} tasks`);
  return result.problem;
}

describe('valid pages', () => {
  it('returns the tasks, in order and unchanged, and the count', () => {
    const second = { ...TASK, type: 'Expand', end_time: '' };
    expect(page({ logical_cluster_tasks: [TASK, second], count: 42 })).toEqual({ ok: true, tasks: [TASK, second], count: 42 });
  });

  it('accepts an empty page', () => {
    expect(page({ logical_cluster_tasks: [], count: 0 })).toEqual({ ok: true, tasks: [], count: 0 });
  });

  it('reads a count sent as a numeric string (also padded)', () => {
    expect(page({ logical_cluster_tasks: [], count: '17' })).toMatchObject({ ok: true, count: 17 });
    expect(page({ logical_cluster_tasks: [], count: ' 17 ' })).toMatchObject({ ok: true, count: 17 });
  });

  it('gives count null when it is missing or null (then paging runs until an empty page)', () => {
    expect(page({ logical_cluster_tasks: [TASK] })).toEqual({ ok: true, tasks: [TASK], count: null });
    expect(page({ logical_cluster_tasks: [TASK], count: null })).toEqual({ ok: true, tasks: [TASK], count: null });
  });

  it('gives count null, and keeps the tasks, when the count is unreadable', () => {
    for (const count of [-1, 1.5, 'many', '1e3', '', '12abc', true, {}, [3], Number.MAX_SAFE_INTEGER + 2, '1234567890123456']) {
      expect(page({ logical_cluster_tasks: [TASK], count }), JSON.stringify(count)).toEqual({
        ok: true,
        tasks: [TASK],
        count: null,
      });
    }
  });

  it('tolerates extra envelope fields (request_id, add_enable, …)', () => {
    expect(page({ logical_cluster_tasks: [TASK], count: 1, request_id: 'r-1', add_enable: true, next: null })).toEqual({
      ok: true,
      tasks: [TASK],
      count: 1,
    });
  });

  it('only requires tasks to be objects: odd or missing fields are left to the transform', () => {
    const odd = [{}, { type: 5, start_time: null }, { unknown: { nested: [1] } }];
    expect(page({ logical_cluster_tasks: odd, count: 3 })).toEqual({ ok: true, tasks: odd, count: 3 });
  });

  it('keeps non-ASCII text, escaped newlines and a NUL in the log as parsed', () => {
    const body = '{"logical_cluster_tasks":[{"log":"第一行\\n\\"q\\"\\u0000end"}],"count":1}';
    const result = parseTasksPage(body);
    expect(result).toEqual({ ok: true, tasks: [{ log: '第一行\n"q"\u0000end' }], count: 1 });
  });
});

describe('bodies that are not a tasks page', () => {
  it('an HTML body (a gateway error page) is "not JSON", quoting its start with whitespace collapsed', () => {
    const message = problem(parseTasksPage('<html>\n  <body>502   Bad Gateway</body>\n</html>'));
    expect(message).toBe('body is not JSON (starts with "<html> <body>502 Bad Gateway</body> </html>")');
  });

  it('quotes at most the first 80 characters of a long non-JSON body', () => {
    const message = problem(parseTasksPage(`<html>${'x'.repeat(500)}`));
    expect(message).toContain(`<html>${'x'.repeat(74)}"`);
    expect(message).not.toContain('x'.repeat(75));
  });

  it('truncated JSON is "not JSON"', () => {
    expect(problem(parseTasksPage('{"logical_cluster_tasks":[{"type":"Cre'))).toMatch(/^body is not JSON/);
  });

  it('an empty body is "not JSON"', () => {
    expect(problem(parseTasksPage(''))).toMatch(/^body is not JSON/);
  });

  it('a missing logical_cluster_tasks is named', () => {
    expect(problem(page({ count: 0 }))).toBe('logical_cluster_tasks: missing "logical_cluster_tasks"');
  });

  it('an error envelope on a 200 (error_code/error_msg) is refused as a missing logical_cluster_tasks', () => {
    expect(problem(page({ error_code: 'DWS.0001', error_msg: 'internal' }))).toContain('missing "logical_cluster_tasks"');
  });

  it('logical_cluster_tasks that is not an array is named', () => {
    for (const value of [null, {}, 'tasks', 3]) {
      expect(problem(page({ logical_cluster_tasks: value, count: 0 })), JSON.stringify(value)).toBe(
        'logical_cluster_tasks: "logical_cluster_tasks" is not an array of objects',
      );
    }
  });

  it('a task that is not an object is refused, naming its index', () => {
    for (const bad of [1, 'task', null, [TASK], true]) {
      const message = problem(page({ logical_cluster_tasks: [TASK, bad], count: 2 }));
      expect(message, JSON.stringify(bad)).toBe('logical_cluster_tasks.1: not an object');
    }
  });

  it('a JSON value that is not an object (array, null, string, number) is refused', () => {
    for (const body of ['[]', '[{"type":"Create"}]', 'null', '"tasks"', '42']) {
      expect(parseTasksPage(body).ok, body).toBe(false);
    }
  });
});
