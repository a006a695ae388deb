/**
 * A real forward proxy (npm `proxy`: CONNECT tunnels and absolute-form
 * requests) in a process of its own, whose name lookups map the host names in
 * FORWARD_PROXY_HOSTS (JSON {name: address}) to addresses: names that only
 * the proxy can resolve. With FORWARD_PROXY_AUTH (`user:password`) it
 * requires Basic proxy credentials. Prints `listening <port>`, then one JSON
 * line per request it handles (see forward-proxy.ts).
 */
import dns from 'node:dns';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isIPv6 } from 'node:net';
import { createProxy } from 'proxy';

const hosts = new Map(Object.entries(JSON.parse(process.env.FORWARD_PROXY_HOSTS ?? '{}') as Record<string, string>));
const expectedAuth = process.env.FORWARD_PROXY_AUTH ? `Basic ${Buffer.from(process.env.FORWARD_PROXY_AUTH).toString('base64')}` : null;

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;
const systemLookup = dns.lookup;

function lookup(hostname: string, options: dns.LookupOptions | number | LookupCallback, callback?: LookupCallback): void {
  const done = typeof options === 'function' ? options : callback;
  const opts: dns.LookupOptions = typeof options === 'function' ? {} : typeof options === 'number' ? { family: options } : options;
  const address = hosts.get(hostname.toLowerCase());
  if (done === undefined) throw new TypeError('dns.lookup without a callback');
  if (address === undefined) {
    systemLookup(hostname, opts, done);
    return;
  }
  const family = isIPv6(address) ? 6 : 4;
  process.nextTick(() => (opts.all === true ? done(null, [{ address, family }]) : done(null, address, family)));
}
// http.request and net.connect (what `proxy` uses upstream) look up through dns.lookup.
Object.assign(dns, { lookup });

function log(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

const server = createProxy(createServer());
server.authenticate = (req: IncomingMessage) => {
  const ok = expectedAuth === null || req.headers['proxy-authorization'] === expectedAuth;
  log({ kind: req.method === 'CONNECT' ? 'connect' : 'request', method: req.method, url: req.url, authorized: ok });
  return ok;
};
server.on('error', (error) => {
  process.stderr.write(`forward proxy: ${String(error)}\n`);
  process.exit(1);
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
});
