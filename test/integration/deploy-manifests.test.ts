/**
 * The deployment files under docker/, checked where no Docker engine or
 * cluster runs: every YAML parses, and the settings that keep a nightly job
 * safe are asserted (Forbid, grace period vs shutdownGraceMs, Indexed Jobs,
 * credentials from Secrets, non-root). The compose demo's config is checked
 * against the simulator it talks to, and the Airflow wrapper runs the real
 * exporter against the simulator and a real PostgreSQL.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { dockerignore, parseDockerfile } from '../../docker/replay-build.mjs';
import { parseConfig } from '../../src/config/load-config.js';
import type { RunSummaryDocument } from '../../src/report/summary-json.js';
import { SimFleet, startSimulator, type Simulator } from '../../src/simulator/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { TEST_TOKEN, fleetConfig } from '../support/exporter.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DOCKER = join(ROOT, 'docker');

type Yaml = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function yamlFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

async function parseYaml(path: string): Promise<Yaml[]> {
  const docs = parseAllDocuments(await readFile(path, 'utf8'), { merge: true }); // compose uses << merge keys
  for (const doc of docs) {
    if (doc.errors.length > 0 || doc.warnings.length > 0) {
      throw new Error(`${relative(ROOT, path)}: ${[...doc.errors, ...doc.warnings].map((e) => e.message).join('; ')}`);
    }
  }
  return docs.map((doc) => doc.toJS({ maxAliasCount: 100 }) as Yaml).filter((d) => d !== null);
}

const k8s = new Map<string, Yaml[]>();
let compose: Yaml;
let dockerfile: string;
let configMapConfig: ReturnType<typeof parseConfig>;

beforeAll(async () => {
  for (const file of await yamlFiles(join(DOCKER, 'k8s'))) k8s.set(relative(join(DOCKER, 'k8s'), file), await parseYaml(file));
  [compose] = (await parseYaml(join(DOCKER, 'compose.yaml'))) as [Yaml];
  dockerfile = await readFile(join(DOCKER, 'Dockerfile'), 'utf8');
  const configMap = k8s.get('configmap.yaml')?.[0];
  configMapConfig = parseConfig(JSON.parse(configMap?.data['config.json'] as string), 'configmap.yaml config.json');
});

function doc(file: string, kind: string): Yaml {
  const found = k8s.get(file)?.find((d) => d.kind === kind);
  if (!found) throw new Error(`${file}: no ${kind}`);
  return found;
}

/** The final stage's USER uid. */
function imageUid(): number {
  const users = parseDockerfile(dockerfile).filter((i) => i.op === 'USER');
  return Number(users.at(-1)?.args.split(':')[0]);
}

describe('YAML under docker/', () => {
  it('every file parses, without errors or warnings', async () => {
    const files = (await yamlFiles(DOCKER)).map((f) => relative(DOCKER, f));
    expect(files).toEqual(
      expect.arrayContaining([
        'compose.yaml', 'k8s/configmap.yaml', 'k8s/cronjob.yaml', 'k8s/cronjob-sharded.yaml', 'k8s/kustomization.yaml', 'k8s/migrate-job.yaml',
        'k8s/prometheus-rule.yaml', 'k8s/secret.example.yaml', 'grafana/provisioning/datasources/dws-warehouse.yaml',
        'grafana/provisioning/dashboards/dws-task-exporter.yaml', 'prometheus/prometheus.yml', 'prometheus/rules/dws-task-exporter.rules.yml',
      ]),
    );
    for (const file of files) await expect(parseYaml(join(DOCKER, file))).resolves.toBeDefined();
  });
});

