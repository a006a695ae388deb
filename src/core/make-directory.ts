/**
 * `mkdir -p` for directories a user names. Node's mkdir({ recursive: true })
 * spins at 100 % CPU forever where mkdir answers ENOENT under a parent that
 * exists (procfs: /proc/x): this creates one level at a time instead.
 */
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/** A directory that cannot be made, with the errno-style code of why. */
export class DirectoryError extends Error {
  constructor(
    message: string,
    readonly code: 'ENOTDIR' | 'ENOENT',
  ) {
    super(message);
  }
}

/**
 * Creates `path` and its missing parents (each with `mode`), starting below
 * the nearest ancestor that exists; rejects if that ancestor is not a
 * directory, or if a directory cannot be made in a parent that exists.
 */
export async function makeDirectory(path: string, mode?: number): Promise<void> {
  const missing: string[] = [];
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    const entry = await statIfExists(dir);
    if (entry) {
      if (!entry.isDirectory()) throw new DirectoryError(`ENOTDIR: ${dir} exists and is not a directory`, 'ENOTDIR');
      break;
    }
    missing.unshift(dir);
    if (dirname(dir) === dir) break;
  }
  for (const dir of missing) {
    try {
      await mkdir(dir, mode === undefined ? {} : { mode });
    } catch (error) {
      if (codeOf(error) === 'ENOENT') {
        throw new DirectoryError(`ENOENT: ${dirname(dir)} exists but takes no new directories, mkdir '${dir}'`, 'ENOENT');
      }
      // Made meanwhile by someone else: fine if it is a directory.
      if (codeOf(error) !== 'EEXIST' || !(await statIfExists(dir))?.isDirectory()) throw error;
    }
  }
}

async function statIfExists(path: string): Promise<Awaited<ReturnType<typeof stat>> | undefined> {
  try {
    return await stat(path);
  } catch (error) {
    // ENOTDIR: some ancestor is a file, which the walk up then names.
    if (codeOf(error) === 'ENOENT' || codeOf(error) === 'ENOTDIR') return undefined;
    throw error;
  }
}

function codeOf(error: unknown): unknown {
  return error instanceof Error && 'code' in error ? error.code : undefined;
}
