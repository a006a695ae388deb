/**
 * The logger: JSON for collectors, one readable line on a terminal, and
 * secrets redacted by configuration in both, wherever a careless log call
 * might put them.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/errors.js';
import { REDACTED, REDACT_PATHS, createLogger, formatPrettyLine, logFormatFor, type LogFormat } from '../../../src/core/logger.js';

const SECRETS = {
  sk: 'SK-9f8e7d6c5b4a39281706f5e4d3c2b1a0',
  token: 'MIIEhwYJKoZIhvcNAQcCoIIEeDCCBHQCAQExDTALBglghkgBZQMEAgEwggKZBgkq',
  signature: 'a3f1c2e9b8d7f6a5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d',
  authorization: 'SDK-HMAC-SHA256 Access=AKEXAMPLE, SignedHeaders=host;x-sdk-date, Signature=deadbeefcafebabe',
  securityToken: 'gQpjbi1ub3J0aC00hYx0Ym-securitytoken',
  password: 'pg-pa55word-do-not-log',
  databaseUrl: 'postgres://exporter:pg-pa55word-do-not-log@warehouse:5432/analytics',
  iamPassword: 'iam-pa55word',
};

function capture(format: LogFormat): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const logger = createLogger('trace', { write: (chunk: string) => void lines.push(chunk) }, { format, color: false });
  return { lines, logger };
}

/** Every shape a careless log call could take. */
function logEverySecretShape(logger: ReturnType<typeof createLogger>): void {
  logger.info({ headers: { authorization: SECRETS.authorization, 'x-auth-token': SECRETS.token, 'x-security-token': SECRETS.securityToken } }, 'request headers');
  logger.info({ request: { headers: { authorization: SECRETS.authorization, 'x-auth-token': SECRETS.token, 'x-sdk-signature': SECRETS.signature } } }, 'nested headers');
  logger.info({ credentials: { kind: 'aksk', accessKey: 'AKEXAMPLE', secretKey: SECRETS.sk } }, 'credentials object');
  logger.info({ auth: { secretKey: SECRETS.sk, securityToken: SECRETS.securityToken, token: SECRETS.token, signature: SECRETS.signature } }, 'auth fields one level down');
  logger.warn({ token: SECRETS.token, password: SECRETS.password, signature: SECRETS.signature, authorization: SECRETS.authorization }, 'top-level fields');
  logger.error({ databaseUrl: SECRETS.databaseUrl, db: { password: SECRETS.password } }, 'database');
  logger.debug({ env: { DATABASE_URL: SECRETS.databaseUrl, HUAWEICLOUD_SDK_SK: SECRETS.sk, DWS_AUTH_TOKEN: SECRETS.token, DWS_IAM_PASSWORD: SECRETS.iamPassword, HUAWEICLOUD_SDK_SECURITY_TOKEN: SECRETS.securityToken } }, 'environment');
}

describe('redaction (second line of defence)', () => {
  for (const format of ['json', 'pretty'] as const) {
    it(`keeps credentials, tokens, signatures and passwords out of ${format} output`, () => {
      const { lines, logger } = capture(format);
      logEverySecretShape(logger);
      const output = lines.join('');
      expect(lines.length).toBeGreaterThanOrEqual(7);
      for (const [name, secret] of Object.entries(SECRETS)) {
        expect(output, `${name} leaked`).not.toContain(secret);
      }
      // Redacted, not dropped: an operator sees that the field was there.
      expect(output.split(REDACTED).length - 1).toBeGreaterThanOrEqual(20);
    });
  }

  it('leaves fields that are not secrets alone', () => {
    const { lines, logger } = capture('json');
    logger.info({ clusterId: 'c-1', accessKeyHint: 'AKEX…', status: 'succeeded' }, 'cluster exported');
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ clusterId: 'c-1', accessKeyHint: 'AKEX…', status: 'succeeded', level: 'info', msg: 'cluster exported' });
  });

  it('is configured by path for headers and every secret-bearing field name', () => {
    for (const path of ['headers["authorization"]', '*.headers["x-auth-token"]', 'secretKey', '*.securityToken', 'signature', 'token', 'password', 'databaseUrl']) {
      expect(REDACT_PATHS).toContain(path);
    }
  });
});

describe('formats', () => {
  it('writes one JSON object per line with level, time and message', () => {
    const { lines, logger } = capture('json');
    logger.info({ runId: 7, clusters: 3 }, 'run started');
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    expect(entry).toMatchObject({ level: 'info', name: 'dws-task-exporter', msg: 'run started', runId: 7, clusters: 3 });
    expect(typeof entry.time).toBe('string');
  });

  it('writes a short readable line for terminals', () => {
    const { lines, logger } = capture('pretty');
    logger.warn({ clusterId: 'c-1', status: 'incomplete', error: { code: 'X Y' } }, 'cluster incomplete');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN  cluster incomplete clusterId=c-1 status=incomplete error=\{"code":"X Y"\}\n$/);
  });

  it('colours the level only when asked', () => {
    const line = JSON.stringify({ level: 'error', time: '2026-01-01T10:11:12.131Z', msg: 'boom' });
    expect(formatPrettyLine(line, false)).toBe('10:11:12.131 ERROR boom');
    expect(formatPrettyLine(line, true)).toContain('\x1b[31mERROR');
  });

  it('passes a line that is not JSON through unchanged', () => {
    expect(formatPrettyLine('plain text', false)).toBe('plain text');
  });

  it('is pretty on a terminal, JSON otherwise, and LOG_FORMAT overrides both', () => {
    expect(logFormatFor({ isTTY: true }, {})).toBe('pretty');
    expect(logFormatFor({ isTTY: false }, {})).toBe('json');
    expect(logFormatFor({}, {})).toBe('json');
    expect(logFormatFor({ isTTY: true }, { LOG_FORMAT: 'json' })).toBe('json');
    expect(logFormatFor({ isTTY: false }, { LOG_FORMAT: 'pretty' })).toBe('pretty');
  });

  it('refuses any other LOG_FORMAT with a config error naming the variable, instead of ignoring it', () => {
    for (const value of ['yaml', 'JSONL', 'text']) {
      expect(() => logFormatFor({ isTTY: false }, { LOG_FORMAT: value })).toThrow(
        new ConfigError(`LOG_FORMAT must be "json" or "pretty" (or unset: pretty on a terminal, JSON otherwise), not "${value}"`, 'env'),
      );
    }
    expect(logFormatFor({ isTTY: false }, { LOG_FORMAT: ' ' })).toBe('json');
  });
});
