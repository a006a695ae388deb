/**
 * The API gateway's authentication check for the simulator: a token, an AK/SK
 * signature, or the simulated cloud's identity store. Apart from the router so
 * that the three ways in, and their precedence, read in one place.
 */
import type { IncomingMessage } from 'node:http';
import { verifySignature } from '../source/auth/signer.js';
import type { SimulatorOptions } from './simulator-options.js';

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Returns the failure reason, or undefined when the request may proceed. */
export function authenticate(
  options: SimulatorOptions,
  req: IncomingMessage,
  url: URL,
  projectId: string,
): string | undefined {
  const auth = options.auth;
  if (auth?.identities) return auth.identities.authenticate(req, url, projectId);
  if (!auth || (auth.token === undefined && auth.credentials === undefined)) return undefined;
  const token = single(req.headers['x-auth-token']);
  if (auth.token !== undefined && token !== undefined) {
    return token === auth.token ? undefined : 'the token is invalid or expired';
  }
  const creds = auth.credentials;
  if (creds && req.headers.authorization !== undefined) {
    const verdict = verifySignature(
      { method: req.method ?? 'GET', url, headers: req.headers },
      (ak) => (ak === creds.accessKey ? creds.secretKey : undefined),
      new Date(),
    );
    if (!verdict.ok) return verdict.reason;
    return single(req.headers['x-project-id']) === projectId
      ? undefined
      : 'X-Project-Id does not match the project in the path';
  }
  return 'no credentials were provided';
}
