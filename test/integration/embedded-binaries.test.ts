/**
 * The PostgreSQL binaries when npm skipped the package's postinstall (which
 * makes the shared-library symlinks npm cannot ship): the copy the exporter
 * runs from makes them itself. Real binaries, run for real.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyBinaries, serverBinaries } from '../../src/warehouse/embedded-binaries.js';

const run = promisify(execFile);

let work: string;
let unlinked: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dws-exporter-binaries-'));
  // The package as an install without its postinstall has it: regular files only.
  const native = dirname(dirname((await serverBinaries(undefined)).postgres));
  unlinked = join(work, 'native');
  for (const entry of await readdir(native, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const to = join(unlinked, relative(native, join(entry.parentPath, entry.name)));
    await mkdir(dirname(to), { recursive: true });
    await copyFile(join(entry.parentPath, entry.name), to);
  }
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const version = (postgres: string) =>
  run(postgres, ['--version']).then(
    (r) => r.stdout,
    (error: Error) => `failed: ${error.message}`,
  );

describe('copyBinaries', () => {
  it('makes the library symlinks a skipped postinstall left out, so the server binary loads', async () => {
    expect(await version(join(unlinked, 'bin', 'postgres'))).toMatch(/^failed: [\s\S]*cannot open shared object file/);
    const target = join(work, 'copy');
    await copyBinaries(unlinked, target);
    expect(await version(join(target, 'bin', 'postgres'))).toMatch(/^postgres \(PostgreSQL\) \d+/);
    expect(await version(join(target, 'bin', 'initdb'))).toMatch(/^initdb \(PostgreSQL\) \d+/);
  });
});
