/**
 * The user docs (README.md, docs/*.md) against the code, mechanically: every
 * config key with its default, environment variable, error code, exit code,
 * command and flag, and every column of schema dws (from a migrated
 * database) is documented where a reader looks for it; every link resolves.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.js';
import { ExitCode, exitCodeForCode, outcomeOf } from '../../../src/core/exit-codes.js';
import { commandsFromHelp, configKeys, environmentVariables, errorCodes } from '../../support/code-facts.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import {
  REPO_ROOT,
  cellCodes,
  codeSpans,
  headings,
  readRepoFile,
  relativeLinks,
  sections,
  tables,
  type Section,
  type Table,
} from '../../support/markdown.js';

const DOC_PAGES = existsSync(join(REPO_ROOT, 'docs'))
  ? readdirSync(join(REPO_ROOT, 'docs'))
      .filter((name) => name.endsWith('.md'))
      .map((name) => `docs/${name}`)
  : [];

/** The section whose heading names `name` in a code span (`dws.clusters`, `run`). */
function sectionNaming(page: string, matches: (code: string) => boolean): Section | undefined {
  return sections(readRepoFile(page)).find((s) => cellCodes(s.heading.text).some(matches));
}

function columnIndex(table: Table, name: string): number {
  return table.header.findIndex((cell) => cell.toLowerCase() === name);
}

/** Rows (of any table in `markdown`) whose first cell holds `code` as a code span. */
function rowsFor(markdown: string, code: string): { readonly table: Table; readonly row: readonly string[] }[] {
  return tables(markdown).flatMap((table) =>
    table.rows.filter((row) => cellCodes(row[0] ?? '').includes(code)).map((row) => ({ table, row })),
  );
}

describe('docs/configuration.md documents the config file and the environment as the code reads them', () => {
  it('every config key of the zod schema, nested keys too, has a row; its default column shows the schema default', () => {
    const page = readRepoFile('docs/configuration.md');
    const documented = new Set(codeSpans(page));
    const keys = configKeys(configSchema);
    expect(keys.length, 'the walk of configSchema found no keys').toBeGreaterThan(0);
    const problems = keys.flatMap((key) => {
      if (!key.valued) {
        return documented.has(key.path) ? [] : [`config key \`${key.path}\` is not mentioned: name it in docs/configuration.md`];
      }
      const rows = rowsFor(page, key.path);
      if (rows.length === 0) return [`config key \`${key.path}\` has no row in a key table of docs/configuration.md (first cell \`${key.path}\`)`];
      if (!('defaultValue' in key)) return [];
      const shown = JSON.stringify(key.defaultValue);
      return rows.some(({ table, row }) => cellCodes(row[columnIndex(table, 'default')] ?? '').includes(shown))
        ? []
        : [`config key \`${key.path}\`: the schema default is ${shown}; write \`${shown}\` in its "default" column in docs/configuration.md`];
    });
    expect(problems).toEqual([]);
  });

  it('every environment variable src/ reads is documented in docs/configuration.md or docs/credentials.md', () => {
    const documented = new Set(codeSpans(readRepoFile('docs/configuration.md')));
    const credentials = new Set(codeSpans(readRepoFile('docs/credentials.md')));
    const missing = [...environmentVariables()]
      .sort()
      .filter((name) => !documented.has(name) && !credentials.has(name))
      .map((name) => `environment variable \`${name}\`: add a row to the environment table of docs/configuration.md`);
    expect(missing).toEqual([]);
  });
});

