/**
 * makeDirectory, on real file systems: it makes what is missing, and on
 * procfs, where Node's recursive mkdir spins forever, it fails at once naming
 * the directory.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectoryError, makeDirectory } from '../../../src/core/make-directory.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dws-make-directory-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('makeDirectory', () => {
  it('creates every missing level with the mode given, and accepts a directory that exists', async () => {
    const deep = join(root, 'a', 'b', 'c');
    await makeDirectory(deep, 0o700);
    expect((await stat(deep)).mode & 0o777).toBe(0o700);
    expect((await stat(join(root, 'a'))).mode & 0o777).toBe(0o700);
    await expect(makeDirectory(deep)).resolves.toBeUndefined();
  });

  it('lets concurrent callers make the same directory', async () => {
    const dir = join(root, 'concurrent', 'x');
    await Promise.all([makeDirectory(dir), makeDirectory(dir), makeDirectory(dir)]);
    expect((await stat(dir)).isDirectory()).toBe(true);
  });

  it('rejects with ENOTDIR naming the ancestor that is a file', async () => {
    const file = join(root, 'a-file');
    await writeFile(file, 'not a directory');
    const failure = await makeDirectory(join(file, 'sub', 'dir')).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DirectoryError);
    expect(failure).toMatchObject({ code: 'ENOTDIR', message: `ENOTDIR: ${file} exists and is not a directory` });
  });

  it.runIf(existsSync('/proc/self'))('rejects on /proc (where recursive mkdir never returns) naming the directory it could not make', async () => {
    const failure = await makeDirectory('/proc/dws-exporter-test/data').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DirectoryError);
    expect(failure).toMatchObject({ code: 'ENOENT' });
    expect(failure instanceof Error ? failure.message : '').toBe("ENOENT: /proc exists but takes no new directories, mkdir '/proc/dws-exporter-test'");
  });
});
