/**
 * Ids the config accepts, made from readable labels: tests write
 * `clusterId('c-1')` and get the same valid UUID every time.
 */
import { createHash } from 'node:crypto';

function hex(label: string, kind: string): string {
  return createHash('sha256').update(`${kind}:${label}`).digest('hex');
}

/** A 36-character UUID (version 4 shape) derived from `label`. */
export function clusterId(label: string): string {
  const h = hex(label, 'cluster');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** 32 hexadecimal characters derived from `label`. */
export function projectId(label: string): string {
  return hex(label, 'project').slice(0, 32);
}
