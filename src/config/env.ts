/**
 * The environment, validated once. Secrets are read here (values) or by
 * src/source/auth (files named here, re-read when they change); they leave
 * this module only inside a `Credentials` value, which is never logged (see
 * src/core/logger.ts redaction) nor written to the database.
 */
import { z } from 'zod';
import { ConfigError, quoteBadValue } from '../core/errors.js';
import { LOG_LEVELS, type LogLevel } from '../core/logger.js';

const blankToUndefined = (value: unknown): unknown =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;
const optionalString = z.preprocess(blankToUndefined, z.string().optional());

/** http(s)://[user:password@]host[:port]; the value is never echoed (it may hold a password). */
function isProxyUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/**
 * Whether a URL's user:password decodes: a literal "%" not followed by two
 * hex digits would make whoever decodes it (undici, the push) throw later,
 * after the run's work. A URL that does not parse is left to other checks.
 */
export function userinfoDecodes(value: string | URL): boolean {
  try {
    const url = typeof value === 'string' ? new URL(value) : value;
    decodeURIComponent(url.username);
    decodeURIComponent(url.password);
    return true;
  } catch (error) {
    return !(error instanceof URIError);
  }
}
export const USERINFO_ADVICE = 'its user:password is not valid percent-encoding: write a literal "%" as %25 (and percent-encode other special characters); the value is not shown';

// curl reads "proxy.example.com:3128" as http://: so do we.
const withScheme = (value: unknown): unknown =>
  typeof value === 'string' && value.trim() !== '' && !value.includes('://') ? `http://${value.trim()}` : value;

const proxyUrl = z.preprocess(
  (value) => withScheme(blankToUndefined(value)),
  z
    .string()
    .trim()
    .refine(isProxyUrl, 'must be an http:// or https:// proxy URL such as http://proxy.example.com:3128 (with credentials: http://user:password@proxy.example.com:3128)')
    .refine(userinfoDecodes, USERINFO_ADVICE)
    .optional(),
);

const envSchema = z.object({
  DATABASE_URL: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a libpq URL: postgres://user:password@host:5432/database')
      .optional(),
  ),
  DWS_EXPORTER_CONFIG: optionalString,
  DWS_EXPORTER_DATA_DIR: optionalString,
  HUAWEICLOUD_SDK_AK: optionalString,
  HUAWEICLOUD_SDK_SK: optionalString,
  HUAWEICLOUD_SDK_SECURITY_TOKEN: optionalString,
  DWS_AUTH_TOKEN: optionalString,
  // Kubernetes secrets mounted as files: the file holds the value.
  HUAWEICLOUD_SDK_AK_FILE: optionalString,
  HUAWEICLOUD_SDK_SK_FILE: optionalString,
  HUAWEICLOUD_SDK_SECURITY_TOKEN_FILE: optionalString,
  DWS_AUTH_TOKEN_FILE: optionalString,
  // With config auth.iam: the IAM user's password.
  DWS_IAM_PASSWORD: optionalString,
  DWS_IAM_PASSWORD_FILE: optionalString,
  LOG_LEVEL: z.preprocess(
    blankToUndefined,
    z.enum(LOG_LEVELS, { error: (issue) => `must be one of ${LOG_LEVELS.join(', ')}, ${quoteBadValue(String(issue.input))}` }).default('info'),
  ),
  // Egress proxy, as curl and undici's EnvHttpProxyAgent read it: lower case wins.
  http_proxy: proxyUrl,
  HTTP_PROXY: proxyUrl,
  https_proxy: proxyUrl,
  HTTPS_PROXY: proxyUrl,
  no_proxy: optionalString,
  NO_PROXY: optionalString,
});

/** A secret given as a value, or as a file (named by `variable`) read when used. */
export type SecretSource =
  | { readonly value: string }
  | { readonly file: string; readonly variable: string };

/**
 * Where the API credentials come from. The first two are fixed values; the
 * others are resolved while the run goes (files re-read when they change,
 * temporary keys and tokens refreshed before they expire): see
 * src/source/auth/credential-providers.ts.
 */
export type Credentials =
  | {
      readonly kind: 'aksk';
      readonly accessKey: string;
      readonly secretKey: string;
      readonly securityToken: string | undefined;
    }
  | { readonly kind: 'token'; readonly token: string }
  /** At least one part is a file. */
  | {
      readonly kind: 'aksk-files';
      readonly accessKey: SecretSource;
      readonly secretKey: SecretSource;
      readonly securityToken: SecretSource | undefined;
    }
  | { readonly kind: 'token-file'; readonly token: SecretSource }
  /** Temporary AK/SK + security token from the ECS/CCE metadata service at `url`. */
  | { readonly kind: 'metadata'; readonly url: string }
  /** Project-scoped IAM tokens obtained with user/password from `iamEndpoints[projectId]`. */
  | {
      readonly kind: 'iam-password';
      readonly domainName: string;
      readonly userName: string;
      readonly password: SecretSource;
      readonly iamEndpoints: Readonly<Record<string, string>>;
    };

