/**
 * A loopback HTTP server for the small simulators (IAM, metadata service):
 * listens on an ephemeral port, reads each request body, and closes promptly
 * even with idle keep-alive connections.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SmallReply {
  readonly status: number;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface SmallServer {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly url: string;
  close(): Promise<void>;
}

export type SmallHandler = (req: IncomingMessage, url: URL, body: string) => SmallReply;

export function jsonReply(status: number, value: unknown, headers?: Readonly<Record<string, string>>): SmallReply {
  return { status, body: JSON.stringify(value), ...(headers ? { headers } : {}) };
}

export async function startSmallServer(handler: SmallHandler, host = '127.0.0.1', port = 0): Promise<SmallServer> {
  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let reply: SmallReply;
    try {
      reply = handler(req, new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`), Buffer.concat(chunks).toString('utf8'));
    } catch (error) {
      reply = jsonReply(500, { error_code: 'SIM.0500', error_msg: `simulator error: ${String(error)}` });
    }
    res.writeHead(reply.status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(reply.body),
      ...reply.headers,
    });
    res.end(reply.body);
  };
  const server = createServer((req, res) => void serve(req, res).catch(() => res.destroy()));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port: bound } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
