#!/usr/bin/env node
/**
 * The command line: finds the command, parses its options (src/commands),
 * runs it, and turns whatever comes back, an exit code or an error, into the
 * process exit code and at most one line on stderr.
 */
import { commandUsage, parseCommandLine } from './commands/command-line.js';
import { COMMANDS } from './commands/index.js';
import { ExporterError, UsageError } from './core/errors.js';
import { EXIT_CODES, ExitCode, exitCodeForError } from './core/exit-codes.js';
import { EXPORTER_VERSION } from './core/package-info.js';

const PROGRAM = 'dws-task-exporter';

function mainUsage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    `${PROGRAM} ${EXPORTER_VERSION}: GaussDB(DWS) logical-cluster task history into PostgreSQL`,
    '',
    `Usage: ${PROGRAM} <command> [options]`,
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    `Run "${PROGRAM} <command> --help" for a command's options.`,
    `Exit codes: ${Object.entries(EXIT_CODES).map(([code, { meaning }]) => `${code} ${meaning}`).join(', ')}.`,
  ].join('\n');
}

export async function main(argv: readonly string[], out: (line: string) => void): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    out(mainUsage());
    return name === undefined ? ExitCode.USAGE_OR_CONFIG : ExitCode.OK;
  }
  if (name === '--version' || name === '-v') {
    out(EXPORTER_VERSION);
    return ExitCode.OK;
  }
  // A command name may have two words ("config init").
  const command = COMMANDS.find((c) => c.name === name) ?? COMMANDS.find((c) => c.name === `${name} ${rest[0] ?? ''}`);
  if (!command) {
    const known = COMMANDS.map((c) => c.name).join(', ');
    throw new UsageError(`unknown command ${JSON.stringify([name, ...rest.slice(0, 1)].join(' '))} (commands: ${known})`);
  }
  const parsed = parseCommandLine(PROGRAM, command, command.name.includes(' ') ? rest.slice(1) : rest);
  if (parsed.help) {
    out(commandUsage(PROGRAM, command));
    return ExitCode.OK;
  }
  return command.run(parsed.values, out);
}

/** One line for any failure; a bug's stack only when LOG_LEVEL asks for debug detail. */
function describeFailure(error: unknown): string {
  if (error instanceof ExporterError) return `${PROGRAM}: ${error.code}: ${error.message}`;
  const message = error instanceof Error ? error.message : String(error);
  const level = process.env.LOG_LEVEL?.trim().toLowerCase();
  const stack = (level === 'debug' || level === 'trace') && error instanceof Error ? `\n${error.stack ?? ''}` : '';
  return `${PROGRAM}: INTERNAL: ${message} (a bug: please report it; LOG_LEVEL=debug shows where it happened)${stack}`;
}

function fail(error: unknown): never {
  process.stderr.write(`${describeFailure(error)}\n`);
  process.exit(exitCodeForError(error));
}

async function cli(): Promise<void> {
  // A last line of defence: an 'error' event nobody listened to, or a rejected
  // promise nobody awaited, still ends as one coded line, never a stack dump.
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  let code: number;
  try {
    code = await main(process.argv.slice(2), (line) => void process.stdout.write(`${line}\n`));
  } catch (error) {
    fail(error);
  }
  // Explicit: nothing a dependency registers may turn this into another code.
  process.exit(code);
}

await cli();
