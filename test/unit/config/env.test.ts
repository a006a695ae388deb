/**
 * The environment: credentials in the official SDKs' order (AK/SK, then a
 * token), blank values treated as unset, errors that name the variable and
 * never echo a secret.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_DATA_DIR, readEnv, requireCredentials, type ExporterEnv } from '../../../src/config/env.js';
import { ConfigError } from '../../../src/core/errors.js';

const AK = 'AKIDEXAMPLE7QTWAOYTT';
const SK = 'sk-MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc';
const SECURITY_TOKEN = 'st-gQpDaW9uLXNvdXRoZWFzdC0xIkcwRQIh';
const TOKEN = 'MIIZ-token-0bWFpbiI6eyJuYW1lIjoiZXhh';
const DB_PASSWORD = 'pw-Sup3rS3cret';
const SECRETS = [AK, SK, SECURITY_TOKEN, TOKEN, DB_PASSWORD];

/** The ConfigError readEnv throws; fails the test when it returns. */
function envError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    readEnv(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError, readEnv returned');
}

describe('defaults', () => {
  it('an empty environment: no database URL, no config path, default data dir, log level info, no credentials', () => {
    const env = readEnv({});
    expect(env).toMatchObject({
      databaseUrl: undefined,
      configPath: undefined,
      dataDir: DEFAULT_DATA_DIR,
      logLevel: 'info',
      credentials: undefined,
    });
  });

  it('reads DATABASE_URL (postgres:// and postgresql://), the config path and the data dir', () => {
    expect(readEnv({ DATABASE_URL: 'postgres://u@h:5432/db' }).databaseUrl).toBe('postgres://u@h:5432/db');
    expect(readEnv({ DATABASE_URL: 'postgresql://u@h/db' }).databaseUrl).toBe('postgresql://u@h/db');
    const env = readEnv({ DWS_EXPORTER_CONFIG: '/etc/dws/exporter.json', DWS_EXPORTER_DATA_DIR: '/var/lib/dws' });
    expect(env.configPath).toBe('/etc/dws/exporter.json');
    expect(env.dataDir).toBe('/var/lib/dws');
  });

  it('ignores unrelated variables', () => {
    expect(() => readEnv({ PATH: '/usr/bin', HOME: '/root', HUAWEICLOUD_SDK_REGION: 'cn-north-4' })).not.toThrow();
  });
});

describe('credentials', () => {
  it('AK and SK give aksk credentials, trimmed, without a security token', () => {
    expect(readEnv({ HUAWEICLOUD_SDK_AK: ` ${AK} `, HUAWEICLOUD_SDK_SK: `${SK}\n` }).credentials).toEqual({
      kind: 'aksk',
      accessKey: AK,
      secretKey: SK,
      securityToken: undefined,
    });
  });

  it('AK, SK and a security token (temporary credentials) carry the token', () => {
    const env = readEnv({ HUAWEICLOUD_SDK_AK: AK, HUAWEICLOUD_SDK_SK: SK, HUAWEICLOUD_SDK_SECURITY_TOKEN: SECURITY_TOKEN });
    expect(env.credentials).toEqual({ kind: 'aksk', accessKey: AK, secretKey: SK, securityToken: SECURITY_TOKEN });
  });

  it('AK without SK is refused, naming both variables', () => {
    const error = envError({ HUAWEICLOUD_SDK_AK: AK });
    expect(error.message).toContain('HUAWEICLOUD_SDK_AK');
    expect(error.message).toContain('HUAWEICLOUD_SDK_SK');
    expect(error.source).toBe('env');
  });

  it('SK without AK is refused', () => {
    expect(envError({ HUAWEICLOUD_SDK_SK: SK }).message).toContain('must be set together');
  });

  it('AK/SK are preferred over a token when both are set', () => {
    const env = readEnv({ HUAWEICLOUD_SDK_AK: AK, HUAWEICLOUD_SDK_SK: SK, DWS_AUTH_TOKEN: TOKEN });
    expect(env.credentials?.kind).toBe('aksk');
  });

  it('a token alone gives token credentials, trimmed', () => {
    expect(readEnv({ DWS_AUTH_TOKEN: ` ${TOKEN}\n` }).credentials).toEqual({ kind: 'token', token: TOKEN });
  });

  it('blank values are treated as unset', () => {
    expect(readEnv({ HUAWEICLOUD_SDK_AK: '', HUAWEICLOUD_SDK_SK: '  ', DWS_AUTH_TOKEN: '\t' }).credentials).toBeUndefined();
    // A blank SK next to a real AK is a missing SK, not an empty secret.
    expect(envError({ HUAWEICLOUD_SDK_AK: AK, HUAWEICLOUD_SDK_SK: ' ' }).message).toContain('must be set together');
    // A blank security token is no token.
    const env = readEnv({ HUAWEICLOUD_SDK_AK: AK, HUAWEICLOUD_SDK_SK: SK, HUAWEICLOUD_SDK_SECURITY_TOKEN: '   ' });
    expect(env.credentials).toEqual({ kind: 'aksk', accessKey: AK, secretKey: SK, securityToken: undefined });
    // Blank AK/SK next to a token: the token is used.
    expect(readEnv({ HUAWEICLOUD_SDK_AK: ' ', HUAWEICLOUD_SDK_SK: '', DWS_AUTH_TOKEN: TOKEN }).credentials).toEqual({
      kind: 'token',
      token: TOKEN,
    });
  });

  it('blank DATABASE_URL, LOG_LEVEL and paths are treated as unset', () => {
    const env = readEnv({ DATABASE_URL: ' ', LOG_LEVEL: '', DWS_EXPORTER_CONFIG: '', DWS_EXPORTER_DATA_DIR: ' ' });
    expect(env.databaseUrl).toBeUndefined();
    expect(env.logLevel).toBe('info');
    expect(env.configPath).toBeUndefined();
    expect(env.dataDir).toBe(DEFAULT_DATA_DIR);
  });
});

