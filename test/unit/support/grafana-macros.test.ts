/**
 * The expansion the dashboard test relies on (test/support/grafana-macros.ts),
 * on the cases of Grafana's own tests, and its refusal of what it does not
 * expand.
 */
import { describe, expect, it } from 'vitest';
import { grafanaSql, type VariableState } from '../../support/grafana-macros.js';

describe('grafanaSql', () => {
  // pkg/tsdb/grafana-postgresql-datasource/macros_test.go: 2018-04-12 18:00 to 18:05 UTC.
  const range = { from: new Date('2018-04-12T18:00:00Z'), to: new Date('2018-04-12T18:05:00Z') };
  const none = new Map<string, VariableState>();

  it('expands the backend macros as macros.go does', () => {
    expect(grafanaSql('select $__time(time_column)', none, range)).toBe('select time_column AS "time"');
    expect(grafanaSql('WHERE $__timeFilter(time_column)', none, range)).toBe("WHERE time_column BETWEEN '2018-04-12T18:00:00Z' AND '2018-04-12T18:05:00Z'");
    expect(grafanaSql('select $__timeFrom(), $__timeTo()', none, range)).toBe("select '2018-04-12T18:00:00Z', '2018-04-12T18:05:00Z'");
    expect(grafanaSql("SELECT $__timeGroup(time_column,'5m'), value", none, range)).toBe('SELECT floor(extract(epoch from time_column)/300)*300 AS "time", value');
    expect(grafanaSql("SELECT $__timeGroup(time_column,'5m') as time, value", none, range)).toBe('SELECT floor(extract(epoch from time_column)/300)*300 as time, value');
    expect(grafanaSql("$__timeGroupAlias(time_column , '5m')", none, range)).toBe('floor(extract(epoch from time_column)/300)*300 AS "time"');
    expect(grafanaSql('select $__unixEpochFilter(time)', none, range)).toBe('select time >= 1523556000 AND time <= 1523556300');
    const fractions = { from: new Date('1960-02-01T07:00:00.500Z'), to: new Date('1980-02-03T08:00:00.500Z') };
    expect(grafanaSql('WHERE $__timeFilter(t)', none, fractions)).toBe("WHERE t BETWEEN '1960-02-01T07:00:00.5Z' AND '1980-02-03T08:00:00.5Z'");
    // Go prints a float64 interval with %v: exponent form from 1e6 on.
    expect(grafanaSql("$__timeGroup(t, '30d')", none, range)).toBe('floor(extract(epoch from t)/2.592e+06)*2.592e+06');
  });

  it('formats variables as the SQL datasource does (variable-interpolation.test.ts), and sqlstring as the format registry does', () => {
    const variable = (value: string | string[], multi = true): Map<string, VariableState> =>
      new Map([['v', { name: 'v', multi, includeAll: multi, value }]]);
    expect(grafanaSql('IN ($v)', variable(["O'Brien", 'Smith']), range)).toBe("IN ('O''Brien','Smith')");
    expect(grafanaSql('= $v', variable("O'Brien"), range)).toBe("= 'O''Brien'");
    expect(grafanaSql("= '$v'", variable("O'Brien", false), range)).toBe("= 'O''Brien'");
    expect(grafanaSql('ARRAY[${v:sqlstring}]', variable(['a', "b'c"]), range)).toBe("ARRAY['a','b''c']");
    expect(grafanaSql('ARRAY[[[v:sqlstring]]]', variable([]), range)).toBe('ARRAY[]');
  });

  it('refuses what it does not expand, so no panel escapes the check', () => {
    expect(() => grafanaSql('$__interval', none, range)).toThrow(/interval/);
    expect(() => grafanaSql('$__timeGroupAlias(t, $__interval)', none, range)).toThrow(/interval/);
    expect(() => grafanaSql("$__timeGroup(t, '1M')", none, range)).toThrow(/interval/);
    expect(() => grafanaSql("$__timeGroup(t, '1h', 0)", none, range)).toThrow(/fill/);
    expect(() => grafanaSql('$__unixEpochNanoFilter(t)', none, range)).toThrow(/unknown macro/);
    expect(() => grafanaSql('$nosuch', none, range)).toThrow(/no dashboard variable/);
    expect(() => grafanaSql('${__from}', none, range)).toThrow(/left unexpanded/);
    expect(() => grafanaSql('${v:csv}', new Map([['v', { name: 'v', multi: true, includeAll: true, value: ['a'] }]]), range)).toThrow(/format "csv"/);
  });
});
