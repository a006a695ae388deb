/**
 * Which credentials a run uses, in the order the official SDKs look for
 * them: the environment (values or *_FILE), then the metadata service, then
 * IAM user/password, the last two when the config's `auth` asks for them.
 * Credential files are read once here so a wrong path fails at start (exit 2)
 * instead of on every cluster.
 */
import { readFile } from 'node:fs/promises';
import { requireCredentials, type Credentials, type ExporterEnv, type SecretSource } from '../../config/env.js';
import { iamEndpointForRegion } from '../../config/regions.js';
import type { ExporterConfig } from '../../config/schema.js';
import { ConfigError, describeCause } from '../../core/errors.js';

export async function resolveCredentials(env: ExporterEnv, config: ExporterConfig): Promise<Credentials> {
  const credentials = env.credentials ?? fromConfig(env, config) ?? requireCredentials(env);
  await Promise.all(secretFiles(credentials).map(checkReadable));
  return credentials;
}

function fromConfig(env: ExporterEnv, config: ExporterConfig): Credentials | undefined {
  const { metadata, iam } = config.auth;
  if (metadata) return { kind: 'metadata', url: metadata.url };
  if (!iam) return undefined;
  if (!env.iamPassword) {
    throw new ConfigError('config auth.iam needs the password in DWS_IAM_PASSWORD or DWS_IAM_PASSWORD_FILE', 'env');
  }
  const iamEndpoints: Record<string, string> = {};
  for (const project of config.projects) {
    const endpoint = iam.endpoint ?? (project.region !== null ? iamEndpointForRegion(project.region) : null);
    if (endpoint === null) {
      throw new ConfigError(
        `auth.iam: the IAM endpoint of project ${project.projectId} is unknown: set "region" on the project or auth.iam.endpoint`,
        'config',
      );
    }
    iamEndpoints[project.projectId] = endpoint;
  }
  return { kind: 'iam-password', domainName: iam.domainName, userName: iam.userName, password: env.iamPassword, iamEndpoints };
}

type SecretFile = Extract<SecretSource, { readonly file: string }>;

function secretFiles(credentials: Credentials): SecretFile[] {
  const sources: (SecretSource | undefined)[] =
    credentials.kind === 'aksk-files'
      ? [credentials.accessKey, credentials.secretKey, credentials.securityToken]
      : credentials.kind === 'token-file'
        ? [credentials.token]
        : credentials.kind === 'iam-password'
          ? [credentials.password]
          : [];
  return sources.filter((s): s is SecretFile => s !== undefined && 'file' in s);
}

async function checkReadable(source: SecretFile): Promise<void> {
  const { variable } = source;
  let text: string;
  try {
    text = await readFile(source.file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read ${variable} (${source.file}): ${describeCause(error)}`, 'env');
  }
  if (text.trim() === '') throw new ConfigError(`${variable} (${source.file}) is empty`, 'env');
}

/** One line for the run log: where the credentials come from, never what they are. */
export function describeCredentials(credentials: Credentials): string {
  switch (credentials.kind) {
    case 'aksk':
      return `AK/SK from the environment${credentials.securityToken ? ' (temporary, with security token)' : ''}`;
    case 'token':
      return 'IAM token from DWS_AUTH_TOKEN';
    case 'aksk-files':
    case 'token-file':
      return `${credentials.kind === 'token-file' ? 'IAM token' : 'AK/SK'} from ${secretFiles(credentials)
        .map((s) => s.variable)
        .join(', ')} (re-read when changed)`;
    case 'metadata':
      return `temporary AK/SK from the metadata service at ${credentials.url} (refreshed before expiry)`;
    case 'iam-password':
      return `IAM tokens for user "${credentials.userName}" of account "${credentials.domainName}" (refreshed before expiry)`;
  }
}
