/**
 * A throwaway certificate authority and a server certificate it signed, made
 * with the openssl CLI: what a private CA (or a TLS-inspecting proxy) looks
 * like to the exporter.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCertificates {
  /** The CA certificate (PEM file), for NODE_EXTRA_CA_CERTS. */
  readonly caPath: string;
  /** The server's key and chain (leaf, then the CA), for the simulator's `tls` option. */
  readonly server: { readonly key: string; readonly cert: string };
}

/** A CA and a server certificate for `hosts` (plus 127.0.0.1), valid for a day, in `dir`. */
export async function makeCertificates(dir: string, hosts: readonly string[]): Promise<TestCertificates> {
  const file = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): Promise<unknown> => run('openssl', args);
  await openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=dws-exporter test CA',
    '-keyout', file('ca.key'), '-out', file('ca.pem'), '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  await openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${hosts[0] ?? 'localhost'}`, '-keyout', file('server.key'), '-out', file('server.csr'));
  const san = [...hosts.map((h) => `DNS:${h}`), 'IP:127.0.0.1'].join(',');
  await writeFile(file('server.ext'), `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`);
  await openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial',
    '-days', '1', '-extfile', file('server.ext'), '-out', file('server.pem'));
  const [key, leaf, ca] = await Promise.all([readFile(file('server.key'), 'utf8'), readFile(file('server.pem'), 'utf8'), readFile(file('ca.pem'), 'utf8')]);
  return { caPath: file('ca.pem'), server: { key, cert: `${leaf}${ca}` } };
}
