/**
 * Credentials from files (Kubernetes secrets as a volume: *_FILE). A rotated
 * secret takes effect without a restart: each file is stat'ed again (at most
 * every `checkIntervalMs`) and re-read when it changed. Not fs.watch: it
 * misses Kubernetes' atomic swap of the `..data` symlink.
 */
import { readFile, stat } from 'node:fs/promises';
import type { SecretSource } from '../../config/env.js';
import { CredentialError, describeCause } from '../../core/errors.js';
import {
  akskAdvice,
  maskAccessKey,
  TOKEN_ADVICE,
  type CredentialLease,
  type CredentialProvider,
  type ResolvedCredential,
} from './credential-provider.js';

export interface FileCredentialOptions {
  readonly clock: () => number;
  /** Minimum time between two stat() calls of one file; 0 checks on every lease. */
  readonly checkIntervalMs: number;
  /** A file became unreadable or empty: the last value stays in use. */
  readonly onWarning?: (message: string) => void;
}

interface FileState {
  readonly signature: string;
  readonly value: string;
  checkedAt: number;
}

/** One secret: a fixed value, or a file re-read when it changes. */
export class SecretReader {
  private state: FileState | null = null;

  constructor(
    private readonly source: SecretSource,
    private readonly options: FileCredentialOptions,
  ) {}

  /** Where the secret comes from, for messages (a variable name, never the value). */
  get origin(): string {
    return 'file' in this.source ? `${this.source.variable} (${this.source.file})` : 'environment';
  }

  async read(force = false): Promise<string> {
    const source = this.source;
    if ('value' in source) return source.value;
    const now = this.options.clock();
    const state = this.state;
    if (state && !force && now - state.checkedAt < this.options.checkIntervalMs) return state.value;
    try {
      const info = await stat(source.file);
      const signature = `${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}`;
      if (state?.signature === signature) {
        state.checkedAt = now;
        return state.value;
      }
      const value = (await readFile(source.file, 'utf8')).trim();
      if (value === '') throw new Error('the file is empty');
      this.state = { signature, value, checkedAt: now };
      return value;
    } catch (error) {
      const problem = `cannot read ${source.variable} (${source.file}): ${describeCause(error)}`;
      // Half-written or briefly missing while a secret is replaced: keep the last good value.
      if (state) {
        state.checkedAt = now;
        this.options.onWarning?.(`${problem}; still using the value read before`);
        return state.value;
      }
      throw new CredentialError('DWS_AUTH_FAILED', problem, { cause: error });
    }
  }
}

type FileCredentials =
  | { readonly kind: 'aksk-files'; readonly accessKey: SecretSource; readonly secretKey: SecretSource; readonly securityToken: SecretSource | undefined }
  | { readonly kind: 'token-file'; readonly token: SecretSource };

export function fileCredentialsProvider(credentials: FileCredentials, options: FileCredentialOptions): CredentialProvider {
  const readers =
    credentials.kind === 'aksk-files'
      ? [credentials.accessKey, credentials.secretKey, credentials.securityToken].map((s) => (s ? new SecretReader(s, options) : null))
      : [new SecretReader(credentials.token, options)];
  const where = readers
    .filter((r): r is SecretReader => r !== null)
    .map((r) => r.origin)
    .join(', ');
  let generation = 0;
  let lastValues: string | null = null;
  let current: CredentialLease | null = null;
  let forceNext = false;

  return {
    async lease() {
      const force = forceNext;
      forceNext = false;
      const values = await Promise.all(readers.map((r) => (r ? r.read(force) : Promise.resolve(undefined))));
      const joined = JSON.stringify(values);
      if (current !== null && joined === lastValues) return current;
      lastValues = joined;
      generation += 1;
      const [first = '', second = '', third] = values;
      const credential: ResolvedCredential =
        credentials.kind === 'aksk-files'
          ? { kind: 'aksk', accessKey: first, secretKey: second, securityToken: third }
          : { kind: 'token', token: first };
      current = {
        credential,
        key: `files#${generation}`,
        label:
          credential.kind === 'aksk'
            ? `AK/SK read from ${where} (access key ${maskAccessKey(credential.accessKey)})`
            : `the IAM token read from ${where}`,
        advice: credential.kind === 'aksk' ? akskAdvice(where) : `${TOKEN_ADVICE} (${where})`,
      };
      return current;
    },
    refused(lease) {
      // The secret may have been rotated since the last check: look again now.
      if (lease.key === current?.key) forceNext = true;
    },
  };
}