describe('Kubernetes', () => {
  const cronJobs = ['cronjob.yaml', 'cronjob-sharded.yaml'];

  it('the ConfigMap holds a valid config file', () => {
    expect(configMapConfig.projects.length).toBeGreaterThan(0);
  });

  for (const file of cronJobs) {
    describe(file, () => {
      const job = (): Yaml => doc(file, 'CronJob').spec.jobTemplate.spec;
      const pod = (): Yaml => job().template.spec;
      const container = (): Yaml => pod().containers.find((c: Yaml) => c.name === 'exporter');

      it('never runs two exports at once and bounds a hung run', () => {
        const cron = doc(file, 'CronJob').spec;
        expect(cron.concurrencyPolicy).toBe('Forbid');
        expect(cron.schedule).toMatch(/^\S+ \S+ \S+ \S+ \S+$/);
        expect(job().activeDeadlineSeconds).toBeGreaterThan(0);
        expect(job().backoffLimit ?? job().backoffLimitPerIndex).toBeGreaterThanOrEqual(1);
        expect(pod().restartPolicy).toBe('Never');
      });

      it('gives the exporter its shutdown grace and a margin before SIGKILL', () => {
        expect(pod().terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(configMapConfig.shutdownGraceMs + 5000);
      });

      it('does not retry config, partial or auth failures, and does not count evictions', () => {
        const rules: Yaml[] = job().podFailurePolicy.rules;
        const stop = rules.find((r) => r.onExitCodes);
        expect(stop?.action).toBe(file.includes('sharded') ? 'FailIndex' : 'FailJob');
        expect(stop?.onExitCodes).toEqual({ containerName: 'exporter', operator: 'In', values: [2, 3, 6] });
        expect(rules.find((r) => r.onPodConditions)).toEqual({ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] });
      });

      it('takes DATABASE_URL and the access keys from the Secret, never inline', () => {
        const env: Yaml[] = container().env;
        for (const name of ['DATABASE_URL', 'HUAWEICLOUD_SDK_AK', 'HUAWEICLOUD_SDK_SK']) {
          const entry = env.find((e) => e.name === name);
          expect(entry?.value, name).toBeUndefined();
          expect(entry?.valueFrom?.secretKeyRef, name).toEqual({ name: 'dws-task-exporter', key: name });
        }
        expect(env.find((e) => e.name === 'DWS_EXPORTER_RUN_GROUP')?.valueFrom?.fieldRef?.fieldPath).toBe(
          "metadata.labels['batch.kubernetes.io/job-name']",
        );
      });

      it('runs as the image\'s non-root user with a read-only root and no privileges', () => {
        expect(pod().securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: imageUid(), seccompProfile: { type: 'RuntimeDefault' } });
        expect(imageUid()).toBeGreaterThan(0);
        expect(pod().automountServiceAccountToken).toBe(false);
        expect(container().securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
        const mounts: Yaml[] = container().volumeMounts;
        expect(mounts.find((m) => m.mountPath === '/tmp')).toBeDefined();
        const config = mounts.find((m) => m.name === 'config');
        expect(pod().volumes.find((v: Yaml) => v.name === 'config').configMap.name).toBe(doc('configmap.yaml', 'ConfigMap').metadata.name);
        expect(container().args).toEqual(expect.arrayContaining(['run', '--config', `${config?.mountPath}/config.json`, '--no-migrate']));
      });

      it('sizes memory with room above the V8 heap limit, young generation included', () => {
        const { requests, limits } = container().resources;
        expect(requests.cpu).toBeDefined();
        const mib = (text: string): number => Number(/^(\d+)Mi$/.exec(text)?.[1]);
        expect(mib(requests.memory)).toBeLessThanOrEqual(mib(limits.memory));
        const options: string = container().env.find((e: Yaml) => e.name === 'NODE_OPTIONS').value;
        const flag = (name: string): number => Number(new RegExp(`--${name}=(\\d+)`).exec(options)?.[1]);
        // The young generation is two semi-spaces (and its large objects): three is a safe count.
        expect(flag('max-old-space-size') + 3 * flag('max-semi-space-size')).toBeLessThan(mib(limits.memory));
        expect(flag('max-semi-space-size')).toBeGreaterThan(16);
      });
    });
  }

  it('the sharded CronJob is an Indexed Job whose completions match --shard-count, the index coming from JOB_COMPLETION_INDEX', () => {
    const job = doc('cronjob-sharded.yaml', 'CronJob').spec.jobTemplate.spec;
    expect(job.completionMode).toBe('Indexed');
    const args: string[] = job.template.spec.containers[0].args;
    expect(Number(args[args.indexOf('--shard-count') + 1])).toBe(job.completions);
    expect(job.parallelism).toBeLessThanOrEqual(job.completions);
    expect(args).not.toContain('--shard-index');
  });

  it('migrates in a separate Job with the owner\'s credentials, which the nightly pod never sees', () => {
    const job = doc('migrate-job.yaml', 'Job').spec;
    const container = job.template.spec.containers[0];
    expect(container.args).toEqual(['migrate']);
    const env: Yaml[] = container.env;
    expect(env.find((e) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef).toEqual({ name: 'dws-task-exporter-migrate', key: 'DATABASE_URL' });
    expect(env.some((e) => e.name.startsWith('HUAWEICLOUD_'))).toBe(false);
    expect(job.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: imageUid() });
    for (const file of ['cronjob.yaml', 'cronjob-sharded.yaml']) {
      expect(JSON.stringify(doc(file, 'CronJob'))).not.toContain('dws-task-exporter-migrate');
    }
  });

  it('uses one image everywhere, and kustomize applies everything but the Secret template', () => {
    const images = new Set(
      ['cronjob.yaml', 'cronjob-sharded.yaml', 'migrate-job.yaml'].map((f) => {
        const d = doc(f, f === 'migrate-job.yaml' ? 'Job' : 'CronJob');
        const spec = d.kind === 'Job' ? d.spec : d.spec.jobTemplate.spec;
        return spec.template.spec.containers[0].image as string;
      }),
    );
    expect(images.size).toBe(1);
    const kustomization = doc('kustomization.yaml', 'Kustomization');
    for (const resource of kustomization.resources as string[]) expect(existsSync(join(DOCKER, 'k8s', resource)), resource).toBe(true);
    expect(kustomization.resources).not.toContain('secret.example.yaml');
    // Its kind exists only where the Prometheus Operator is installed: applied on its own.
    expect(kustomization.resources).not.toContain('prometheus-rule.yaml');
    expect(doc('prometheus-rule.yaml', 'PrometheusRule').apiVersion).toBe('monitoring.coreos.com/v1');
    expect(kustomization.images[0].name).toBe([...images][0]?.split(':')[0]);
  });

  it('the Secret template holds placeholders only', () => {
    const secrets = k8s.get('secret.example.yaml') ?? [];
    expect(secrets.map((s) => s.metadata.name)).toEqual(['dws-task-exporter', 'dws-task-exporter-migrate']);
    for (const secret of secrets) for (const value of Object.values(secret.stringData as Record<string, string>)) expect(value).toContain('CHANGE-ME');
  });
});

