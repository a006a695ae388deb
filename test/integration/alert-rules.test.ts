/**
 * The exporter's Prometheus alert rules (docker/prometheus), with the real
 * promtool: the rules and the compose Prometheus config check, the unit tests
 * in docker/prometheus/tests pass (and fail when a threshold moves), the
 * PrometheusRule for the Operator carries the same groups, and every metric
 * the rules and their test series use is one a real export pushes, with its
 * labels.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SimFleet } from '../../src/simulator/index.js';
import { cliLauncher, describeResult } from '../support/cli.js';
import { withDatabase } from '../support/database.js';
import { TEST_TOKEN, fleetConfig, withSimulator } from '../support/exporter.js';

const DOCKER = fileURLToPath(new URL('../../docker/', import.meta.url));
const PROMETHEUS = join(DOCKER, 'prometheus');
const RULES = join(PROMETHEUS, 'rules', 'dws-task-exporter.rules.yml');
const TESTS = join(PROMETHEUS, 'tests');

interface Rule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}

interface RuleGroup {
  readonly name: string;
  readonly rules: readonly Rule[];
}

interface PromtoolResult {
  readonly code: number;
  readonly output: string;
}

/** promtool's exit code and output; a missing promtool fails the test with how to install it. */
function promtool(...args: string[]): Promise<PromtoolResult> {
  return new Promise((resolve, reject) => {
    execFile('promtool', args, { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new Error('promtool not found: apt-get install prometheus (.ci/run installs it)'));
        return;
      }
      resolve({ code: typeof error?.code === 'number' ? error.code : error ? 1 : 0, output: `${stdout}${stderr}` });
    });
  });
}

/** The alerts issue 14 asks for, and the ones that cover silence: every rule file alert is one of these. */
const ALERTS = [
  'DwsExportRunFailed',
  'DwsExportRunPartial',
  'DwsExportNotRunning',
  'DwsExportStopped',
  'DwsExportNeverSucceeded',
  'DwsExportMetricsMissing',
  'DwsClusterFailingRepeatedly',
  'DwsCredentialsRefused',
  'DwsEndpointUnreachable',
];

/** Labels of a pushed series as Prometheus stores it: the grouping key (honor_labels) plus the sample's own. */
const GROUPING_KEY = ['job', 'shard'];

let groups: RuleGroup[];
let dir: string;

