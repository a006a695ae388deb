/**
 * What Grafana does to a PostgreSQL panel's rawSql before the database sees
 * it, for a fixed time range, so tests can run the real text. Two steps, as in
 * Grafana: the frontend replaces template variables, then the backend plugin
 * replaces macros. Anything outside the subset below throws, so a new panel
 * cannot slip past the test by using a macro or format nobody expands.
 */

/**
 * A dashboard variable's state when a query is interpolated. `value` is what
 * Grafana passes to the formatter: the selected value, or for "All" (without
 * a custom allValue) the array of every option's value.
 */
export interface VariableState {
  readonly name: string;
  readonly multi: boolean;
  readonly includeAll: boolean;
  readonly value: string | readonly string[];
}

export interface TimeRange {
  readonly from: Date;
  readonly to: Date;
}

/**
 * Frontend: templateSrv.replace(rawSql, scopedVars, interpolateVariable), as in
 * public/app/features/templating/template_srv.ts and
 * packages/grafana-sql/src/datasource/SqlDatasource.ts. Supported:
 * - `$name`, `${name}`, `[[name]]` of a dashboard variable, formatted by the SQL
 *   datasource's interpolateVariable: a multi/includeAll variable's values
 *   quoted ('a','b'), a single-value variable's value with ' doubled, unquoted;
 * - `${name:sqlstring}` (and `[[name:sqlstring]]`): every value quoted, ' doubled
 *   and " backslashed (Grafana's sqlStringFormatter), joined with commas.
 * A `$__name` that is not a variable is left for the backend, like Grafana does;
 * any other unknown `$name` or format throws.
 */
const VARIABLE = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\${(\w+)(?:\.([^:^}]+))?(?::([^}]+))?}/g;

const quoteLiteral = (value: string): string => `'${value.replace(/'/g, "''")}'`;
const sqlString = (value: string): string => `'${value.replace(/['"]/g, (c) => (c === "'" ? "''" : '\\"'))}'`;

