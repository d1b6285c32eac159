/**
 * The selected mailbox: the message sequence-number map (RFC 3501 §2.3.1.2) kept as the ascending
 * UID list the client has been told about, and the changes not yet announced.
 */
import type { SequenceSet } from './protocol/index.js';
import type { MailboxEntry } from './mailbox-map.js';
import { EMPTY_INBOX_UID_VALIDITY } from './mailbox-map.js';

export interface MailboxSnapshot {
  readonly uids: number[];
  readonly modseqs: number[];
  readonly highestModseq: number;
  readonly uidValidity: number;
  readonly uidNext: number;
}

export interface MailboxChanges {
  /** Sequence numbers to announce as EXPUNGE, highest first so each is valid when sent. */
  readonly expunged: number[];
  /** New EXISTS count, or null when no message was added. */
  readonly exists: number | null;
}

export class SelectedMailbox {
  uids: number[];
  modseqs: number[];
  highestModseq: number;
  uidValidity: number;
  uidNext: number;

  constructor(
    readonly entry: MailboxEntry,
    /** EXAMINE; SELECT is answered read-only too, but the command is remembered for logs. */
    readonly isExamine: boolean,
    snapshot: MailboxSnapshot,
  ) {
    this.uids = snapshot.uids;
    this.modseqs = snapshot.modseqs;
    this.highestModseq = snapshot.highestModseq;
    this.uidValidity = snapshot.uidValidity;
    this.uidNext = snapshot.uidNext;
  }

  get folderId(): number | null {
    return this.entry.folder?.id ?? null;
  }

  get exists(): number {
    return this.uids.length;
  }

  /** Sequence number of a UID, or 0 when the UID is not in the map. */
  sequenceOf(uid: number): number {
    let low = 0;
    let high = this.uids.length - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const value = this.uids[mid]!;
      if (value === uid) return mid + 1;
      if (value < uid) low = mid + 1;
      else high = mid - 1;
    }
    return 0;
  }

  /** Indexes (0-based) of the messages a sequence set or UID set names, ascending. */
  resolve(set: SequenceSet, isUid: boolean): number[] {
    const count = this.uids.length;
    if (count === 0) return [];
    const indexes: number[] = [];
    if (!isUid) {
      for (const [low, high] of set.resolve(count)) for (let n = low; n <= high; n++) indexes.push(n - 1);
      return indexes;
    }
    // `*` in a UID set is the highest UID in use (RFC 3501 §6.4.8).
    for (const [low, high] of set.resolve(this.uids[count - 1]!)) {
      let k = this.lowerBound(low);
      while (k < count && this.uids[k]! <= high) indexes.push(k++);
    }
    return indexes;
  }

  /** First index whose UID is >= uid. */
  lowerBound(uid: number): number {
    let low = 0;
    let high = this.uids.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.uids[mid]! < uid) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** Replaces the map with a fresh snapshot and returns what must be announced. */
  apply(snapshot: MailboxSnapshot): MailboxChanges {
    const fresh = new Set(snapshot.uids);
    const expunged: number[] = [];
    for (let k = this.uids.length - 1; k >= 0; k--) if (!fresh.has(this.uids[k]!)) expunged.push(k + 1);
    const before = this.uids.length - expunged.length;
    this.uids = snapshot.uids;
    this.modseqs = snapshot.modseqs;
    this.highestModseq = snapshot.highestModseq;
    this.uidValidity = snapshot.uidValidity;
    this.uidNext = snapshot.uidNext;
    return { expunged, exists: snapshot.uids.length > before ? snapshot.uids.length : null };
  }
}

export function emptySnapshot(): MailboxSnapshot {
  return { uids: [], modseqs: [], highestModseq: 0, uidValidity: EMPTY_INBOX_UID_VALIDITY, uidNext: 1 };
}

/** Compresses ascending numbers to a sequence set: `1:3,5,7:9` (RFC 4731 ALL). */
export function compressNumbers(sorted: readonly number[]): string {
  const parts: string[] = [];
  let k = 0;
  while (k < sorted.length) {
    const start = sorted[k]!;
    let end = start;
    while (k + 1 < sorted.length && sorted[k + 1] === end + 1) end = sorted[++k]!;
    parts.push(start === end ? `${start}` : `${start}:${end}`);
    k++;
  }
  return parts.join(',');
}
