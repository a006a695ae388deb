import { describe, expect, it } from 'vitest';
import { ownerArgs, ownerFromCommandLine } from '../../../src/warehouse/embedded-lock.js';

describe('ownerFromCommandLine', () => {
  const setting = ownerArgs()[1] as string;

  it("reads the owner's pid from /proc/<pid>/cmdline (NUL-separated arguments)", () => {
    const cmdline = ['/opt/pg/bin/postgres', '-D', '/data/pg data/pgdata', '-p', '5433', '-c', setting, ''].join('\0');
    expect(ownerFromCommandLine(cmdline)).toBe(process.pid);
  });

  it("reads it from postmaster.opts (each argument quoted, paths with spaces)", () => {
    const opts = `/opt/pg/bin/postgres "-D" "/data/pg data/pgdata" "-p" "5433" "-c" "listen_addresses=127.0.0.1" "-c" "${setting}"\n`;
    expect(ownerFromCommandLine(opts)).toBe(process.pid);
  });

  it('is undefined for a server started without the setting, or with a value that is no pid', () => {
    expect(ownerFromCommandLine('/opt/pg/bin/postgres "-D" "/data/pgdata"\n')).toBeUndefined();
    expect(ownerFromCommandLine('postgres\0-c\0dws_exporter.owner_pid=abc\0')).toBeUndefined();
    expect(ownerFromCommandLine('postgres\0-c\0dws_exporter.owner_pid=0\0')).toBeUndefined();
    expect(ownerFromCommandLine('')).toBeUndefined();
  });
});
