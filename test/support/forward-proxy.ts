/**
 * Starts test/support/forward-proxy-main.ts in a child process and reads what
 * it did: every CONNECT and absolute-form request, with whether it carried
 * the expected credentials.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ProxyEvent {
  readonly kind: 'connect' | 'request';
  readonly method: string;
  /** `host:port` for CONNECT, the absolute URL for the others. */
  readonly url: string;
  readonly authorized: boolean;
}

export interface ForwardProxy {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Everything handled so far, in order. */
  events(): readonly ProxyEvent[];
  close(): Promise<void>;
}

export interface ForwardProxyOptions {
  /** Host names only the proxy resolves, and their addresses. */
  readonly hosts: Readonly<Record<string, string>>;
  /** `user:password` the proxy requires (Basic); absent: none. */
  readonly auth?: string;
}

export async function startForwardProxy(options: ForwardProxyOptions): Promise<ForwardProxy> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/forward-proxy-main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, FORWARD_PROXY_HOSTS: JSON.stringify(options.hosts), FORWARD_PROXY_AUTH: options.auth ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: ProxyEvent[] = [];
  let stderr = '';
  let buffered = '';
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    child.on('error', (error) => {
      stderr += String(error);
      reject(error);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffered.indexOf('\n')) !== -1) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        const listening = /^listening (\d+)$/.exec(line);
        if (listening) resolve(Number(listening[1]));
        else events.push(JSON.parse(line) as ProxyEvent);
      }
    });
    void exited.then(() => reject(new Error(`the forward proxy exited before listening: ${stderr}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    events: () => [...events],
    async close() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
