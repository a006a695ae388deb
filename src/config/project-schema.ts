/** The config file's building blocks: endpoints, ids, regions, a project and its cluster selection, auth. */
import { z } from 'zod';
import { isRegionId } from './regions.js';

export const endpointSchema = z
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

// What the API accepts; anything else would fail every night with a retryable code.
const CLUSTER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const PROJECT_ID = /^[0-9a-f]{32}$/i;

const clusterIdSchema = z
  .string()
  .trim()
  .regex(
    CLUSTER_ID,
    'not a DWS cluster id: cluster ids are UUIDs such as "9b7ff56b-47b3-4d00-a1fd-4c023d34404b" ' +
      '(`dws-task-exporter discover` lists them); to select clusters by name, use {"include": ["name"]}',
  );

export const regionSchema = z
  .string()
  .trim()
  .refine(isRegionId, 'must be a Huawei Cloud region id such as "cn-north-4" or "eu-west-101"')
  .describe('Huawei Cloud region id, e.g. "cn-north-4": the DWS endpoint is derived from it.');

// A cluster id, or a cluster name where "*" matches any run of characters.
const clusterPatternSchema = z.string().trim().min(1, 'must not be empty');

/**
 * A list of ids exports exactly those (no API call to list them); "all" or
 * include/exclude discovers the project's clusters with ListClusters first.
 */
export const clustersSchema = z
  .union(
    [
      z.literal('all'),
      z.array(clusterIdSchema).min(1, 'list at least one cluster id'),
      z.strictObject({
        include: z
          .array(clusterPatternSchema)
          .min(1, 'list at least one cluster id or name, or leave "include" out')
          .optional()
          .describe('Cluster ids or names to export ("*" matches any run of characters); default: every cluster.'),
        exclude: z
          .array(clusterPatternSchema)
          .default([])
          .describe('Cluster ids or names to leave out ("*" matches any run of characters).'),
      }),
    ],
    { error: 'must be "all", a list of cluster ids, or {"include": [...], "exclude": [...]} of cluster ids or names' },
  )
  .describe(
    'Which clusters to export: "all" (listed with ListClusters at each run), a list of cluster ids (UUIDs, not listed), ' +
      'or {"include": [...], "exclude": [...]} of ids or names.',
  );

export const projectSchema = z.strictObject({
  projectId: z
    .string()
    .trim()
    .regex(PROJECT_ID, 'not a Huawei Cloud project id: project ids are 32 hexadecimal characters (console: My Credentials → Projects)')
    .describe('Huawei Cloud project id (32 hexadecimal characters); project ids are per region.'),
  endpoint: endpointSchema.optional().describe("This project's DWS endpoint; wins over \"region\" (e.g. a proxy)."),
  region: regionSchema.optional(),
  clusters: clustersSchema,
});

/** Where credentials come from when the environment names none (see src/source/auth/resolve-credentials.ts). */
export const authSchema = z
  .strictObject({
    metadata: z
      .strictObject({
        url: endpointSchema.default('http://169.254.169.254').describe('The metadata service (never reached through a proxy).'),
      })
      .optional()
      .describe('Present (even as {}): use the ECS/CCE metadata service\'s temporary AK/SK (an agency on the node).'),
    iam: z
      .strictObject({
        domainName: z.string().trim().min(1, 'the account (domain) name is required').describe('The account (domain) name.'),
        userName: z.string().trim().min(1, 'the IAM user name is required').describe('The IAM user name.'),
        endpoint: endpointSchema.optional().describe('IAM endpoint; default https://iam.{region}.myhuaweicloud.com per project.'),
      })
      .optional()
      .describe('Present: obtain IAM tokens with user/password; the password comes from DWS_IAM_PASSWORD[_FILE].'),
  })
  .prefault({})
  .describe('Credentials when the environment sets none (HUAWEICLOUD_SDK_AK/SK or DWS_AUTH_TOKEN win).');
