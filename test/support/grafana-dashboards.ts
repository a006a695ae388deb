/**
 * Grafana's side of the provisioned dashboards (docker/grafana), for tests:
 * the dashboard model, its variables resolved the way a dashboard resolves
 * them, and each panel's query expanded (./grafana-macros.ts) and run.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { expect } from 'vitest';
import { parse } from 'yaml';
import { grafanaSql, type TimeRange, type VariableState } from './grafana-macros.js';

export const GRAFANA_DIR = fileURLToPath(new URL('../../docker/grafana/', import.meta.url));

export interface DatasourceRef {
  readonly type: string;
  readonly uid: string;
}

export interface Target {
  readonly refId: string;
  readonly datasource: DatasourceRef;
  readonly rawSql?: string;
  readonly format?: string;
}

export interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly datasource?: DatasourceRef;
  readonly targets?: readonly Target[];
  readonly panels?: readonly Panel[];
  readonly fieldConfig?: { readonly overrides?: readonly { readonly matcher: { readonly id: string; readonly options: unknown } }[] };
  readonly transformations?: readonly { readonly id: string; readonly options: Record<string, unknown> }[];
  readonly options?: { readonly reduceOptions?: { readonly fields?: string } };
}

export interface Variable {
  readonly name: string;
  readonly type: string;
  readonly datasource?: DatasourceRef;
  readonly query?: string;
  readonly multi?: boolean;
  readonly includeAll?: boolean;
  readonly allValue?: string | null;
  readonly regex?: string;
  readonly sort?: number;
}

export interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly schemaVersion: number;
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: readonly Variable[] };
}

/** Every panel, rows' nested panels included. */
export function allPanels(dashboard: Dashboard): Panel[] {
  return dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** Every `datasource` object anywhere in the JSON. */
export function datasourceRefs(node: unknown, path = '$'): { path: string; ref: unknown }[] {
  if (Array.isArray(node)) return node.flatMap((child, i) => datasourceRefs(child, `${path}[${i}]`));
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) =>
    key === 'datasource' ? [{ path: `${path}.${key}`, ref: value }] : datasourceRefs(value, `${path}.${key}`),
  );
}

/** The provisioned datasource (provisioning/datasources/dws-warehouse.yaml). */
export async function provisionedDatasource(): Promise<DatasourceRef> {
  const file = parse(await readFile(join(GRAFANA_DIR, 'provisioning/datasources/dws-warehouse.yaml'), 'utf8')) as { datasources: DatasourceRef[] };
  const [datasource, ...others] = file.datasources;
  if (!datasource || others.length > 0) throw new Error('dws-warehouse.yaml must provision exactly one datasource');
  return datasource;
}

/** Every dashboard JSON the provider loads (docker/grafana/dashboards). */
export async function provisionedDashboards(): Promise<Dashboard[]> {
  const dir = join(GRAFANA_DIR, 'dashboards');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(files.map(async (f) => JSON.parse(await readFile(join(dir, f), 'utf8')) as Dashboard));
}

export const panelKey = (dashboard: Dashboard, panel: Panel): string => `${dashboard.uid}/${panel.title}`;

export interface Option {
  readonly text: string;
  readonly value: string;
}

/**
 * A SQL variable query's options: the __text and __value columns, else the
 * first column for both (packages/grafana-sql SQLVariableSupport). Grafana
 * then drops options with a text (older ResponseParser) or a value (scenes)
 * seen before, so a variable must return both unique: checked here.
 */
function metricFindValues(name: string, result: pg.QueryResult): Option[] {
  const [first] = result.fields.map((f) => f.name);
  const pick = (row: Record<string, unknown>, column: string): string => String(row[column]);
  const paired = result.fields.some((f) => f.name === '__text') && result.fields.some((f) => f.name === '__value');
  const options = result.rows.map((row: Record<string, unknown>) =>
    paired ? { text: pick(row, '__text'), value: pick(row, '__value') } : { text: pick(row, first ?? ''), value: pick(row, first ?? '') },
  );
  expect(new Set(options.map((o) => o.text)).size, `${name}: duplicate option texts`).toBe(options.length);
  expect(new Set(options.map((o) => o.value)).size, `${name}: duplicate option values`).toBe(options.length);
  return options;
}

/** Per variable: its values, or undefined for "All" (every option). */
export type Selection = Readonly<Record<string, readonly string[] | undefined>>;

/** The dashboard's variables in list order, as Grafana resolves them, with `selection` chosen (default: All). */
export async function resolveVariables(
  client: pg.ClientBase,
  dashboard: Dashboard,
  range: TimeRange,
  selection: Selection = {},
): Promise<{ readonly variables: Map<string, VariableState>; readonly options: Map<string, Option[]> }> {
  const variables = new Map<string, VariableState>();
  const options = new Map<string, Option[]>();
  for (const v of dashboard.templating.list) {
    // What this test emulates of a query variable; anything else would be expanded wrongly.
    expect(v.type, v.name).toBe('query');
    expect([v.multi, v.includeAll], v.name).toEqual([true, true]);
    expect(v.allValue ?? '', `${v.name}: a custom allValue is passed unformatted; not emulated`).toBe('');
    expect([v.regex ?? '', v.sort ?? 0], `${v.name}: regex and sort are not emulated`).toEqual(['', 0]);
    // Variables resolve in list order: a query may only use the ones above it.
    const found = metricFindValues(v.name, await client.query(grafanaSql(v.query ?? '', variables, range)));
    options.set(v.name, found);
    const chosen = selection[v.name];
    variables.set(v.name, { name: v.name, multi: true, includeAll: true, value: chosen ?? found.map((o) => o.value) });
  }
  return { variables, options };
}

export interface PanelResult {
  readonly panel: Panel;
  readonly target: Target;
  readonly sql: string;
  readonly result: pg.QueryResult<Record<string, unknown>>;
}

/** Every panel's query, expanded and run on `client`, by panel title; a query that fails throws with its SQL. */
export async function runPanels(client: pg.ClientBase, dashboard: Dashboard, range: TimeRange, selection: Selection = {}): Promise<Map<string, PanelResult>> {
  const { variables } = await resolveVariables(client, dashboard, range, selection);
  const results = new Map<string, PanelResult>();
  for (const panel of allPanels(dashboard).filter((p) => p.type !== 'row')) {
    const [target] = panel.targets ?? [];
    if (!target?.rawSql) throw new Error(`${panelKey(dashboard, panel)}: no query`);
    const sql = grafanaSql(target.rawSql, variables, range);
    try {
      results.set(panel.title, { panel, target, sql, result: await client.query<Record<string, unknown>>(sql) });
    } catch (error) {
      throw new Error(`${panelKey(dashboard, panel)}: ${(error as Error).message}\n${sql}`);
    }
  }
  return results;
}