/**
 * The egress proxy for the DWS API and IAM (never the metadata service):
 * `httpsProxy` for https:// URLs (falling back to `httpProxy`), `httpProxy`
 * for http:// ones, except hosts listed in `noProxy` (comma or space
 * separated names, `.domain` or `*.domain` suffixes, optional `:port`, or `*`).
 */
export interface ProxyEnv {
  readonly httpProxy: string | undefined;
  readonly httpsProxy: string | undefined;
  readonly noProxy: string | undefined;
}

export interface ExporterEnv {
  readonly databaseUrl: string | undefined;
  readonly configPath: string | undefined;
  readonly dataDir: string;
  readonly logLevel: LogLevel;
  /** From the environment alone; undefined when none is set (config `auth` may then supply them). */
  readonly credentials: Credentials | undefined;
  /** DWS_IAM_PASSWORD or DWS_IAM_PASSWORD_FILE, for config `auth.iam`. */
  readonly iamPassword?: SecretSource | undefined;
  /** HTTP(S)_PROXY / NO_PROXY; absent: every request goes direct. */
  readonly proxy?: ProxyEnv;
}

export const DEFAULT_DATA_DIR = '.dws-exporter';

const PROXY_VARIABLES = ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'no_proxy', 'NO_PROXY'] as const;

/**
 * The environment, validated. `ignoreProxy`: for commands that never use a
 * proxy (the demo's simulator is on loopback), whose proxy variables must
 * not stop them.
 */
export function readEnv(env: NodeJS.ProcessEnv = process.env, options: { readonly ignoreProxy?: boolean } = {}): ExporterEnv {
  const source = options.ignoreProxy ? Object.fromEntries(Object.entries(env).filter(([key]) => !(PROXY_VARIABLES as readonly string[]).includes(key))) : env;
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new ConfigError(first?.message ?? 'invalid', `env ${first?.path.join('.') ?? ''}`);
  }
  const e = parsed.data;
  return {
    databaseUrl: e.DATABASE_URL,
    configPath: e.DWS_EXPORTER_CONFIG,
    dataDir: e.DWS_EXPORTER_DATA_DIR ?? DEFAULT_DATA_DIR,
    logLevel: e.LOG_LEVEL,
    credentials: credentialsFrom(e),
    iamPassword: secretFrom(e, 'DWS_IAM_PASSWORD'),
    proxy: {
      httpProxy: e.http_proxy ?? e.HTTP_PROXY,
      httpsProxy: e.https_proxy ?? e.HTTPS_PROXY,
      noProxy: e.no_proxy ?? e.NO_PROXY,
    },
  };
}

type EnvValues = z.output<typeof envSchema>;
type SecretVariable = 'HUAWEICLOUD_SDK_AK' | 'HUAWEICLOUD_SDK_SK' | 'HUAWEICLOUD_SDK_SECURITY_TOKEN' | 'DWS_AUTH_TOKEN' | 'DWS_IAM_PASSWORD';

/** `X` or `X_FILE`, never both: which one would win is not obvious to whoever set them. */
function secretFrom(e: EnvValues, name: SecretVariable): SecretSource | undefined {
  const value = e[name];
  const file = e[`${name}_FILE`];
  if (value !== undefined && file !== undefined) {
    throw new ConfigError(`set ${name} or ${name}_FILE, not both`, 'env');
  }
  if (file !== undefined) return { file: file.trim(), variable: `${name}_FILE` };
  return value === undefined ? undefined : { value: value.trim() };
}

/** The environment's credentials, in the official SDKs' order: AK/SK first, then a token. */
function credentialsFrom(e: EnvValues): Credentials | undefined {
  const ak = secretFrom(e, 'HUAWEICLOUD_SDK_AK');
  const sk = secretFrom(e, 'HUAWEICLOUD_SDK_SK');
  const securityToken = secretFrom(e, 'HUAWEICLOUD_SDK_SECURITY_TOKEN');
  if (ak !== undefined || sk !== undefined) {
    if (ak === undefined || sk === undefined) {
      throw new ConfigError(
        'HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK must be set together (each as a value or as a _FILE)',
        'env',
      );
    }
    if ('value' in ak && 'value' in sk && (securityToken === undefined || 'value' in securityToken)) {
      return { kind: 'aksk', accessKey: ak.value, secretKey: sk.value, securityToken: securityToken?.value };
    }
    return { kind: 'aksk-files', accessKey: ak, secretKey: sk, securityToken };
  }
  const token = secretFrom(e, 'DWS_AUTH_TOKEN');
  if (token === undefined) return undefined;
  return 'value' in token ? { kind: 'token', token: token.value } : { kind: 'token-file', token };
}

export function requireCredentials(env: ExporterEnv): Credentials {
  if (!env.credentials) {
    throw new ConfigError(
      'no API credentials: set HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK ' +
        '(optionally HUAWEICLOUD_SDK_SECURITY_TOKEN; each also as a _FILE), or DWS_AUTH_TOKEN[_FILE], ' +
        'or configure "auth": {"metadata": {}} or "auth": {"iam": {...}} with DWS_IAM_PASSWORD[_FILE]',
      'env',
    );
  }
  return env.credentials;
}
