/**
 * The content area of an archive store: append-only pack files of compressed blocks.
 *   block := magic `CFK1` | u32 headerBytes | header JSON | u32 dataBytes | data
 *   v1 data := brotli(block bytes)
 *   v2 data := brotli(block bytes with base64 runs cut out or decoded) | decoded stored runs
 * A base64 run is an attachment body in canonical base64 lines: its exact text comes back by
 * encoding its decoded bytes again (the worker that found the run checked that it does). A run
 * whose content is already compressed (images, archives, most PDFs: near 8 bits of entropy per
 * byte) is stored decoded after the brotli stream: brotli gets such text to little better than
 * its 6 bits per character, at a fifth of the speed of everything else, and the decoded bytes are
 * 3/4 of its size. Any other run (text, uncompressed formats) goes into the brotli stream decoded,
 * where it compresses better than its base64 would. The header lists each run as
 * [start, end, line length, decoded bytes, 1 if in the brotli stream] in block offsets, so readers
 * still see one stream of block bytes. A stored run repeating one already in the content area is
 * not stored again: its entry points at the earlier bytes (shared-runs.ts).
 * A block holds several messages (and their recovery records) of one ingest batch, up to about
 * 512 KiB before compression: compressing many messages together finds what they share (headers,
 * quoted text, list footers), which stores mail in about a third of its size at over 100 MB/s,
 * where compressing each message alone costs 25 % more space or ten times the time. Reading one
 * message decompresses its block (one or two milliseconds); recently used blocks are cached.
 * Recovery records (folder path, UID, flags, dates, SHA-256) let the metadata database be rebuilt
 * from content alone.
 */
