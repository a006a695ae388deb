/**
 * The stored and listed tasks of one cluster as the identity rule
 * (task-identity.ts) keeps them: parallel typed arrays, one index per task.
 */

/** No occupant: the end of a key's chain, or nothing found. */
export const NONE = -1;
/** `position` of an occupant met where the listing position was unknown. */
export const UNKNOWN = -1;
export const RUNNING = 1;
/** In the database before this export started. */
export const STORED = 2;
export const FLAGGED = 4;
/** Counted in this export already (as new, changed or unchanged). */
export const COUNTED = 8;

/**
 * Every stored or listed task of the cluster (an occupant of its key), one
 * index each into parallel typed arrays rather than an object each: they live
 * as long as the walk, long enough for scavenges to copy and promote a
 * thousand small objects per cluster (bench/README.md, garbage collection).
 * `walk`, `page` and `position` tell where an occupant was last met; `repeatedOn`, the
 * page on which an entry last repeated it (rule 2: one repeat per page);
 * `next`, the next occupant of the same key, in the order they were added.
 */
export class Occupants {
  length = 0;
  occurrence: Int32Array;
  fingerprint: Float64Array; // NaN: none (stored before fingerprints existed)
  flags: Uint8Array;
  walk: Int32Array;
  page: Int32Array;
  position: Float64Array;
  repeatedOn: Int32Array;
  next: Int32Array;

  constructor(capacity: number) {
    this.occurrence = new Int32Array(capacity);
    this.fingerprint = new Float64Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.walk = new Int32Array(capacity);
    this.page = new Int32Array(capacity);
    this.position = new Float64Array(capacity);
    this.repeatedOn = new Int32Array(capacity);
    this.next = new Int32Array(capacity);
  }

  push(occurrence: number, fingerprint: number | null, flags: number): number {
    if (this.length === this.next.length) this.grow();
    const o = this.length++;
    this.occurrence[o] = occurrence;
    this.fingerprint[o] = fingerprint ?? NaN;
    this.flags[o] = flags;
    this.position[o] = UNKNOWN;
    this.next[o] = NONE;
    return o;
  }

  private grow(): void {
    const size = Math.max(16, this.next.length * 2);
    const widen = <T extends Int32Array | Float64Array | Uint8Array>(from: T, to: T): T => (to.set(from), to);
    this.occurrence = widen(this.occurrence, new Int32Array(size));
    this.fingerprint = widen(this.fingerprint, new Float64Array(size));
    this.flags = widen(this.flags, new Uint8Array(size));
    this.walk = widen(this.walk, new Int32Array(size));
    this.page = widen(this.page, new Int32Array(size));
    this.position = widen(this.position, new Float64Array(size));
    this.repeatedOn = widen(this.repeatedOn, new Int32Array(size));
    this.next = widen(this.next, new Int32Array(size));
  }
}