describe('requireCredentials', () => {
  it('returns the credentials when there are some', () => {
    const env = readEnv({ DWS_AUTH_TOKEN: TOKEN });
    expect(requireCredentials(env)).toBe(env.credentials);
  });

  it('without credentials, throws a ConfigError from "env" that names the variables to set', () => {
    const env: ExporterEnv = readEnv({});
    let error: unknown;
    try {
      requireCredentials(env);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message.startsWith('env: no API credentials')).toBe(true);
    for (const variable of ['HUAWEICLOUD_SDK_AK', 'HUAWEICLOUD_SDK_SK', 'HUAWEICLOUD_SDK_SECURITY_TOKEN', 'DWS_AUTH_TOKEN']) {
      expect(message).toContain(variable);
    }
  });
});

describe('DATABASE_URL and LOG_LEVEL validation', () => {
  it('an invalid DATABASE_URL is refused, naming the variable', () => {
    const error = envError({ DATABASE_URL: 'mysql://user@host/db' });
    expect(error.source).toBe('env DATABASE_URL');
    expect(error.message).toContain('DATABASE_URL');
    expect(error.message).toContain('postgres://');
  });

  it('accepts every documented log level', () => {
    for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const) {
      expect(readEnv({ LOG_LEVEL: level }).logLevel).toBe(level);
    }
  });

  it('an unknown LOG_LEVEL is refused, naming the variable and the allowed values', () => {
    const error = envError({ LOG_LEVEL: 'verbose' });
    expect(error.source).toBe('env LOG_LEVEL');
    expect(error.message).toBe('env LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent, not "verbose"');
  });

  it('LOG_LEVEL is case-sensitive: "INFO" is refused', () => {
    expect(envError({ LOG_LEVEL: 'INFO' }).message).toContain('LOG_LEVEL');
  });
});

describe('secrets never appear in error messages', () => {
  const allSecrets: NodeJS.ProcessEnv = {
    HUAWEICLOUD_SDK_AK: AK,
    HUAWEICLOUD_SDK_SK: SK,
    HUAWEICLOUD_SDK_SECURITY_TOKEN: SECURITY_TOKEN,
    DWS_AUTH_TOKEN: TOKEN,
  };

  it.each<[string, NodeJS.ProcessEnv]>([
    ['AK without SK', { HUAWEICLOUD_SDK_AK: AK, HUAWEICLOUD_SDK_SECURITY_TOKEN: SECURITY_TOKEN, DWS_AUTH_TOKEN: TOKEN }],
    ['SK without AK', { HUAWEICLOUD_SDK_SK: SK, HUAWEICLOUD_SDK_SECURITY_TOKEN: SECURITY_TOKEN }],
    ['a DATABASE_URL with a password but the wrong scheme', { ...allSecrets, DATABASE_URL: `mysql://admin:${DB_PASSWORD}@db:3306/x` }],
    ['a DATABASE_URL that is only the password', { ...allSecrets, DATABASE_URL: DB_PASSWORD }],
    ['an invalid LOG_LEVEL next to every secret', { ...allSecrets, LOG_LEVEL: 'loud' }],
    ['a secret pasted into LOG_LEVEL', { LOG_LEVEL: SK }],
    ['a value and a _FILE for the same secret', { ...allSecrets, HUAWEICLOUD_SDK_SK_FILE: '/run/secrets/sk' }],
  ])('%s', (_label, env) => {
    const error = envError(env);
    for (const secret of SECRETS) {
      expect(error.message).not.toContain(secret);
      expect(error.source).not.toContain(secret);
      expect(String(error)).not.toContain(secret);
      expect(JSON.stringify(error)).not.toContain(secret);
    }
  });

  it('the requireCredentials message contains no value from the environment', () => {
    const env = readEnv({ DATABASE_URL: `postgres://admin:${DB_PASSWORD}@db/x` });
    let message = '';
    try {
      requireCredentials(env);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).not.toBe('');
    expect(message).not.toContain(DB_PASSWORD);
  });
});