beforeAll(async () => {
  groups = (parse(await readFile(RULES, 'utf8')) as { groups: RuleGroup[] }).groups;
  dir = await mkdtemp(join(tmpdir(), 'dws-alert-rules-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const rules = (): Rule[] => groups.flatMap((g) => g.rules);

describe('the rules file', () => {
  it('passes promtool check rules', async () => {
    const result = await promtool('check', 'rules', RULES);
    expect(result.output).toContain(`SUCCESS: ${ALERTS.length} rules found`);
    expect(result.code, result.output).toBe(0);
  });

  it('holds the alerts an on-call engineer needs, each with a severity and a runbook pointing at the ledger', () => {
    expect(rules().map((r) => r.alert).sort()).toEqual([...ALERTS].sort());
    for (const rule of rules()) {
      expect(['critical', 'warning'], rule.alert).toContain(rule.labels.severity);
      expect(Object.keys(rule.annotations).sort(), rule.alert).toEqual(['description', 'summary']);
      expect(rule.annotations.summary, rule.alert).not.toContain('\n');
      expect(rule.annotations.description, `${rule.alert}: a query to run`).toMatch(/SELECT .* FROM dws\.\w+/);
    }
  });

  it('is what the compose Prometheus loads (promtool check config)', async () => {
    const result = await promtool('check', 'config', join(PROMETHEUS, 'prometheus.yml'));
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain('SUCCESS: 1 rule files found');
    const config = parse(await readFile(join(PROMETHEUS, 'prometheus.yml'), 'utf8')) as {
      scrape_configs: { job_name: string; honor_labels?: boolean; static_configs: { targets: string[] }[] }[];
    };
    // The pushed job and shard labels are the alerts' labels: the scrape must keep them.
    const scrape = config.scrape_configs.find((s) => s.static_configs.some((c) => c.targets.some((t) => t.startsWith('pushgateway:'))));
    expect(scrape?.honor_labels).toBe(true);
  });
});

describe('promtool test rules', () => {
  let testFiles: string[];
  beforeAll(async () => {
    testFiles = (await readdir(TESTS)).filter((f) => f.endsWith('.yml')).map((f) => join(TESTS, f));
  });

  it('the unit tests pass', async () => {
    expect(testFiles.length).toBeGreaterThan(0);
    const result = await promtool('test', 'rules', ...testFiles);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain('SUCCESS');
  });

  it('say for every alert when it fires and when it stays silent', async () => {
    const fires = new Set<string>();
    const silent = new Set<string>();
    for (const file of testFiles) {
      const suite = parse(await readFile(file, 'utf8')) as { tests: { alert_rule_test: { alertname: string; exp_alerts?: unknown[] }[] }[] };
      for (const check of suite.tests.flatMap((t) => t.alert_rule_test)) (check.exp_alerts?.length ? fires : silent).add(check.alertname);
    }
    expect([...fires].sort()).toEqual([...ALERTS].sort());
    expect([...silent].sort()).toEqual([...ALERTS].sort());
  });

  it('fail when a threshold moves: they test the thresholds, not just the syntax', async () => {
    const copy = join(dir, 'mutant');
    await cp(PROMETHEUS, copy, { recursive: true });
    const mutantRules = join(copy, 'rules', 'dws-task-exporter.rules.yml');
    for (const [from, to] of [['26 * 3600', '30 * 3600'], ['>= 3', '>= 2'], ['== 6', '== 5']] as const) {
      const original = await readFile(RULES, 'utf8');
      expect(original, from).toContain(from);
      await writeFile(mutantRules, original.replaceAll(from, to));
      const result = await promtool('test', 'rules', ...testFiles.map((f) => join(copy, 'tests', f.slice(TESTS.length + 1))));
      expect(result.code, `${from} -> ${to} went unnoticed:\n${result.output}`).not.toBe(0);
    }
  });
});

describe('the PrometheusRule for the Prometheus Operator', () => {
  it('carries exactly the rules file\'s groups, and promtool accepts them', async () => {
    const resource = parse(await readFile(join(DOCKER, 'k8s', 'prometheus-rule.yaml'), 'utf8')) as {
      apiVersion: string;
      kind: string;
      metadata: { name: string };
      spec: { groups: RuleGroup[] };
    };
    expect(resource).toMatchObject({ apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', metadata: { name: 'dws-task-exporter' } });
    expect(resource.spec.groups).toEqual(groups);
    const extracted = join(dir, 'prometheus-rule-spec.yml');
    await writeFile(extracted, JSON.stringify({ groups: resource.spec.groups }));
    const result = await promtool('check', 'rules', extracted);
    expect(result.code, result.output).toBe(0);
  });
});

/** Family name -> label names, from the body a real `run` POSTs to PUSHGATEWAY_URL. */
async function pushedByARealRun(workDir: string): Promise<Map<string, string[]>> {
  const bodies: string[] = [];
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200).end();
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  try {
    const fleet = SimFleet.generate({ seed: 71, projects: 1, clustersPerProject: 2, minTasks: 3, maxTasks: 20 });
    await withDatabase((db) =>
      withSimulator({ fleet }, async (simulator) => {
        const config = join(workDir, 'push-config.json');
        await writeFile(config, JSON.stringify(fleetConfig(simulator, fleet)));
        const address = receiver.address();
        if (address === null || typeof address === 'string') throw new Error('the push receiver has no TCP port');
        const result = await cliLauncher().runCli(['run', '--config', config], {
          DATABASE_URL: db.url,
          DWS_AUTH_TOKEN: TEST_TOKEN,
          PUSHGATEWAY_URL: `http://127.0.0.1:${address.port}`,
        });
        expect(result.code, describeResult(result)).toBe(0);
      }),
    );
  } finally {
    receiver.close();
  }
  expect(bodies).toHaveLength(1);
  const families = new Map<string, Set<string>>();
  for (const line of (bodies[0] ?? '').split('\n').filter((l) => l !== '' && !l.startsWith('#'))) {
    const [, name = '', labels = ''] = /^(\w+)(?:\{(.*)\})? /.exec(line) ?? [];
    const names = families.get(name) ?? new Set<string>();
    for (const [, label] of labels.matchAll(/(\w+)="/g)) names.add(label ?? '');
    families.set(name, names);
  }
  return new Map([...families].map(([name, labels]) => [name, [...labels].sort()]));
}

describe('the metrics the rules read', () => {
  /** Family name -> label names, as a real run pushes them. */
  let pushed: Map<string, string[]>;

  beforeAll(async () => {
    pushed = await pushedByARealRun(dir);
  });

  const known = (name: string): readonly string[] | undefined => pushed.get(name);

  it('the rules use only metrics an export pushes', () => {
    expect(pushed.get('dws_exporter_last_run_status')).toEqual(['status']); // the push was read
    for (const rule of rules()) {
      const names = [...rule.expr.matchAll(/\bdws_exporter_\w+/g)].map((m) => m[0]);
      expect(names.length, rule.alert).toBeGreaterThan(0);
      for (const name of names) expect(known(name), `${rule.alert}: ${name}`).toBeDefined();
    }
  });

  it('the unit tests feed series named and labelled as the exporter pushes them', async () => {
    for (const file of await readdir(TESTS)) {
      const suite = parse(await readFile(join(TESTS, file), 'utf8')) as { tests: { input_series: { series: string }[] }[] };
      for (const { series } of suite.tests.flatMap((t) => t.input_series)) {
        const [, name = '', labelText = ''] = /^(\w+)\{(.*)\}$/.exec(series) ?? [];
        const labels = [...labelText.matchAll(/(\w+)="[^"]*"/g)].map((m) => m[1] ?? '').sort();
        expect(known(name), `${file}: ${series}`).toBeDefined();
        expect(labels, `${file}: ${series}`).toEqual([...GROUPING_KEY, ...(known(name) ?? [])].sort());
      }
    }
  });
});
