/**
 * The one schema for the config file: defaults, limits and each key's
 * description (shown by editors through the generated JSON Schema). Unknown
 * keys are refused, so a typo never silently falls back to a default.
 */
import { IANAZone } from 'luxon';
import { z } from 'zod';
import { authSchema, clustersSchema, endpointSchema, projectSchema, regionSchema } from './project-schema.js';
import { dwsEndpointForRegion, regionOfEndpoint } from './regions.js';

export const configSchema = z
  .strictObject({
    $schema: z.string().optional().describe('The JSON Schema of this file, for editors (ignored by the exporter).'),
    endpoint: endpointSchema.optional().describe('DWS endpoint for projects that set neither "endpoint" nor "region".'),
    region: regionSchema.optional(),
    projects: z.array(projectSchema).min(1, 'configure at least one project').describe('The projects to export, each with its clusters.'),
    concurrency: z.int().min(1).max(256).default(8).describe('Clusters exported at once.'),
    pageSize: z.int().min(1).max(1000).default(100).describe('Tasks asked for per page ("limit"); servers may cap it.'),
    sourceTimeZone: z
      .string()
      .default('UTC')
      .refine((zone) => IANAZone.isValidZone(zone), 'must be an IANA time zone such as "UTC" or "Asia/Shanghai"')
      .describe('IANA time zone the API\'s zone-less start/end times are read in.'),
    offsetMode: z
      .enum(['auto', 'rows', 'pages'])
      .default('auto')
      .describe('What "offset" counts: detected per endpoint (auto), rows, or pages (as documented).'),
    orderBy: z.string().min(1).nullable().default('startTime').describe('"order_by" sent with ASC; null sends none.'),
    filters: z
      .strictObject({
        logicalClusterName: z.string().min(1).nullable().default(null).describe('Only tasks of this logical cluster.'),
        type: z.string().min(1).nullable().default(null).describe('Only tasks of this type, e.g. "Expand".'),
      })
      .prefault({})
      .describe('API-side filters (stored rows are the filtered tasks only).'),
    batchSize: z.int().min(1).max(100_000).default(5000).describe('Rows per database write (one transaction).'),
    batchMaxDelayMs: z.int().min(0).max(60_000).default(200).describe('A batch that has not reached batchSize is written this long after its oldest row (at once after the last cluster has walked).'),
    loader: z
      .enum(['auto', 'copy', 'insert'])
      .default('auto')
      .describe('COPY into a staging table, INSERT … unnest, or auto (COPY for larger batches).'),
    writers: z.int().min(1).max(8).default(2).describe('Batches written at once: the database merges one while the next is copied in.'),
    pageConcurrency: z.int().min(1).max(64).default(4).describe("Pages of one cluster fetched at once once its count is known."),
    http: z
      .strictObject({
        timeoutMs: z.int().min(100).max(600_000).default(30_000).describe('Per request: connect, headers and body.'),
        maxRetries: z.int().min(0).max(20).default(4).describe('Retries after 429, 5xx and network errors (never after 401/403).'),
        retryMinDelayMs: z.int().min(0).max(60_000).default(500).describe('First backoff ceiling (exponential, full jitter).'),
        retryMaxDelayMs: z.int().min(0).max(600_000).default(20_000).describe('Largest backoff, and the longest Retry-After honoured.'),
        // The gateway's default quota is ~200 requests/s per API, shared with
        // everything else the account runs: stay well below it.
        maxRequestsPerSecond: z.number().positive().max(10_000).default(100).describe('Request budget over the whole run, retries included.'),
        maxInFlight: z.int().min(1).max(1024).default(64).describe('Requests in flight over the whole run.'),
      })
      .prefault({})
      .describe('The DWS API client.'),
    database: z
      .strictObject({
        reconnectAttempts: z.int().min(0).max(100).default(5).describe('Retries of a write after the connection was lost.'),
        reconnectDelayMs: z.int().min(0).max(120_000).default(2000).describe('Delay before the first such retry (grows linearly).'),
      })
      .prefault({})
      .describe('The warehouse connection.'),
    // Below Kubernetes' default terminationGracePeriodSeconds (30 s).
    shutdownGraceMs: z
      .int()
      .min(0)
      .max(600_000)
      .default(20_000)
      .describe('After SIGTERM/SIGINT: time to store what was fetched before exiting.'),
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
export interface ExporterConfig extends Omit<Readonly<ParsedConfig>, '$schema' | 'projects' | 'endpoint' | 'region' | 'auth'> {
  readonly projects: readonly ProjectConfig[];
  readonly auth: AuthConfig;
}

export function resolveConfig(parsed: ParsedConfig): ExporterConfig {
  const { $schema: _schema, endpoint, region, projects, auth, ...rest } = parsed;
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