import { openSync, closeSync, writeSync, writevSync, readSync, fstatSync, fsyncSync, readdirSync, mkdirSync, ftruncateSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { LRUCache } from 'lru-cache';
import { shareRuns, type FindRun, type RunEntry, type SharedRun } from './shared-runs.js';

export const BLOCK_MAGIC = Buffer.from('CFK1');
/** Start a new pack beyond this, so compaction and copies work on manageable files. */
export const PACK_ROLL_BYTES = 1024 * 1024 * 1024;
/** Raw bytes gathered into one block before it is compressed. */
export const BLOCK_TARGET_BYTES = 512 * 1024;
/**
 * Decompressed blocks kept for reads (a client downloading a folder reads neighbours, and a second
 * device syncs the same folder soon after), the archive's own page cache. Room for a typical
 * mailbox, so a sync that walks it does not evict what it is about to need; a block unused for a
 * few minutes is dropped, so an idle instance gives its memory back.
 */
const BLOCK_CACHE_BYTES = 64 * 1024 * 1024;
const BLOCK_CACHE_IDLE_MS = 3 * 60 * 1000;
/** Brotli quality 2 on whole blocks: ~90 MB/s on one core, better ratio than per-message quality 5. */
const BROTLI_QUALITY = 2;

export interface BlockLocation { pack: number; offset: number; length: number }
/** Where one message's bytes are: its block, and the slice inside the decompressed block. */
export interface BlobLocation extends BlockLocation { start: number; rawSize: number }

export interface RecoveryRecord {
  /** `rename`: folder `folder` (and its sub-folders) became `to`; it applies to the records before it. */
  kind: 'message' | 'delete' | 'rename';
  to?: string;
  sha256: string;
  folder: string;
  uid: number;
  flags?: string[];
  internalDate?: number;
  archivedAt?: number;
  uidValidity?: number;
}

type BlockEntry = { k: 'b'; sha256: string; start: number; rawSize: number } | { k: 'r'; rec: RecoveryRecord };

/**
 * Part of a message stored decoded: bytes [start, end) of the message are `decoded` in base64
 * lines of `lineLength` characters joined by CRLF. `compressible`: the decoded bytes go through
 * brotli; otherwise they are stored as they are.
 */
export interface Base64Run { start: number; end: number; lineLength: number; decoded: Buffer; compressible: boolean }

/** One message's content for a block. */
export interface NewBlob { sha256: string; raw: Buffer; runs?: readonly Base64Run[] }

interface BlockHeader { v: 1 | 2; raw: number; e: BlockEntry[]; x?: RunEntry[]; c?: number }

/**
 * A block whose bytes are gathered but not yet compressed. Sealing is pure, so compression can
 * run off the main thread (`compressBlock`) and the block be written later (`writeBlocks`).
 */
export interface SealedBlock {
  /** Block bytes, including the runs. */
  raw: number;
  entries: BlockEntry[];
  /** What brotli gets: block bytes with runs cut out, compressible runs decoded in their place. */
  plain: Buffer[];
  plainBytes: number;
  runs: RunEntry[];
  /** Decoded bytes of the runs stored as they are, in order. */
  decoded: Buffer[];
}

/** A sealed block and its brotli stream; the stored runs follow it on disk (written, not joined). */
export interface CompressedBlock { sealed: SealedBlock; compressed: Buffer }

const emptyBlock = (): SealedBlock => ({ raw: 0, entries: [], plain: [], plainBytes: 0, runs: [], decoded: [] });

/** Adds one message's content to a block being gathered; returns where in the block it starts. */
function appendBlob(cur: SealedBlock, b: NewBlob): number {
  const base = cur.raw;
  cur.entries.push({ k: 'b', sha256: b.sha256, start: base, rawSize: b.raw.length });
  let pos = 0;
  for (const r of b.runs ?? []) {
    if (r.start < pos || r.end > b.raw.length || r.end <= r.start) continue; // out of order or out of range: keep it as text
    if (r.start > pos) { cur.plain.push(b.raw.subarray(pos, r.start)); cur.plainBytes += r.start - pos; }
    if (r.compressible) {
      cur.runs.push([base + r.start, base + r.end, r.lineLength, r.decoded.length, 1]);
      cur.plain.push(r.decoded);
      cur.plainBytes += r.decoded.length;
    } else {
      cur.runs.push([base + r.start, base + r.end, r.lineLength, r.decoded.length]);
      cur.decoded.push(r.decoded);
    }
    pos = r.end;
  }
  if (pos < b.raw.length) { cur.plain.push(b.raw.subarray(pos)); cur.plainBytes += b.raw.length - pos; }
  cur.raw += b.raw.length;
  return base;
}

/** Groups new content into blocks of about BLOCK_TARGET_BYTES (a message is never split). */
export function sealBlocks(blobs: readonly NewBlob[]): SealedBlock[] {
  const out: SealedBlock[] = [];
  let cur: SealedBlock | null = null;
  for (const b of blobs) {
    cur ??= emptyBlock();
    appendBlob(cur, b);
    if (cur.raw >= BLOCK_TARGET_BYTES) { out.push(cur); cur = null; }
  }
  if (cur) out.push(cur);
  return out;
}

const BROTLI_OPTIONS = (size: number): zlib.BrotliOptions => ({
  params: { [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY, [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: size },
  // One pass through the thread pool for a whole block, not one per 16 KiB of output.
  chunkSize: Math.max(64 * 1024, Math.min(size + 1024, 4 * 1024 * 1024)),
});

/** Compresses a sealed block in libuv's thread pool: the main thread goes on writing the databases. */
export function compressBlock(sealed: SealedBlock): Promise<CompressedBlock> {
  const plain = Buffer.concat(sealed.plain, sealed.plainBytes);
  return new Promise((resolve, reject) => {
    zlib.brotliCompress(plain, BROTLI_OPTIONS(plain.length), (err, compressed) => {
      if (err) reject(err);
      else resolve({ sealed, compressed });
    });
  });
}

export function compressBlockSync(sealed: SealedBlock): CompressedBlock {
  const plain = Buffer.concat(sealed.plain, sealed.plainBytes);
  return { sealed, compressed: zlib.brotliCompressSync(plain, BROTLI_OPTIONS(plain.length)) };
}

/** `decoded` as base64 in lines of `lineLength` characters joined by CRLF (no CRLF after the last). */
export function base64Lines(decoded: Buffer, lineLength: number): Buffer {
  const enc = Buffer.from(decoded.toString('base64'), 'latin1');
  const lines = Math.max(1, Math.ceil(enc.length / lineLength));
  const out = Buffer.allocUnsafe(enc.length + (lines - 1) * 2);
  let o = 0;
  for (let s = 0; s < enc.length; s += lineLength) {
    if (s > 0) { out[o++] = 0x0d; out[o++] = 0x0a; }
    o += enc.copy(out, o, s, Math.min(enc.length, s + lineLength));
  }
  return out;
}

/**
 * Decompression output in one buffer of the expected size (clamped), not the default 16 KiB pieces
 * joined afterwards: a fifth faster for a 512 KiB block. A stream that says otherwise still decodes.
 */
const outputInOnePiece = (size: number): zlib.BrotliOptions => ({ chunkSize: Math.max(64 * 1024, Math.min(Number.isFinite(size) ? size + 64 : 0, 64 * 1024 * 1024)) });

/** Block bytes from a block's header and data (and shared runs read elsewhere); null when they do not fit together. */
function decodeBlockData(header: BlockHeader, data: Buffer, readShared: (run: SharedRun) => Buffer | null): Buffer | null {
  if (!header.x || header.x.length === 0) {
    const raw = zlib.brotliDecompressSync(data, outputInOnePiece(header.raw));
    return raw.length === header.raw ? raw : null;
  }
  const c = header.c ?? -1;
  if (c < 0 || c > data.length) return null;
  // The brotli stream holds the block bytes without the runs, and the decoded runs kept in it.
  const plainSize = header.x.reduce((n, [start, end, , decodedBytes, kind]) => n - (end - start) + (kind === 1 ? decodedBytes : 0), header.raw);
  const plain = zlib.brotliDecompressSync(data.subarray(0, c), outputInOnePiece(plainSize));
  const out = Buffer.allocUnsafe(header.raw);
  const runBytes: Buffer[] = [];
  let pos = 0, p = 0, d = c;
  for (const entry of header.x) {
    const [start, end, lineLength, decodedBytes, kind] = entry;
    const refer = entry as number[]; // kinds 2 and 3 carry where the bytes are
    // Base64 decodes to 3/4 of its length: a larger count is a damaged header (and no huge read).
    if (start < pos || end > header.raw || p + (start - pos) > plain.length || !(lineLength > 0) || !(decodedBytes >= 0 && decodedBytes <= end - start)) return null;
    p += plain.copy(out, pos, p, p + (start - pos));
    let decoded: Buffer | null | undefined;
    if (kind === 1) {
      if (p + decodedBytes > plain.length) return null;
      decoded = plain.subarray(p, p + decodedBytes);
      p += decodedBytes;
    } else if (kind === 2) {
      decoded = readShared({ pack: refer[5]!, pos: refer[6]!, len: decodedBytes });
    } else if (kind === 3) {
      const k = refer[5]!;
      decoded = k >= 0 && k < runBytes.length ? runBytes[k] : null;
    } else if (kind === undefined) {
      if (d + decodedBytes > data.length) return null;
      decoded = data.subarray(d, d + decodedBytes);
      d += decodedBytes;
    }
    if (!decoded || decoded.length !== decodedBytes) return null;
    runBytes.push(decoded);
    const text = base64Lines(decoded, lineLength);
    if (text.length !== end - start) return null;
    text.copy(out, start);
    pos = end;
  }
  if (plain.length - p !== header.raw - pos || d !== data.length) return null;
  plain.copy(out, pos, p);
  return out;
}

export type PackRecord =
  | { magic: 'blob'; loc: BlobLocation; sha256: string; data: Buffer }
  | { magic: 'recovery'; loc: BlockLocation; header: RecoveryRecord }
  | { magic: 'corrupt'; pack: number; offset: number; reason: string };

export function packName(n: number): string { return `pack-${String(n).padStart(6, '0')}.dat`; }

export class ContentArea {
  private writeFd: number | null = null;
  private writePack = 0;
  private writeOffset = 0;
  private readFds = new Map<number, number>();
  private dirty = false;
  /** The block being gathered by addBlob and addRecovery (maintenance, merges), and who waits for its location. */
  private pending: { block: SealedBlock; blobs: { start: number; rawSize: number; resolve: (l: BlobLocation) => void }[] } = { block: emptyBlock(), blobs: [] };
  private cache = new LRUCache<string, Buffer>({
    maxSize: BLOCK_CACHE_BYTES,
    sizeCalculation: (b) => Math.max(1, b.length),
    ttl: BLOCK_CACHE_IDLE_MS,
    updateAgeOnGet: true,
    ttlAutopurge: true,
    dispose: (block) => { if (this.lastBlock?.data === block) this.lastBlock = null; },
  });
  /** The block read last: a folder download reads a block's messages one after another. */
  private lastBlock: { pack: number; offset: number; data: Buffer } | null = null;
  /** Runs written by this object and not yet taken into the store's table (`takeNewRuns`), by fingerprint in hex. */
  private newRuns = new Map<string, { fingerprint: Buffer; run: SharedRun }>();

  /** `findCommitted`: the store's table of runs already committed (none for a content area being built, as compaction does). */
  constructor(readonly dir: string, private readonly findCommitted: FindRun = () => undefined) {
    mkdirSync(dir, { recursive: true });
  }

  /** Runs written since the last call, for the store to record with the batch that uses them. */
  takeNewRuns(): { fingerprint: Buffer; run: SharedRun }[] {
    const runs = [...this.newRuns.values()];
    this.newRuns.clear();
    return runs;
  }

  private findRun(fingerprint: Buffer): SharedRun | undefined {
    return this.newRuns.get(fingerprint.toString('hex'))?.run ?? this.findCommitted(fingerprint);
  }

  /** Bytes of a run elsewhere in this content area; null when they are not there (a damaged reference). */
  private readRun(run: SharedRun): Buffer | null {
    if (!Number.isSafeInteger(run.pack) || !Number.isSafeInteger(run.pos) || run.pos < 0 || !(run.len >= 0)) return null;
    let fd: number;
    try { fd = this.readFd(run.pack); } catch { return null; }
    const buf = Buffer.allocUnsafe(run.len);
    return readSync(fd, buf, 0, run.len, run.pos) === run.len ? buf : null;
  }

  packs(): number[] {
    return readdirSync(this.dir).map((f) => /^pack-(\d{6})\.dat$/.exec(f)).filter((m): m is RegExpExecArray => !!m).map((m) => Number(m[1])).sort((a, b) => a - b);
  }

  private openForAppend(): void {
    if (this.writeFd !== null && this.writeOffset < PACK_ROLL_BYTES) return;
    if (this.writeFd !== null) { fsyncSync(this.writeFd); closeSync(this.writeFd); this.writeFd = null; }
    const existing = this.packs();
    let n = existing.length ? existing[existing.length - 1]! : 1;
    let fd = openSync(path.join(this.dir, packName(n)), 'a+');
    let size = fstatSync(fd).size;
    if (size >= PACK_ROLL_BYTES) { closeSync(fd); n++; fd = openSync(path.join(this.dir, packName(n)), 'a+'); size = 0; }
    this.writeFd = fd;
    this.writePack = n;
    this.writeOffset = size;
  }

  /**
   * Queues a message; its location is known once the block is written (`flush`). `runs`: its base64
   * bodies to store decoded, as ingest does (storedRuns in prepare.ts); without them the message is
   * stored as text, which costs attachments a few points of size and brotli five times the time.
   */
  addBlob(sha256: string, raw: Buffer, runs: readonly Base64Run[] = []): { location: () => BlobLocation } {
    let loc: BlobLocation | null = null;
    const start = appendBlob(this.pending.block, { sha256, raw, runs });
    this.pending.blobs.push({ start, rawSize: raw.length, resolve: (l) => { loc = l; } });
    if (this.pending.block.raw >= BLOCK_TARGET_BYTES) this.writeBlock();
    return { location: () => { if (!loc) throw new Error('blob location asked before flush'); return loc; } };
  }

  addRecovery(rec: RecoveryRecord): void {
    this.pending.block.entries.push({ k: 'r', rec });
    if (this.pending.block.entries.length > 4096) this.writeBlock();
  }

  private writeBlock(): void {
    const p = this.pending;
    if (p.block.entries.length === 0) return;
    this.pending = { block: emptyBlock(), blobs: [] };
    const block = this.writeRecord(compressBlockSync(p.block));
    for (const b of p.blobs) b.resolve({ ...block, start: b.start, rawSize: b.rawSize });
  }

  /** Appends one block record; returns where it went. */
  private writeRecord(block: CompressedBlock, extra: BlockEntry[] = []): BlockLocation {
    this.openForAppend();
    const { sealed, compressed } = block;
    // Repeats become references now that every earlier run's place is known.
    const shared = shareRuns(sealed.runs, sealed.decoded, (f) => this.findRun(f), (r) => this.readRun(r));
    const dataBytes = compressed.length + shared.decoded.reduce((n, d) => n + d.length, 0);
    const header: BlockHeader = shared.runs.length
      ? { v: 2, raw: sealed.raw, e: [...sealed.entries, ...extra], x: shared.runs, c: compressed.length }
      : { v: 1, raw: sealed.raw, e: [...sealed.entries, ...extra] };
    const h = Buffer.from(JSON.stringify(header), 'utf8');
    const head = Buffer.allocUnsafe(8 + h.length + 4);
    BLOCK_MAGIC.copy(head, 0);
    head.writeUInt32BE(h.length, 4);
    h.copy(head, 8);
    head.writeUInt32BE(dataBytes, 8 + h.length);
    const length = writeAll(this.writeFd!, [head, compressed, ...shared.decoded]);
    const loc = { pack: this.writePack, offset: this.writeOffset, length };
    if (shared.fresh.length) {
      const at: number[] = [];
      for (let i = 0, pos = loc.offset + head.length + compressed.length; i < shared.decoded.length; pos += shared.decoded[i]!.length, i++) at.push(pos);
      for (const f of shared.fresh) this.newRuns.set(f.fingerprint.toString('hex'), { fingerprint: f.fingerprint, run: { pack: loc.pack, pos: at[f.index]!, len: shared.decoded[f.index]!.length } });
    }
    this.writeOffset += length;
    this.dirty = true;
    return loc;
  }

  /**
   * Writes compressed blocks and the batch's recovery records (after the queued content, if any),
   * durably: the metadata database may point at them when this returns. Returns each blob's location.
   */
  writeBlocks(blocks: readonly CompressedBlock[], recovery: readonly RecoveryRecord[]): Map<string, BlobLocation> {
    this.writeBlock();
    const where = new Map<string, BlobLocation>();
    const records: BlockEntry[] = recovery.map((rec) => ({ k: 'r', rec }));
    if (blocks.length === 0 && records.length > 0) blocks = [compressBlockSync(emptyBlock())];
    blocks.forEach((b, i) => {
      const loc = this.writeRecord(b, i === blocks.length - 1 ? records : []);
      for (const e of b.sealed.entries) if (e.k === 'b') where.set(e.sha256, { ...loc, start: e.start, rawSize: e.rawSize });
    });
    this.flush();
    return where;
  }

  /** Writes queued messages and makes everything durable before the metadata database points at it. */
  flush(): void {
    this.writeBlock();
    if (this.dirty && this.writeFd !== null) { fsyncSync(this.writeFd); this.dirty = false; }
  }

  private readFd(pack: number): number {
    let fd = this.readFds.get(pack);
    if (fd === undefined) { fd = openSync(path.join(this.dir, packName(pack)), 'r'); this.readFds.set(pack, fd); }
    return fd;
  }

  private readBlock(loc: BlockLocation): { header: BlockHeader; data: Buffer } {
    const buf = Buffer.allocUnsafe(loc.length);
    const n = readSync(this.readFd(loc.pack), buf, 0, loc.length, loc.offset);
    if (n !== loc.length) throw new Error(`content block at pack ${loc.pack} offset ${loc.offset} is truncated`);
    const parsed = parseBlock(buf);
    if (!parsed) throw new Error(`content block at pack ${loc.pack} offset ${loc.offset} is damaged`);
    return parsed;
  }

  private blockData(loc: BlockLocation): Buffer {
    const last = this.lastBlock;
    if (last && last.pack === loc.pack && last.offset === loc.offset) return last.data;
    const key = `${loc.pack}:${loc.offset}`;
    let raw = this.cache.get(key);
    if (!raw) {
      const b = this.readBlock(loc);
      const decoded = decodeBlockData(b.header, b.data, (r) => this.readRun(r));
      if (!decoded) throw new Error(`content block at pack ${loc.pack} offset ${loc.offset} does not decode to the ${b.header.raw} bytes its header says`);
      raw = decoded;
      this.cache.set(key, raw);
    }
    this.lastBlock = { pack: loc.pack, offset: loc.offset, data: raw };
    return raw;
  }

  /** One message's raw bytes. */
  readBlob(loc: BlobLocation): Buffer {
    const data = this.blockData(loc);
    if (loc.start + loc.rawSize > data.length) throw new Error(`content at pack ${loc.pack} offset ${loc.offset} is shorter than recorded`);
    return data.subarray(loc.start, loc.start + loc.rawSize);
  }

  /** Scans every block of every pack in order; damaged tails are reported, never thrown. */
  *scan(fromPack = 0, fromOffset = 0, withData = true): Generator<PackRecord> {
    for (const pack of this.packs()) {
      if (pack < fromPack) continue;
      const fd = openSync(path.join(this.dir, packName(pack)), 'r');
      try {
        const size = fstatSync(fd).size;
        let offset = pack === fromPack ? fromOffset : 0;
        const head = Buffer.allocUnsafe(8);
        while (offset < size) {
          if (readSync(fd, head, 0, 8, offset) < 8) { yield { magic: 'corrupt', pack, offset, reason: 'truncated block header' }; break; }
          if (!head.subarray(0, 4).equals(BLOCK_MAGIC)) { yield { magic: 'corrupt', pack, offset, reason: 'bad block magic' }; break; }
          const hLen = head.readUInt32BE(4);
          if (offset + 12 + hLen > size) { yield { magic: 'corrupt', pack, offset, reason: 'truncated block' }; break; }
          const lenBuf = Buffer.allocUnsafe(4);
          readSync(fd, lenBuf, 0, 4, offset + 8 + hLen);
          const total = 12 + hLen + lenBuf.readUInt32BE(0);
          if (offset + total > size) { yield { magic: 'corrupt', pack, offset, reason: 'truncated block' }; break; }
          const buf = Buffer.allocUnsafe(total);
          readSync(fd, buf, 0, total, offset);
          const parsed = parseBlock(buf);
          if (!parsed) { yield { magic: 'corrupt', pack, offset, reason: 'unreadable block header' }; break; }
          const loc = { pack, offset, length: total };
          let raw: Buffer | null = null;
          if (withData && parsed.header.e.some((e) => e.k === 'b')) {
            try { raw = decodeBlockData(parsed.header, parsed.data, (r) => this.readRun(r)); } catch { raw = null; }
            if (!raw) { yield { magic: 'corrupt', pack, offset, reason: 'block does not decompress' }; offset += total; continue; }
          }
          for (const e of parsed.header.e) {
            if (e.k === 'r') yield { magic: 'recovery', loc, header: e.rec };
            else yield { magic: 'blob', loc: { ...loc, start: e.start, rawSize: e.rawSize }, sha256: e.sha256, data: raw ? raw.subarray(e.start, e.start + e.rawSize) : Buffer.alloc(0) };
          }
          offset += total;
        }
      } finally { closeSync(fd); }
    }
  }

  /** Cuts a damaged tail left by a crash in the middle of an append (found by scan). */
  truncatePack(pack: number, offset: number): void {
    this.close();
    const fd = openSync(path.join(this.dir, packName(pack)), 'r+');
    try { ftruncateSync(fd, offset); fsyncSync(fd); } finally { closeSync(fd); }
  }

  /** Where the next block goes, recorded with each committed batch. */
  endPosition(): { pack: number; offset: number } {
    this.openForAppend();
    return { pack: this.writePack, offset: this.writeOffset };
  }

  totalBytes(): number {
    let n = 0;
    for (const p of this.packs()) { const fd = openSync(path.join(this.dir, packName(p)), 'r'); n += fstatSync(fd).size; closeSync(fd); }
    return n;
  }

  close(): void {
    if (this.writeFd !== null) { try { fsyncSync(this.writeFd); } catch { /* closing anyway */ } closeSync(this.writeFd); this.writeFd = null; }
    for (const fd of this.readFds.values()) closeSync(fd);
    this.readFds.clear();
    this.cache.clear();
    this.lastBlock = null;
    // What was written and not taken may be cut off (truncatePack) or belong to a replaced area.
    this.newRuns.clear();
  }
}

/** Writes buffers at the current end of a pack file, all of them, in one call when it takes them all. */
function writeAll(fd: number, bufs: Buffer[]): number {
  const total = bufs.reduce((n, b) => n + b.length, 0);
  let done = writevSync(fd, bufs);
  // writev may write less than asked (signals, full disks that recover): finish piece by piece.
  for (const b of bufs) {
    if (done >= b.length) { done -= b.length; continue; }
    for (let off = done; off < b.length;) off += writeSync(fd, b, off, b.length - off);
    done = 0;
  }
  return total;
}

function parseBlock(buf: Buffer): { header: BlockHeader; data: Buffer } | null {
  if (buf.length < 12 || !buf.subarray(0, 4).equals(BLOCK_MAGIC)) return null;
  const hLen = buf.readUInt32BE(4);
  if (8 + hLen + 4 > buf.length) return null;
  let header: BlockHeader;
  try { header = JSON.parse(buf.subarray(8, 8 + hLen).toString('utf8')); } catch { return null; }
  if (!header || !Array.isArray(header.e)) return null;
  const dLen = buf.readUInt32BE(8 + hLen);
  return { header, data: buf.subarray(12 + hLen, 12 + hLen + dLen) };
}
