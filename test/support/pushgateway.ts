/**
 * A Prometheus Pushgateway's storage rules on a real HTTP server (POST
 * replaces the pushed metric names of a group, PUT the whole group), with a
 * strict parser of the text exposition format, for tests of pushed metrics.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** Parsed exposition: family name -> series text (name + labels) -> value. Strict: TYPE before samples, no duplicates. */
export function parseExposition(text: string): Map<string, Map<string, number>> {
  const families = new Map<string, Map<string, number>>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ')) continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (gauge|counter)$/.exec(line);
    if (type?.[1]) {
      if (families.has(type[1])) throw new Error(`TYPE declared twice: ${line}`);
      families.set(type[1], new Map());
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (\S+)$/.exec(line);
    if (!sample?.[1] || sample[3] === undefined) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    const family = families.get(sample[1]);
    if (!family) throw new Error(`sample before its TYPE: ${line}`);
    const series = `${sample[1]}${sample[2] ?? ''}`;
    if (family.has(series)) throw new Error(`duplicate series: ${series}`);
    family.set(series, Number(sample[3]));
  }
  return families;
}

/** A Pushgateway's storage rules, on a real HTTP server. */
export class PushReceiver {
  readonly requests: Received[] = [];
  /** group path -> family name -> series -> value */
  readonly groups = new Map<string, Map<string, Map<string, number>>>();
  status = 200;
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        this.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        if (this.status !== 200) {
          res.writeHead(this.status).end('push rejected');
          return;
        }
        try {
          const families = parseExposition(body);
          const group = this.groups.get(req.url ?? '') ?? new Map<string, Map<string, number>>();
          if (req.method === 'PUT') group.clear();
          for (const [name, series] of families) group.set(name, series);
          this.groups.set(req.url ?? '', group);
          res.writeHead(200).end();
        } catch (error) {
          res.writeHead(400).end(String(error));
        }
      });
    });
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  value(group: string, series: string): number | undefined {
    const name = series.split('{')[0] ?? series;
    return this.groups.get(group)?.get(name)?.get(series);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
