/**
 * Logs on stderr (stdout is for the run's report): JSON lines (pino) for log
 * collectors, or a short readable line on a terminal. Secrets are redacted by
 * path before formatting, as a second line of defence: the code never logs
 * headers or credentials in the first place.
 */
import pino, { type Logger } from 'pino';
import { ConfigError, quoteBadValue } from './errors.js';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogFormat = 'json' | 'pretty';

/** Header names, lower-case as undici and Node report them. */
const SECRET_HEADERS = ['authorization', 'x-auth-token', 'x-security-token', 'x-subject-token', 'x-sdk-signature'];
/** Field names that hold secrets wherever they appear (top level or one level down). */
const SECRET_FIELDS = [
  'authorization',
  'credentials',
  'secretKey',
  'securityToken',
  'signature',
  'token',
  'authToken',
  'password',
  'databaseUrl',
  'DATABASE_URL',
  'HUAWEICLOUD_SDK_SK',
  'HUAWEICLOUD_SDK_SECURITY_TOKEN',
  'DWS_AUTH_TOKEN',
  'DWS_IAM_PASSWORD',
];

/** pino redaction paths: `headers["x-auth-token"]`, `*.headers["x-auth-token"]`, `token`, `*.token`, ... */
export const REDACT_PATHS: readonly string[] = [
  ...SECRET_HEADERS.flatMap((header) => [`headers["${header}"]`, `*.headers["${header}"]`]),
  ...SECRET_FIELDS.flatMap((field) => [field, `*.${field}`]),
];

export const REDACTED = '[redacted]';

export interface LoggerOptions {
  /** Default: LOG_FORMAT if set, else pretty on a terminal, JSON otherwise. */
  readonly format?: LogFormat;
  /** Colours in the pretty format. Default: on unless NO_COLOR is set. */
  readonly color?: boolean;
}

/** LOG_FORMAT=json|pretty wins; otherwise pretty exactly when stderr is a terminal. */
export function logFormatFor(
  stream: { readonly isTTY?: boolean } = process.stderr,
  env: Readonly<Record<string, string | undefined>> = process.env,
): LogFormat {
  const forced = env.LOG_FORMAT?.trim().toLowerCase();
  if (forced === 'json' || forced === 'pretty') return forced;
  if (forced !== undefined && forced !== '') {
    throw new ConfigError(`LOG_FORMAT must be "json" or "pretty" (or unset: pretty on a terminal, JSON otherwise), ${quoteBadValue(env.LOG_FORMAT ?? '')}`, 'env');
  }
  return stream.isTTY === true ? 'pretty' : 'json';
}

export function createLogger(
  level: LogLevel,
  destination?: pino.DestinationStream,
  options: LoggerOptions = {},
): Logger {
  const format = options.format ?? (destination === undefined ? logFormatFor() : 'json');
  const sink = destination ?? pino.destination({ fd: 2, sync: true });
  const color = options.color ?? (process.env.NO_COLOR === undefined || process.env.NO_COLOR === '');
  return pino(
    {
      name: 'dws-task-exporter',
      level,
      redact: { paths: [...REDACT_PATHS], censor: REDACTED },
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    format === 'pretty' ? prettyStream(sink, color) : sink,
  );
}

/**
 * A child logger without path redaction, for a line whose fields are fixed
 * and typed and named nothing REDACT_PATHS covers (the caller proves it in a
 * test): redaction walks every path for every field of every line.
 */
export function unredactedChild(logger: Logger): Logger {
  return logger.child({}, { redact: [] });
}

/**
 * Wraps a sink: each JSON line pino writes becomes one readable line. Not
 * pino-pretty: no worker thread or extra dependency, and it writes through the
 * progress bar's sink, so log lines and the bar never interleave.
 */
export function prettyStream(sink: pino.DestinationStream, color: boolean): pino.DestinationStream {
  return {
    write(chunk: string): void {
      for (const line of chunk.split('\n')) {
        if (line !== '') sink.write(`${formatPrettyLine(line, color)}\n`);
      }
    },
  };
}

const LEVEL_COLORS: Readonly<Record<string, string>> = {
  trace: '\x1b[90m',
  debug: '\x1b[36m',
  info: '\x1b[32m',
  warn: '\x1b[33m',
  error: '\x1b[31m',
  fatal: '\x1b[41m\x1b[97m',
};
const DIM = '\x1b[2m';
const RESET = '\x1b[0m';
const OMITTED = new Set(['level', 'time', 'msg', 'name', 'pid', 'hostname']);

/** `12:04:05.123 WARN  message key=value ...`; a line that is not JSON is passed through. */
export function formatPrettyLine(line: string, color: boolean): string {
  let entry: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return line;
    entry = parsed as Record<string, unknown>;
  } catch {
    return line;
  }
  const level = typeof entry.level === 'string' ? entry.level : String(entry.level ?? '');
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 23) : '';
  const fields = Object.entries(entry)
    .filter(([key]) => !OMITTED.has(key))
    .map(([key, value]) => `${key}=${fieldText(value)}`)
    .join(' ');
  const label = level.toUpperCase().padEnd(5);
  const paint = (code: string | undefined, text: string): string => (color && code ? `${code}${text}${RESET}` : text);
  return [paint(DIM, time), paint(LEVEL_COLORS[level], label), String(entry.msg ?? ''), fields ? paint(DIM, fields) : '']
    .filter((part) => part !== '')
    .join(' ');
}

function fieldText(value: unknown): string {
  if (typeof value === 'string') return /^[\w.:/@+-]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}