/** SqlDatasource.interpolateVariable: the format Grafana uses when the query names none. */
function interpolateVariable(variable: VariableState): string {
  const { value } = variable;
  if (typeof value === 'string') return variable.multi || variable.includeAll ? quoteLiteral(value) : value.replace(/'/g, "''");
  return value.map(quoteLiteral).join(',');
}

export function interpolateVariables(sql: string, variables: ReadonlyMap<string, VariableState>): string {
  return sql.replace(VARIABLE, (match, plain?: string, bracket?: string, bracketFormat?: string, braced?: string, fieldPath?: string, bracedFormat?: string) => {
    const name = plain ?? bracket ?? braced ?? '';
    const format = bracketFormat ?? bracedFormat;
    const variable = variables.get(name);
    if (!variable) {
      if (name.startsWith('__') && format === undefined && fieldPath === undefined) return match; // a backend macro
      throw new Error(`${match}: no dashboard variable "${name}" (and not a macro this test expands)`);
    }
    if (fieldPath !== undefined) throw new Error(`${match}: field paths are not expanded by this test`);
    if (format === undefined) return interpolateVariable(variable);
    if (format === 'sqlstring') return typeof variable.value === 'string' ? sqlString(variable.value) : variable.value.map(sqlString).join(',');
    throw new Error(`${match}: format "${format}" is not expanded by this test`);
  });
}

/** Go's time.RFC3339Nano in UTC: no fraction when it is zero, trailing zeros trimmed. */
export function rfc3339Nano(date: Date): string {
  return date.toISOString().replace(/\.(\d*?)0*Z$/, (_, digits: string) => (digits ? `.${digits}Z` : 'Z'));
}

/** Go's %v for a float64 (%g, shortest digits): exponent form below 1e-4 and from 1e6 on, e.g. 2.592e+06. */
function goFloat(value: number): string {
  const exponent = value === 0 ? 0 : Math.floor(Math.log10(Math.abs(value)));
  if (exponent < -4 || exponent >= 6) {
    return value.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  }
  return String(value);
}

const UNIT_SECONDS: Readonly<Record<string, number>> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** gtime.ParseInterval for fixed-length units; months and years (calendar-dependent) throw. */
function intervalSeconds(text: string): number {
  const match = /^(\d+)(ms|s|m|h|d|w)$/.exec(text.replace(/^'|'$/g, ''));
  if (!match) throw new Error(`interval ${text}: only <n>ms|s|m|h|d|w is expanded by this test`);
  return Number(match[1]) * (UNIT_SECONDS[match[2] as string] as number);
}

/**
 * Backend, in Grafana's order: sqleng.Interpolate (pkg/tsdb/grafana-postgresql-datasource/sqleng/sql_engine.go:
 * `$__unixEpochFrom()`, `$__unixEpochTo()`; `$__interval` throws, it depends on the panel's width), then
 * the PostgreSQL macro engine (macros.go, without TimescaleDB): `$__time`, `$__timeEpoch`,
 * `$__timeFilter`, `$__timeFrom`, `$__timeTo`, `$__timeGroup` (no fill argument), `$__timeGroupAlias`,
 * `$__unixEpochFilter`. Any other `$__name(...)` throws, as Grafana's "unknown macro" does.
 */
export function expandMacros(sql: string, range: TimeRange): string {
  if (sql.includes('$__interval')) throw new Error('$__interval depends on the panel width: use a fixed interval');
  const fromSeconds = Math.floor(range.from.getTime() / 1000);
  const toSeconds = Math.floor(range.to.getTime() / 1000);
  let text = sql.replaceAll('$__unixEpochFrom()', String(fromSeconds)).replaceAll('$__unixEpochTo()', String(toSeconds));
  const from = rfc3339Nano(range.from);
  const to = rfc3339Nano(range.to);
  const original = text;
  text = text.replace(/\$([_a-zA-Z0-9]+)\(([^)]*)\)/g, (match, macro: string, argText: string) => {
    const args = argText.split(',').map((a) => a.trim());
    const column = (): string => {
      if (!args[0]) throw new Error(`${match}: missing time column argument`);
      return args[0];
    };
    const timeGroup = (): string => {
      if (args.length < 2) throw new Error(`${match}: needs a time column and an interval`);
      if (args.length > 2) throw new Error(`${match}: fill values are not expanded by this test`);
      const seconds = goFloat(intervalSeconds(args[1] as string));
      return `floor(extract(epoch from ${column()})/${seconds})*${seconds}`;
    };
    switch (macro) {
      case '__time':
        return `${column()} AS "time"`;
      case '__timeEpoch':
        return `extract(epoch from ${column()}) as "time"`;
      case '__timeFilter':
        return `${column()} BETWEEN '${from}' AND '${to}'`;
      case '__timeFrom':
        return `'${from}'`;
      case '__timeTo':
        return `'${to}'`;
      case '__timeGroup':
        // Grafana's pre-5.3 compatibility: a ',' right after the call means the alias form.
        return original[original.indexOf(match) + match.length] === ',' ? `${timeGroup()} AS "time"` : timeGroup();
      case '__timeGroupAlias':
        return `${timeGroup()} AS "time"`;
      case '__unixEpochFilter':
        return `${column()} >= ${fromSeconds} AND ${column()} <= ${toSeconds}`;
      default:
        throw new Error(`${match}: unknown macro "${macro}" (or one this test does not expand)`);
    }
  });
  return text;
}

/** Both steps; throws if anything that looks like a variable or macro is left. */
export function grafanaSql(rawSql: string, variables: ReadonlyMap<string, VariableState>, range: TimeRange): string {
  const sql = expandMacros(interpolateVariables(rawSql, variables), range);
  const left = /\$\w|\$\{|\[\[\w/.exec(sql);
  if (left) throw new Error(`left unexpanded at "${sql.slice(left.index, left.index + 30)}" in:\n${sql}`);
  return sql;
}
