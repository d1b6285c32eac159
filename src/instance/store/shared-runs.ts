/**
 * Attachments stored once per store. A stored run (an attachment body kept decoded after a
 * block's brotli stream, content-pack.ts) whose bytes equal a run already in the content area
 * becomes a reference to those bytes: the same document sent to several people, forwarded, or
 * archived from the sender's and each recipient's mailbox is kept once, as the message-level
 * SHA-256 cannot do for copies whose headers differ. In a study of 18.5 million corporate
 * messages, half the bytes of their parts were repeats
 * (https://256stuff.com/gray/docs/misc/email_size_analysis/).
 *
 * Candidates are found by a fingerprint of a run (its length and three 1 KiB samples: a few
 * microseconds, where hashing whole attachments runs at ~1 GB/s on the main thread) and always
 * compared byte for byte with what is on disk before a reference is written, so a wrong or stale
 * fingerprint row can only cost space, never content. References are resolved when a block is
 * written, when the position of every earlier run is known; a repeat inside the block being
 * written points at the earlier run of the same block.
 */
import { createHash } from 'node:crypto';

/** Shorter runs are stored in every block: a reference and its fingerprint row cost ~100 bytes. */
export const MIN_SHARED_RUN_BYTES = 2048;
const SAMPLE_BYTES = 1024;

/** Where a stored run's decoded bytes are in the content area: pack number, file offset, length. */
export interface SharedRun { pack: number; pos: number; len: number }

/** Looks up a run by fingerprint among runs already written (committed, or written by this process). */
export type FindRun = (fingerprint: Buffer) => SharedRun | undefined;
/** Bytes at a position of the content area, or null when they cannot be read. */
export type ReadRun = (run: SharedRun) => Buffer | null;

/** 16 bytes identifying a run's decoded bytes well enough to find candidates (not to trust them). */
export function runFingerprint(decoded: Buffer): Buffer {
  const h = createHash('sha1');
  const len = Buffer.allocUnsafe(8);
  len.writeBigUInt64BE(BigInt(decoded.length));
  h.update(len);
  if (decoded.length <= 3 * SAMPLE_BYTES) h.update(decoded);
  else {
    const mid = Math.floor((decoded.length - SAMPLE_BYTES) / 2);
    h.update(decoded.subarray(0, SAMPLE_BYTES));
    h.update(decoded.subarray(mid, mid + SAMPLE_BYTES));
    h.update(decoded.subarray(decoded.length - SAMPLE_BYTES));
  }
  return h.digest().subarray(0, 16);
}

/** [start, end, lineLength, decodedBytes] plus, for a stored run: nothing (bytes follow the brotli stream), 1 (in the brotli stream), 2 + pack + file offset (bytes elsewhere in the content area), 3 + run index (the bytes of an earlier run of this block). */
export type RunEntry =
  | [number, number, number, number]
  | [number, number, number, number, 1]
  | [number, number, number, number, 2, number, number]
  | [number, number, number, number, 3, number];

/** A block's run entries with repeats turned into references, and the decoded bytes it still stores. */
export interface SharedBlockRuns {
  runs: RunEntry[];
  decoded: Buffer[];
  /** Runs stored in this block worth finding later: fingerprint and index into `decoded`. */
  fresh: { fingerprint: Buffer; index: number }[];
}

/**
 * Replaces stored runs that repeat earlier content by references. `runs` and `decoded` are a
 * sealed block's: every run entry without a kind has its bytes next in `decoded`.
 */
export function shareRuns(runs: readonly RunEntry[], decoded: readonly Buffer[], find: FindRun, read: ReadRun): SharedBlockRuns {
  const out: SharedBlockRuns = { runs: [], decoded: [], fresh: [] };
  /** Fingerprint → the run of this block that stores those bytes, and where its bytes are in `out.decoded`. */
  const inBlock = new Map<string, { run: number; bytes: number }>();
  let d = 0;
  for (const entry of runs) {
    if (entry.length !== 4) { out.runs.push(entry); continue; }
    const bytes = decoded[d++]!;
    if (bytes.length >= MIN_SHARED_RUN_BYTES) {
      const fingerprint = runFingerprint(bytes);
      const key = fingerprint.toString('hex');
      const earlier = inBlock.get(key);
      if (earlier && out.decoded[earlier.bytes]!.equals(bytes)) {
        out.runs.push([...entry, 3, earlier.run]);
        continue;
      }
      const found = find(fingerprint);
      if (found && found.len === bytes.length && read(found)?.equals(bytes)) {
        out.runs.push([...entry, 2, found.pack, found.pos]);
        continue;
      }
      inBlock.set(key, { run: out.runs.length, bytes: out.decoded.length });
      out.fresh.push({ fingerprint, index: out.decoded.length });
    }
    out.runs.push(entry);
    out.decoded.push(bytes);
  }
  return out;
}