describe('egress proxy (HTTP_PROXY, HTTPS_PROXY, NO_PROXY)', () => {
  const PROXY_PASSWORD = 'proxy-pw-7Gh2-never-print';

  it('none set: no proxy', () => {
    expect(readEnv({}).proxy).toEqual({ httpProxy: undefined, httpsProxy: undefined, noProxy: undefined });
  });

  it('reads the upper-case variables, trimmed', () => {
    const env = readEnv({ HTTP_PROXY: ' http://proxy:3128 ', HTTPS_PROXY: 'https://proxy:3129', NO_PROXY: 'localhost,.internal' });
    expect(env.proxy).toEqual({ httpProxy: 'http://proxy:3128', httpsProxy: 'https://proxy:3129', noProxy: 'localhost,.internal' });
  });

  it('lower case wins over upper case, as in curl and undici', () => {
    const env = readEnv({
      HTTP_PROXY: 'http://upper:1',
      http_proxy: 'http://lower:1',
      HTTPS_PROXY: 'http://upper:2',
      https_proxy: 'http://lower:2',
      NO_PROXY: 'upper.example',
      no_proxy: 'lower.example',
    });
    expect(env.proxy).toEqual({ httpProxy: 'http://lower:1', httpsProxy: 'http://lower:2', noProxy: 'lower.example' });
  });

  it('a blank variable is unset (the other case of the same name then applies)', () => {
    expect(readEnv({ https_proxy: ' ', HTTPS_PROXY: 'http://proxy:3128' }).proxy?.httpsProxy).toBe('http://proxy:3128');
  });

  it.each([['HTTPS_PROXY'], ['http_proxy']])('a %s whose user:password is not valid percent-encoding (a literal "%") is a ConfigError at start, never echoing it', (variable) => {
    const error = envError({ [variable]: `http://exporter:50%off-${PROXY_PASSWORD}@proxy.corp:3128` });
    expect(error.message).toMatch(new RegExp(`^env ${variable}: .*%25`));
    expect(error.message).not.toContain(PROXY_PASSWORD);
    expect(error.message).not.toContain('proxy.corp');
    expect(readEnv({ [variable]: `http://exporter:50%25off@proxy.corp:3128` }).proxy).toBeDefined();
  });

  it('keeps credentials in the URL (undici sends them as Proxy-Authorization)', () => {
    const url = `http://exporter:${PROXY_PASSWORD}@proxy.corp:3128`;
    expect(readEnv({ HTTPS_PROXY: url }).proxy?.httpsProxy).toBe(url);
  });

  it('reads a proxy given without a scheme as http://, as curl does', () => {
    expect(readEnv({ HTTPS_PROXY: 'proxy.corp:3128' }).proxy?.httpsProxy).toBe('http://proxy.corp:3128');
    expect(readEnv({ https_proxy: `exporter:${PROXY_PASSWORD}@proxy.corp:3128` }).proxy?.httpsProxy).toBe(
      `http://exporter:${PROXY_PASSWORD}@proxy.corp:3128`,
    );
  });

  it('ignores proxy variables, even malformed ones, for a command that never uses a proxy', () => {
    expect(readEnv({ HTTP_PROXY: 'socks5://proxy.corp:1080' }, { ignoreProxy: true }).proxy).toEqual({
      httpProxy: undefined,
      httpsProxy: undefined,
      noProxy: undefined,
    });
  });

  it.each([
    ['HTTP_PROXY', 'socks5://proxy.corp:1080'],
    ['http_proxy', 'http://'],
    ['HTTP_PROXY', 'not a url'],
  ])('a malformed %s (%j) is a ConfigError naming the variable, never echoing the value', (variable, value) => {
    const error = envError({ [variable]: value });
    expect(error.message).toBe(
      `env ${variable}: must be an http:// or https:// proxy URL such as http://proxy.example.com:3128 ` +
        '(with credentials: http://user:password@proxy.example.com:3128)',
    );
    expect(error.message).not.toContain(PROXY_PASSWORD);
    expect(error.message).not.toContain('proxy.corp');
  });
});