describe('Dockerfile and build context', () => {
  const instructions = () => parseDockerfile(dockerfile);

  it('builds on node:24-slim in stages, runs as a numeric non-root user with tini as PID 1 and the CLI as entrypoint', () => {
    const froms = instructions().filter((i) => i.op === 'FROM').map((i) => i.args);
    expect(froms).toEqual(['${NODE_IMAGE} AS build', '${NODE_IMAGE} AS deps', '${NODE_IMAGE} AS runtime']);
    expect(instructions().find((i) => i.op === 'ARG')?.args).toBe('NODE_IMAGE=node:24-slim');
    expect(instructions().filter((i) => i.op === 'USER').map((i) => i.args)).toEqual(['10001:10001']);
    expect(JSON.parse(instructions().find((i) => i.op === 'ENTRYPOINT')?.args ?? '[]')).toEqual(['/usr/bin/tini', '--', 'dws-task-exporter']);
    const labels = instructions().filter((i) => i.op === 'LABEL').map((i) => i.args).join(' ');
    for (const label of ['title', 'description', 'version', 'licenses']) expect(labels).toContain(`org.opencontainers.image.${label}=`);
  });

  it('.dockerignore lets in exactly what the Dockerfile copies, and never credentials or local builds', () => {
    const ignored = dockerignore(ROOT);
    const copied = instructions()
      .filter((i) => i.op === 'COPY' && !i.args.includes('--from='))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    for (const source of copied) {
      const probe = source.endsWith('/') ? `${source}probe.ts` : source;
      expect(ignored(probe), source).toBe(false);
    }
    for (const secret of ['.env', 'docker/dws.env', 'docker/dws-config.json', '.dws-exporter/pg-password', 'node_modules/pg/package.json', 'dist/src/cli.js', '.git/config', 'test/integration/cli.test.ts']) {
      expect(ignored(secret), secret).toBe(true);
    }
  });
});