describe('docs/failure-modes.md and docs/cli.md document every error code and exit code', () => {
  it('every ErrorCode has a row in the error-code table of docs/failure-modes.md, stating the exit code it maps to', () => {
    const page = readRepoFile('docs/failure-modes.md');
    const codes = errorCodes();
    expect(codes.length, 'no string literals in the ErrorCode type').toBeGreaterThan(0);
    const problems = codes.flatMap((code) => {
      const rows = rowsFor(page, code);
      if (rows.length === 0) return [`error code \`${code}\` has no row in the error-code table of docs/failure-modes.md`];
      const exit = String(exitCodeForCode(code));
      return rows.some(({ table, row }) => new RegExp(`\\b${exit}\\b`).test(row[columnIndex(table, 'exit')] ?? ''))
        ? []
        : [`error code \`${code}\` maps to exit ${exit}: say so in its "exit" column in docs/failure-modes.md`];
    });
    expect(problems).toEqual([]);
  });

  it('every ExitCode value has a row in the exit-code table of docs/cli.md, with its summary outcome word', () => {
    const section = sections(readRepoFile('docs/cli.md')).find((s) => s.heading.text === 'Exit codes');
    expect(section, 'docs/cli.md needs a section "## Exit codes"').toBeDefined();
    const rows = tables(section?.body ?? '').flatMap((table) => table.rows);
    const problems = Object.values(ExitCode).flatMap((code) => {
      const row = rows.find((cells) => (cells[0] ?? '').replace(/`/g, '') === String(code));
      if (!row) return [`exit code ${code} has no row in the "Exit codes" table of docs/cli.md`];
      const outcome = outcomeOf(code);
      return row.some((cell) => cellCodes(cell).includes(outcome))
        ? []
        : [`exit code ${code}: its row in docs/cli.md must name the summary outcome \`${outcome}\``];
    });
    expect(problems).toEqual([]);
  });
});

describe('docs/cli.md documents every command and flag the CLI offers', () => {
  it('every command of "dws-task-exporter --help" has a section, naming every flag of its own --help', async () => {
    const page = 'docs/cli.md';
    const problems = (await commandsFromHelp()).flatMap(({ name, flags }) => {
      // The heading's code span starts with the command's name, one or two words ("config init").
      const section = sectionNaming(page, (code) => `${code.replace(/^dws-task-exporter /, '')} `.startsWith(`${name} `));
      if (!section) return [`command \`${name}\` has no section in ${page} (a heading with \`${name}\`)`];
      const spans = codeSpans(section.body);
      return flags
        .filter((flag) => flag !== '--help' && !spans.some((span) => new RegExp(`(^|\\s)${flag}(?![\\w-])`).test(span)))
        .map((flag) => `flag \`${flag}\` of \`${name}\` is not documented in its section of ${page}`);
    });
    expect(problems).toEqual([]);
  });
});

describe('docs/schema.md documents every table, view and column of schema dws', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('each relation has a section with a row per column, of the right type, and no rows for columns that do not exist', async () => {
    const result = await db.pool.query<{ relation: string; column: string; type: string }>(
      `SELECT c.relname AS relation, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type
         FROM pg_attribute a
         JOIN pg_class c ON c.oid = a.attrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'dws' AND c.relkind IN ('r', 'p', 'v', 'm') AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY c.relname, a.attnum`,
    );
    const relations = new Map<string, Map<string, string>>();
    for (const { relation, column, type } of result.rows) {
      relations.set(relation, (relations.get(relation) ?? new Map<string, string>()).set(column, type.replace('timestamp with time zone', 'timestamptz')));
    }
    expect(relations.size).toBeGreaterThan(0);
    const problems = [...relations].flatMap(([relation, columns]) => {
      const name = `dws.${relation}`;
      const section = sectionNaming('docs/schema.md', (code) => code === name);
      if (!section) return [`\`${name}\` has no section in docs/schema.md (a heading with \`${name}\`)`];
      const columnTables = tables(section.body).filter((table) => columnIndex(table, 'column') === 0);
      const documented = new Map(columnTables.flatMap((table) => table.rows.flatMap((row) => cellCodes(row[0] ?? '').map((code) => [code, { table, row }] as const))));
      const missing = [...columns].flatMap(([column, type]) => {
        const entry = documented.get(column);
        if (!entry) return [`column \`${column}\` of \`${name}\` has no row in its section of docs/schema.md`];
        const typeCell = entry.row[columnIndex(entry.table, 'type')];
        return typeCell === undefined || typeCell.replace(/`/g, '') === type
          ? []
          : [`column \`${column}\` of \`${name}\` is ${type}, docs/schema.md says ${typeCell}`];
      });
      const extra = [...documented.keys()]
        .filter((column) => !columns.has(column))
        .map((column) => `docs/schema.md documents \`${column}\` under \`${name}\`, which has no such column`);
      return [...missing, ...extra];
    });
    expect(problems).toEqual([]);
  });
});

describe('README.md is the first hour and links into docs/, and every link resolves', () => {
  it('the README keeps the two quick-start commands, stays short, and links to every docs page', () => {
    const readme = readRepoFile('README.md');
    expect(DOC_PAGES.length, 'docs/ holds the reference pages').toBeGreaterThan(0);
    expect(readme).toContain('npm ci && npm run demo');
    expect(readme).toMatch(/^npm test\b/m);
    expect(Buffer.byteLength(readme), 'README.md is the first hour: move reference material into docs/').toBeLessThan(15_000);
    const linked = new Set(relativeLinks(readme).map((link) => link.target.split('#')[0]));
    expect(DOC_PAGES.filter((page) => !linked.has(page)).map((page) => `README.md does not link to ${page}`)).toEqual([]);
  });

  it('every `npm run X` in the README and docs/ names a script of package.json', () => {
    const scripts = (JSON.parse(readRepoFile('package.json')) as { scripts: Record<string, string> }).scripts;
    const problems = ['README.md', ...DOC_PAGES].flatMap((page) =>
      [...readRepoFile(page).matchAll(/\bnpm run ([a-z][\w:-]*)/g)]
        .map((m) => m[1] ?? '')
        .filter((script) => !(script in scripts))
        .map((script) => `${page}: "npm run ${script}" but package.json has no script "${script}"`),
    );
    expect(problems).toEqual([]);
  });

  it('every relative link in README.md and docs/*.md points to an existing file, and to an existing heading', () => {
    const problems = ['README.md', ...DOC_PAGES].flatMap((page) =>
      relativeLinks(readRepoFile(page)).flatMap(({ target, line }) => {
        const [path = '', anchor] = target.split('#');
        const file = path === '' ? join(REPO_ROOT, page) : join(REPO_ROOT, dirname(page), decodeURIComponent(path));
        const where = `${page}:${line} links to ${target}`;
        if (!existsSync(file)) return [`${where}: no file ${relative(REPO_ROOT, file)}`];
        if (anchor === undefined || !file.endsWith('.md')) return [];
        const slugs = headings(readFileSync(file, 'utf8')).map((h) => h.slug);
        return slugs.includes(anchor) ? [] : [`${where}: no heading with that anchor in ${relative(REPO_ROOT, file)}`];
      }),
    );
    expect(problems).toEqual([]);
  });
});
