/**
 * Structured JSON logs on stderr (stdout is for the run's report). Anything
 * that could carry a secret is redacted by path, as a second line of
 * defence: the code never logs headers or credentials in the first place.
 */
import pino, { type Logger } from 'pino';
import type { LogLevel } from '../config/env.js';

export type { Logger };

export const REDACT_PATHS = [
  'headers.authorization',
  'headers["x-auth-token"]',
  'headers["x-security-token"]',
  '*.headers.authorization',
  '*.headers["x-auth-token"]',
  '*.headers["x-security-token"]',
  'credentials',
  '*.credentials',
  'secretKey',
  '*.secretKey',
  'token',
  '*.token',
  'password',
  '*.password',
];

export function createLogger(level: LogLevel, destination: pino.DestinationStream = pino.destination({ fd: 2, sync: true })): Logger {
  return pino(
    {
      name: 'dws-task-exporter',
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
