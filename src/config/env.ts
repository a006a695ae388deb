/**
 * The environment, validated once. Secrets are read here and nowhere else;
 * they leave this module only inside a `Credentials` value, which is never
 * logged (see src/report/logger.ts redaction) nor written to the database.
 */
import { z } from 'zod';
import { ConfigError } from '../errors.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const blankToUndefined = (value: unknown): unknown =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;
const optionalString = z.preprocess(blankToUndefined, z.string().optional());

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
  LOG_LEVEL: z.preprocess(blankToUndefined, z.enum(LOG_LEVELS).default('info')),
});

export type LogLevel = (typeof LOG_LEVELS)[number];

export type Credentials =
  | {
      readonly kind: 'aksk';
      readonly accessKey: string;
      readonly secretKey: string;
      readonly securityToken: string | undefined;
    }
  | { readonly kind: 'token'; readonly token: string };

export interface ExporterEnv {
  readonly databaseUrl: string | undefined;
  readonly configPath: string | undefined;
  readonly dataDir: string;
  readonly logLevel: LogLevel;
  /** Undefined when none is set; commands that call the API require them. */
  readonly credentials: Credentials | undefined;
}

export const DEFAULT_DATA_DIR = '.dws-exporter';

export function readEnv(env: NodeJS.ProcessEnv = process.env): ExporterEnv {
  const parsed = envSchema.safeParse(env);
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
  };
}

function credentialsFrom(e: z.output<typeof envSchema>): Credentials | undefined {
  const { HUAWEICLOUD_SDK_AK: ak, HUAWEICLOUD_SDK_SK: sk } = e;
  if (ak !== undefined || sk !== undefined) {
    if (ak === undefined || sk === undefined) {
      throw new ConfigError(
        'HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK must be set together',
        'env',
      );
    }
    return {
      kind: 'aksk',
      accessKey: ak.trim(),
      secretKey: sk.trim(),
      securityToken: e.HUAWEICLOUD_SDK_SECURITY_TOKEN?.trim(),
    };
  }
  if (e.DWS_AUTH_TOKEN !== undefined) return { kind: 'token', token: e.DWS_AUTH_TOKEN.trim() };
  return undefined;
}

export function requireCredentials(env: ExporterEnv): Credentials {
  if (!env.credentials) {
    throw new ConfigError(
      'no API credentials: set HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK ' +
        '(optionally HUAWEICLOUD_SDK_SECURITY_TOKEN), or DWS_AUTH_TOKEN',
      'env',
    );
  }
  return env.credentials;
}
