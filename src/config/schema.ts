/**
 * The one schema for the config file. Every key here is documented in the
 * README's configuration reference; unknown keys are refused so a typo never
 * silently falls back to a default.
 */
import { IANAZone } from 'luxon';
import { z } from 'zod';
import { dwsEndpointForRegion, isRegionId, regionOfEndpoint } from './regions.js';

const endpointSchema = z
  .string()
  .trim()
  .refine((value) => {
    try {
      const url = new URL(value);
      // Checked on the text: new URL('https://h?').search is '' and would let a bare '?' through.
      return (url.protocol === 'https:' || url.protocol === 'http:') && !/[?#]/.test(value);
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

const regionSchema = z
  .string()
  .trim()
  .refine(isRegionId, 'must be a Huawei Cloud region id such as "cn-north-4" or "eu-west-101"');

// A cluster id, or a cluster name where "*" matches any run of characters.
const clusterPatternSchema = z.string().trim().min(1, 'must not be empty');

/**
 * A list of ids exports exactly those (no API call to list them); "all" or
 * include/exclude discovers the project's clusters with ListClusters first.
 */
const clustersSchema = z.union(
  [
    z.literal('all'),
    z.array(idSchema('cluster id')).min(1, 'list at least one cluster id'),
    z.strictObject({
      include: z.array(clusterPatternSchema).min(1, 'list at least one cluster id or name, or leave "include" out').optional(),
      exclude: z.array(clusterPatternSchema).default([]),
    }),
  ],
  { error: 'must be "all", a list of cluster ids, or {"include": [...], "exclude": [...]} of cluster ids or names' },
);

const projectSchema = z.strictObject({
  projectId: idSchema('projectId'),
  endpoint: endpointSchema.optional(),
  region: regionSchema.optional(),
  clusters: clustersSchema,
});

/** Where credentials come from when the environment names none (see src/source/auth/resolve-credentials.ts). */
const authSchema = z
  .strictObject({
    // Present (even as {}) = use the ECS/CCE metadata service's temporary AK/SK.
    metadata: z
      .strictObject({ url: endpointSchema.default('http://169.254.169.254') })
      .optional(),
    // Present = obtain IAM tokens with user/password (password from DWS_IAM_PASSWORD[_FILE]).
    iam: z
      .strictObject({
        domainName: z.string().trim().min(1, 'the account (domain) name is required'),
        userName: z.string().trim().min(1, 'the IAM user name is required'),
        // Default: https://iam.{region}.myhuaweicloud.com per project region.
        endpoint: endpointSchema.optional(),
      })
      .optional(),
  })
  .prefault({});

export const configSchema = z
  .strictObject({
    endpoint: endpointSchema.optional(),
    region: regionSchema.optional(),
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
    // Batches written at once: the database merges one while the next is copied in.
    writers: z.int().min(1).max(8).default(2),
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
    auth: authSchema,
  })
  .superRefine((config, ctx) => {
    const seen = new Map<string, string>();
    const projectsSeen = new Map<string, { readonly at: number; readonly discovers: boolean }>();
    config.projects.forEach((project, p) => {
      if (!project.endpoint && !project.region && !config.endpoint && !config.region) {
        ctx.addIssue({
          code: 'custom',
          path: ['projects', p, 'endpoint'],
          message: 'no endpoint: set "endpoint" or "region" on the project or at the top level',
        });
      }
      const discovers = !Array.isArray(project.clusters);
      const earlier = projectsSeen.get(project.projectId);
      if (earlier && (discovers || earlier.discovers)) {
        ctx.addIssue({
          code: 'custom',
          path: ['projects', p, 'projectId'],
          message:
            `project ${project.projectId} is configured twice (first at projects[${earlier.at}]); ` +
            'with "all" or include/exclude its clusters would be exported twice',
        });
      }
      if (!earlier) projectsSeen.set(project.projectId, { at: p, discovers });
      if (!Array.isArray(project.clusters)) return;
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

/** Which clusters of a project a run exports. */
export type ClusterSelection =
  /** Exactly these ids; the cluster list is not asked for. */
  | { readonly mode: 'ids'; readonly ids: readonly string[] }
  /**
   * Every cluster ListClusters reports (`include` null), or those matching an
   * `include` pattern, minus those matching an `exclude` pattern. Patterns
   * are cluster ids or names; "*" in a name matches any run of characters.
   */
  | { readonly mode: 'discover'; readonly include: readonly string[] | null; readonly exclude: readonly string[] };

export interface ProjectConfig {
  readonly projectId: string;
  /** Resolved: the project's endpoint, else its region's, else the top-level endpoint, else the top-level region's. */
  readonly endpoint: string;
  /** The project's region if known (configured, or read from an official endpoint); recorded in dws.clusters. */
  readonly region: string | null;
  readonly clusters: ClusterSelection;
}

export interface AuthConfig {
  readonly metadata: { readonly url: string } | null;
  readonly iam: { readonly domainName: string; readonly userName: string; readonly endpoint: string | null } | null;
}

/** The validated config, with each project's endpoint and region resolved. */
export interface ExporterConfig extends Omit<Readonly<ParsedConfig>, 'projects' | 'endpoint' | 'region' | 'auth'> {
  readonly projects: readonly ProjectConfig[];
  readonly auth: AuthConfig;
}

export function resolveConfig(parsed: ParsedConfig): ExporterConfig {
  const { endpoint, region, projects, auth, ...rest } = parsed;
  return {
    ...rest,
    auth: {
      metadata: auth.metadata ?? null,
      iam: auth.iam ? { ...auth.iam, endpoint: auth.iam.endpoint ?? null } : null,
    },
    projects: projects.map((project) => {
      // An explicit endpoint always wins over a region, so a proxy (or the
      // simulator) can stand in for a region; superRefine guarantees one of the four.
      const resolved =
        project.endpoint ??
        (project.region !== undefined ? dwsEndpointForRegion(project.region) : undefined) ??
        endpoint ??
        (region !== undefined ? dwsEndpointForRegion(region) : '');
      return {
        projectId: project.projectId,
        endpoint: resolved,
        region: project.region ?? regionOfEndpoint(resolved) ?? (project.endpoint === undefined ? (region ?? null) : null),
        clusters: selectionOf(project.clusters),
      };
    }),
  };
}

function selectionOf(clusters: z.output<typeof clustersSchema>): ClusterSelection {
  if (clusters === 'all') return { mode: 'discover', include: null, exclude: [] };
  if (Array.isArray(clusters)) return { mode: 'ids', ids: clusters };
  return { mode: 'discover', include: clusters.include ?? null, exclude: clusters.exclude };
}