describe('compose', () => {
  const services = (): Yaml => compose.services;
  const flag = (args: readonly string[], name: string): string => {
    const value = args[args.indexOf(name) + 1];
    if (args.indexOf(name) < 0 || value === undefined) throw new Error(`no ${name}`);
    return value;
  };

  it('starts PostgreSQL, migrates, sets up the roles, serves the simulator and runs one export that waits for them', () => {
    const s = services();
    expect(Object.keys(s).sort()).toEqual(['exporter', 'exporter-dws', 'grafana', 'migrate', 'postgres', 'prometheus', 'pushgateway', 'roles', 'simulator']);
    expect(s.exporter.depends_on).toEqual({
      migrate: { condition: 'service_completed_successfully' },
      roles: { condition: 'service_completed_successfully' },
      simulator: { condition: 'service_healthy' },
      pushgateway: { condition: 'service_started' },
    });
    expect(s.migrate.depends_on.postgres.condition).toBe('service_healthy');
    expect(s.migrate.command).toEqual(['migrate']);
    expect(s.exporter.command).toEqual(expect.arrayContaining(['run', '--no-migrate']));
    for (const name of ['migrate', 'simulator', 'exporter', 'exporter-dws']) {
      expect(s[name].build, name).toEqual({ context: '..', dockerfile: 'docker/Dockerfile' });
      expect(s[name].read_only, name).toBe(true);
    }
    expect(existsSync(join(DOCKER, 'Dockerfile'))).toBe(true);
    const databaseUrl = new URL(s.exporter.environment.DATABASE_URL as string);
    expect(databaseUrl.hostname).toBe('postgres');
    expect(databaseUrl.password).toBe(s.postgres.environment.POSTGRES_PASSWORD);
    expect(databaseUrl.pathname).toBe(`/${s.postgres.environment.POSTGRES_DB}`);
  });

  it('the exporter\'s config lists exactly the simulator\'s clusters, at its address, with its token', async () => {
    const s = services();
    const args: string[] = s.simulator.command;
    const fleet = SimFleet.generate({
      seed: Number(flag(args, '--seed')),
      projects: Number(flag(args, '--projects')),
      clustersPerProject: Number(flag(args, '--clusters-per-project')),
      minTasks: Number(flag(args, '--min-tasks')),
      maxTasks: Number(flag(args, '--max-tasks')),
    });
    const mount = (s.exporter.volumes as string[]).find((v) => v.endsWith(':/etc/dws-exporter/config.json:ro'));
    const hostPath = join(DOCKER, mount?.split(':')[0] ?? '');
    const config = parseConfig(JSON.parse(await readFile(hostPath, 'utf8')), hostPath);
    expect(config.projects.map((p) => [p.projectId, p.clusters])).toEqual(
      fleet.projectIds().map((projectId) => [projectId, expect.objectContaining({})]),
    );
    const ids = JSON.parse(await readFile(hostPath, 'utf8')).projects.flatMap((p: { clusters: string[] }) => p.clusters);
    expect(ids).toEqual(fleet.clusters.map((c) => c.id));
    expect(config.projects[0]?.endpoint).toBe(`http://simulator:${flag(args, '--port')}`);
    expect(s.exporter.environment.DWS_AUTH_TOKEN).toBe(flag(args, '--token'));
    expect(flag(args, '--host')).toBe('0.0.0.0');
    expect(fleet.totalTasks()).toBe(2540); // the number compose.yaml's header promises
  });

  it('publishes every port on the loopback interface only', () => {
    for (const [name, service] of Object.entries(services())) {
      for (const port of (service.ports ?? []) as string[]) expect(port, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    }
  });

  it('Grafana reads the warehouse as the dws_reader login that the roles service creates, with the provisioned dashboards', async () => {
    const s = services();
    const grafana: Yaml = s.grafana;
    expect(grafana.depends_on).toEqual({ roles: { condition: 'service_completed_successfully' } });
    expect(s.roles.depends_on).toEqual({ migrate: { condition: 'service_completed_successfully' } });
    // The roles service: roles.sql then the reader login, as the administrator of the demo database.
    const mounts = new Map((s.roles.volumes as string[]).map((v) => [v.split(':')[1], v.split(':')[0] ?? '']));
    expect(s.roles.command).toEqual(['psql', '-v', 'ON_ERROR_STOP=1', '-f', '/sql/roles.sql', '-f', '/sql/reader-login.sql']);
    expect(mounts.get('/sql/roles.sql')).toBe('./sql/roles.sql');
    expect(mounts.get('/sql/reader-login.sql')).toBe('./grafana/reader-login.sql');
    for (const source of mounts.values()) expect(existsSync(join(DOCKER, source)), source).toBe(true);
    expect(s.roles.environment).toMatchObject({ PGHOST: 'postgres', PGUSER: s.postgres.environment.POSTGRES_USER, PGPASSWORD: s.postgres.environment.POSTGRES_PASSWORD, PGDATABASE: s.postgres.environment.POSTGRES_DB });
    const settings = Object.fromEntries([...(s.roles.environment.PGOPTIONS as string).matchAll(/-c ([\w.]+)=(\S+)/g)].map((m) => [m[1], m[2]]));
    // The datasource (provisioning/datasources) takes its connection from Grafana's environment.
    const env: Record<string, string> = grafana.environment;
    expect(settings['dws.grafana_login']).toBe(env.DWS_WAREHOUSE_USER);
    expect(settings['dws.grafana_password']).toBe(env.DWS_WAREHOUSE_PASSWORD);
    expect(env.DWS_WAREHOUSE_HOST).toBe('postgres:5432');
    expect(env.DWS_WAREHOUSE_DATABASE).toBe(s.postgres.environment.POSTGRES_DB);
    const provisioning = join(DOCKER, 'grafana', 'provisioning');
    const strings = (node: unknown): string[] =>
      typeof node === 'string' ? [node] : node !== null && typeof node === 'object' ? Object.values(node).flatMap(strings) : [];
    for (const file of await yamlFiles(provisioning)) {
      // Grafana expands $NAME and ${NAME} in the values of provisioning files.
      for (const value of strings(await parseYaml(file))) {
        for (const [, name] of value.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)) {
          expect(env[name ?? ''], `${relative(DOCKER, file)} reads $${name}`).toBeDefined();
        }
      }
    }
    // Provisioning is mounted where Grafana looks, the dashboards where the provider reads them.
    const grafanaMounts = new Map((grafana.volumes as string[]).map((v) => [v.split(':')[1], v.split(':')[0] ?? '']));
    for (const kind of ['datasources', 'dashboards']) {
      expect(grafanaMounts.get(`/etc/grafana/provisioning/${kind}`)).toBe(`./grafana/provisioning/${kind}`);
    }
    const [provider] = (await parseYaml(join(provisioning, 'dashboards', 'dws-task-exporter.yaml')))[0]?.providers as Yaml[];
    expect(grafanaMounts.get(provider?.options.path)).toBe('./grafana/dashboards');
    const home = env.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH ?? '';
    expect(home.startsWith(`${provider?.options.path}/`)).toBe(true);
    expect(existsSync(join(DOCKER, 'grafana', 'dashboards', home.slice(provider?.options.path.length + 1)))).toBe(true);
    expect(env.GF_AUTH_ANONYMOUS_ORG_ROLE).toBe('Viewer');
    expect(env.GF_SECURITY_ADMIN_PASSWORD).toMatch(/^\$\{GRAFANA_ADMIN_PASSWORD:-/);
  });

  it('Prometheus loads docker/prometheus and scrapes the Pushgateway the exporter pushes to', async () => {
    const s = services();
    expect(s.prometheus.volumes).toEqual(['./prometheus:/etc/prometheus:ro']);
    expect(s.prometheus.command).toContain('--config.file=/etc/prometheus/prometheus.yml');
    const [config] = await parseYaml(join(DOCKER, 'prometheus', 'prometheus.yml'));
    const targets = (config?.scrape_configs as Yaml[]).flatMap((c) => c.static_configs.flatMap((sc: Yaml) => sc.targets as string[]));
    const pushgateway = new URL(s.exporter.environment.PUSHGATEWAY_URL as string);
    expect(targets).toContain(pushgateway.host);
    expect(s.pushgateway.ports).toEqual([`127.0.0.1:${pushgateway.port}:${pushgateway.port}`]);
  });

  it('the "dws" profile reads credentials from an env file that git and the image never see', async () => {
    const dws = services()['exporter-dws'];
    expect(dws.profiles).toEqual(['dws']);
    expect(dws.env_file).toEqual([{ path: './dws.env', required: true }]);
    expect(dws.environment).toBeUndefined();
    expect(await readFile(join(DOCKER, '.gitignore'), 'utf8')).toMatch(/^dws\.env$/m);
    const example = await readFile(join(DOCKER, 'dws.env.example'), 'utf8');
    for (const name of ['HUAWEICLOUD_SDK_AK', 'HUAWEICLOUD_SDK_SK', 'DATABASE_URL']) expect(example).toMatch(new RegExp(`^${name}=`, 'm'));
    parseConfig(JSON.parse(await readFile(join(DOCKER, 'dws-config.example.json'), 'utf8')), 'dws-config.example.json');
  });
});

describe('Airflow', () => {
  const DAG = join(DOCKER, 'airflow', 'dws_task_exporter_dag.py');
  const WRAPPER = join(DOCKER, 'airflow', 'export-and-report.sh');
  const python = ((): string | null => {
    try {
      execFileSync('python3', ['--version'], { stdio: 'ignore' });
      return 'python3';
    } catch {
      return null;
    }
  })();

  it('the DAG file compiles', () => {
    expect(python, 'python3 is needed to check the DAG').not.toBeNull();
    execFileSync('python3', ['-c', 'import ast, sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])', DAG]);
  });

  it('the wrapper is valid sh, shipped in the image under the name the DAG runs', async () => {
    execFileSync('sh', ['-n', WRAPPER]);
    expect(dockerfile).toContain('COPY docker/airflow/export-and-report.sh /usr/local/bin/dws-task-exporter-airflow');
    const dag = await readFile(DAG, 'utf8');
    expect(dag).toContain('"dws-task-exporter-airflow"');
    expect(dag).toContain('{{ dag.folder }}/export-and-report.sh');
  });

  it('the wrapper, the DAG and the CronJob agree on which exit codes are not retried', async () => {
    const wrapper = await readFile(WRAPPER, 'utf8');
    const zero = /^\s*([\d |]+)\) exit 0 ;;$/m.exec(wrapper)?.[1]?.split('|').map((c) => Number(c.trim()));
    const dag = await readFile(DAG, 'utf8');
    const notRetried = [...(/^NOT_RETRIED = \{(.*)\}$/m.exec(dag)?.[1] ?? '').matchAll(/(\d+):/g)].map((m) => Number(m[1]));
    expect(zero).toEqual([0, 2, 3, 6]);
    expect(notRetried).toEqual(zero);
    const failJob: number[] = doc('cronjob.yaml', 'CronJob').spec.jobTemplate.spec.podFailurePolicy.rules[0].onExitCodes.values;
    expect([0, ...failJob]).toEqual(zero);
  });

  describe('export-and-report.sh with the real exporter', () => {
    let db: TestDatabase;
    let simulator: Simulator;
    let dir: string;
    const fleet = SimFleet.generate({ seed: 53, projects: 1, clustersPerProject: 3, minTasks: 5, maxTasks: 50 });

    beforeAll(async () => {
      db = await createTestDatabase();
      simulator = await startSimulator({ fleet, auth: { token: TEST_TOKEN } });
      dir = await mkdtemp(join(tmpdir(), 'dws-exporter-airflow-'));
      await writeFile(join(dir, 'config.json'), JSON.stringify(fleetConfig(simulator, fleet)));
    });
    afterAll(async () => {
      await simulator.close();
      await db.drop();
      await rm(dir, { recursive: true, force: true });
    });

    interface WrapperRun {
      readonly code: number | null;
      readonly lastLine: RunSummaryDocument;
      readonly file: RunSummaryDocument;
      readonly stdout: string;
      readonly stderr: string;
    }

    function wrap(args: readonly string[], env: Readonly<Record<string, string>>, name: string): Promise<WrapperRun> {
      const summary = join(dir, `${name}.json`);
      return new Promise((resolve, reject) => {
        const child = spawn('sh', [WRAPPER, ...args], {
          cwd: ROOT,
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            LOG_LEVEL: 'warn',
            DWS_EXPORTER_BIN: `${process.execPath} --import tsx ${join(ROOT, 'src', 'cli.ts')}`,
            DWS_EXPORTER_SUMMARY: summary,
            ...env,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        child.on('error', reject);
        child.on('close', (code) => {
          void readFile(summary, 'utf8').then((text) => {
            const lastLine = stdout.trimEnd().split('\n').at(-1) ?? '';
            try {
              resolve({ code, lastLine: JSON.parse(lastLine) as RunSummaryDocument, file: JSON.parse(text) as RunSummaryDocument, stdout, stderr });
            } catch (error) {
              reject(new Error(`${String(error)}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
            }
          }, reject);
        });
      });
    }

    /** check_export from the DAG file, run by python3 on a summary as XCom would hold it. */
    function checkExport(xcom: unknown): { ok: boolean; message: string } {
      const script = `
import ast, json, sys
source = open(sys.argv[1]).read()
tree = ast.parse(source)
keep = [n for n in tree.body if (isinstance(n, ast.FunctionDef) and n.name in ("_summaries", "check_export"))
        or (isinstance(n, ast.Assign) and any(getattr(t, "id", "") == "NOT_RETRIED" for t in n.targets))]
class AirflowFailException(Exception):
    pass
namespace = {"json": json, "AirflowFailException": AirflowFailException}
exec(compile(ast.Module(body=keep, type_ignores=[]), sys.argv[1], "exec"), namespace)
class TaskInstance:
    def xcom_pull(self, task_ids):
        assert task_ids == "export"
        return json.loads(sys.argv[2])
try:
    print(json.dumps({"ok": True, "message": json.dumps(namespace["check_export"](TaskInstance()))}))
except AirflowFailException as error:
    print(json.dumps({"ok": False, "message": str(error)}))
`;
      return JSON.parse(execFileSync('python3', ['-c', script, DAG, JSON.stringify(xcom)], { encoding: 'utf8' })) as { ok: boolean; message: string };
    }

    const base = (): Record<string, string> => ({ DATABASE_URL: db.url, DWS_AUTH_TOKEN: TEST_TOKEN });

    it('a successful run: exit 0, the summary as the last stdout line (BashOperator XCom) and in the file; check_export passes', async () => {
      const run = await wrap(['run', '--config', join(dir, 'config.json'), '--run-group', 'scheduled__2026-03-01T02:17:00+00:00'], base(), 'ok');
      expect(run.code, run.stderr).toBe(0);
      expect(run.lastLine).toEqual(run.file);
      expect(run.lastLine).toMatchObject({ status: 'succeeded', exitCode: 0, runGroupId: 'scheduled__2026-03-01T02:17:00+00:00' });
      expect(run.stdout).toContain('clusters complete'); // the text summary stays in the task log
      // BashOperator's XCom is the line as a string; KubernetesPodOperator's is the parsed file.
      const check = checkExport(JSON.stringify(run.lastLine));
      expect(check.ok, check.message).toBe(true);
      expect(JSON.parse(check.message)).toEqual({ runIds: [run.lastLine.runId], rowsInserted: fleet.totalTasks(), rowsUpdated: 0 });
      expect(checkExport(run.file).ok).toBe(true);
    });

    it('a partial run: exit 0 (no Airflow retry), and check_export fails naming the cluster', async () => {
      const [broken] = fleet.clusters;
      if (!broken) throw new Error('fixture too small');
      broken.fault = { kind: 'status', status: 404, errorCode: 'DWS.0015', errorMsg: 'The cluster does not exist.' };
      try {
        const run = await wrap(['run', '--config', join(dir, 'config.json')], base(), 'partial');
        expect(run.code, run.stderr).toBe(0);
        expect(run.lastLine).toMatchObject({ status: 'partial', exitCode: 3 });
        const check = checkExport(run.lastLine);
        expect(check.ok).toBe(false);
        expect(check.message).toContain('partial, 1 cluster(s) need attention');
        expect(check.message).toContain(`${broken.projectId}/${broken.id} failed: DWS_API_ERROR`);
      } finally {
        delete broken.fault;
      }
    });

    it('an unreachable database: the exit code passes through so that Airflow retries', async () => {
      const run = await wrap(['run', '--config', join(dir, 'config.json')], { ...base(), DATABASE_URL: 'postgres://x:y@127.0.0.1:1/none' }, 'nodb');
      expect(run.code).toBe(5);
      expect(run.lastLine).toMatchObject({ status: 'error', exitCode: 5, outcome: 'database', retryable: true });
    });

    it('a refused command line: exit 0 with a summary saying so, and check_export fails without retry', async () => {
      const run = await wrap(['run', '--no-such-flag'], base(), 'usage');
      expect(run.code).toBe(0);
      expect(run.lastLine).toMatchObject({ status: 'error', exitCode: 2, outcome: 'usage_or_config', retryable: false, error: { code: 'NO_SUMMARY' } });
      expect(run.stderr).toContain('--no-such-flag');
      const check = checkExport(JSON.stringify(run.lastLine));
      expect(check).toMatchObject({ ok: false });
      expect(check.message).toContain('exit 2 (usage_or_config)');
    });

    it('check_export judges every shard of a mapped (sharded) export', () => {
      const ok = { exitCode: 0, status: 'succeeded', runId: 1, shard: { index: 0, count: 2 }, totals: { rowsInserted: 1, rowsUpdated: 0 } };
      const auth = { exitCode: 6, status: 'failed', runId: 2, shard: { index: 1, count: 2 }, outcome: 'auth', error: { code: 'DWS_AUTH_FAILED', message: 'refused' } };
      const check = checkExport([ok, auth]);
      expect(check.ok).toBe(false);
      expect(check.message).toBe('dws-task-exporter: shard 1/2: exit 6 (auth): DWS_AUTH_FAILED refused');
    });
  });
});
