/**
 * The one schema for the config file. Every key here is documented in the
 * README's configuration reference; unknown keys are refused so a typo never
 * silently falls back to a default.
 */
import { IANAZone } from 'luxon';
import { z } from 'zod';

const endpointSchema = z
  .string()
  .trim()
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.search === '';
    } catch {
      return false;
    }
  }, 'must be an http(s) URL without query, e.g. "https://dws.cn-north-4.myhuaweicloud.com"')
  .transform((value) => value.replace(/\/+$/, ''));

// Ids go into URL paths: refuse anything that could change the path.
const idSchema = (what: string) =>
  z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, `${what} may contain only letters, digits, "-" and "_"`);

const projectSchema = z.strictObject({
  projectId: idSchema('projectId'),
  endpoint: endpointSchema.optional(),
  clusters: z.array(idSchema('cluster id')).min(1, 'list at least one cluster id'),
});

export const configSchema = z
  .strictObject({
    endpoint: endpointSchema.optional(),
    projects: z.array(projectSchema).min(1, 'configure at least one project'),
    concurrency: z.int().min(1).max(256).default(8),
    pageSize: z.int().min(1).max(1000).default(100),
    sourceTimeZone: z
      .string()
      .default('UTC')
      .refine((zone) => IANAZone.isValidZone(zone), 'must be an IANA time zone such as "UTC" or "Asia/Shanghai"'),
    offsetMode: z.enum(['auto', 'rows', 'pages']).default('auto'),
    orderBy: z.string().min(1).nullable().default('startTime'),
    filters: z
      .strictObject({
        logicalClusterName: z.string().min(1).nullable().default(null),
        type: z.string().min(1).nullable().default(null),
      })
      .prefault({}),
    batchSize: z.int().min(1).max(100_000).default(5000),
    // A batch is written when it reaches batchSize rows or this long after its first row.
    batchMaxDelayMs: z.int().min(0).max(60_000).default(200),
    loader: z.enum(['auto', 'copy', 'insert']).default('auto'),
    pageConcurrency: z.int().min(1).max(64).default(4),
    http: z
      .strictObject({
        timeoutMs: z.int().min(100).max(600_000).default(30_000),
        maxRetries: z.int().min(0).max(20).default(4),
        retryMinDelayMs: z.int().min(0).max(60_000).default(500),
        retryMaxDelayMs: z.int().min(0).max(600_000).default(20_000),
        // The gateway's default quota is ~200 requests/s per API, shared with
        // everything else the account runs: stay well below it.
        maxRequestsPerSecond: z.number().positive().max(10_000).default(100),
        maxInFlight: z.int().min(1).max(1024).default(64),
      })
      .prefault({}),
    database: z
      .strictObject({
        reconnectAttempts: z.int().min(0).max(100).default(5),
        reconnectDelayMs: z.int().min(0).max(120_000).default(2000),
      })
      .prefault({}),
    // Below Kubernetes' default terminationGracePeriodSeconds (30 s).
    shutdownGraceMs: z.int().min(0).max(600_000).default(20_000),
  })
  .superRefine((config, ctx) => {
    const seen = new Map<string, string>();
    config.projects.forEach((project, p) => {
      if (!project.endpoint && !config.endpoint) {
        ctx.addIssue({
          code: 'custom',
          path: ['projects', p, 'endpoint'],
          message: 'no endpoint: set "endpoint" on the project or at the top level',
        });
      }
      project.clusters.forEach((clusterId, c) => {
        const where = `projects[${p}].clusters[${c}]`;
        const first = seen.get(clusterId);
        if (first) {
          ctx.addIssue({
            code: 'custom',
            path: ['projects', p, 'clusters', c],
            message: `cluster ${clusterId} is listed twice (first at ${first})`,
          });
        } else {
          seen.set(clusterId, where);
        }
      });
    });
  });

export type ConfigInput = z.input<typeof configSchema>;
type ParsedConfig = z.output<typeof configSchema>;

export interface ProjectConfig {
  readonly projectId: string;
  readonly endpoint: string;
  readonly clusters: readonly string[];
}

/** The validated config, with each project's endpoint resolved. */
export interface ExporterConfig extends Omit<Readonly<ParsedConfig>, 'projects' | 'endpoint'> {
  readonly projects: readonly ProjectConfig[];
}

export function resolveConfig(parsed: ParsedConfig): ExporterConfig {
  const { endpoint, projects, ...rest } = parsed;
  return {
    ...rest,
    projects: projects.map((project) => ({
      projectId: project.projectId,
      // superRefine guarantees one of the two is present.
      endpoint: project.endpoint ?? endpoint ?? '',
      clusters: project.clusters,
    })),
  };
}
