/**
 * The content area of an archive store: append-only pack files. Each record is
 *   magic(4) | u32 headerBytes | header JSON | u32 dataBytes | data
 * with magic `CFB1` for a compressed message blob (header: sha256, rawSize) and `CFR1` for a
 * recovery record (header: folder path, uid, flags, dates, sha256; no data) or a tombstone.
 * Appending many messages to one file (instead of one file per message) keeps ingest fast,
 * and the recovery records let the metadata database be rebuilt from content alone.
 */
import { openSync, closeSync, writeSync, readSync, fstatSync, fsyncSync, readdirSync, mkdirSync, ftruncateSync } from 'node:fs';
import path from 'node:path';

export const BLOB_MAGIC = Buffer.from('CFB1');
export const RECOVERY_MAGIC = Buffer.from('CFR1');
/** Start a new pack beyond this, so compaction and copies work on manageable files. */
export const PACK_ROLL_BYTES = 1024 * 1024 * 1024;

export interface BlobLocation { pack: number; offset: number; length: number }
export interface BlobHeader { sha256: string; rawSize: number }
export interface RecoveryRecord {
  kind: 'message' | 'delete';
  sha256: string;
  folder: string;
  uid: number;
  flags?: string[];
  internalDate?: number;
  archivedAt?: number;
  uidValidity?: number;
}

export type PackRecord =
  | { magic: 'blob'; pack: number; offset: number; length: number; header: BlobHeader; data: Buffer }
  | { magic: 'recovery'; pack: number; offset: number; length: number; header: RecoveryRecord }
  | { magic: 'corrupt'; pack: number; offset: number; reason: string };

function packName(n: number): string { return `pack-${String(n).padStart(6, '0')}.dat`; }

export class ContentArea {
  private writeFd: number | null = null;
  private writePack = 0;
  private writeOffset = 0;
  private readFds = new Map<number, number>();
  private dirty = false;

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
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

  private append(magic: Buffer, header: unknown, data: Buffer | null): BlobLocation {
    this.openForAppend();
    const h = Buffer.from(JSON.stringify(header), 'utf8');
    const dataLen = data ? data.length : 0;
    const rec = Buffer.allocUnsafe(12 + h.length + dataLen);
    magic.copy(rec, 0);
    rec.writeUInt32BE(h.length, 4);
    h.copy(rec, 8);
    rec.writeUInt32BE(dataLen, 8 + h.length);
    if (data) data.copy(rec, 12 + h.length);
    writeSync(this.writeFd!, rec, 0, rec.length);
    const loc = { pack: this.writePack, offset: this.writeOffset, length: rec.length };
    this.writeOffset += rec.length;
    this.dirty = true;
    return loc;
  }

  appendBlob(header: BlobHeader, compressed: Buffer): BlobLocation { return this.append(BLOB_MAGIC, header, compressed); }
  appendRecovery(rec: RecoveryRecord): BlobLocation { return this.append(RECOVERY_MAGIC, rec, null); }

  /** Makes appended records durable before the metadata database points at them. */
  sync(): void {
    if (this.dirty && this.writeFd !== null) { fsyncSync(this.writeFd); this.dirty = false; }
  }

  private readFd(pack: number): number {
    let fd = this.readFds.get(pack);
    if (fd === undefined) { fd = openSync(path.join(this.dir, packName(pack)), 'r'); this.readFds.set(pack, fd); }
    return fd;
  }

  /** Reads a blob record and returns its compressed data (checked against its header). */
  readBlob(loc: BlobLocation): { header: BlobHeader; data: Buffer } {
    const buf = Buffer.allocUnsafe(loc.length);
    const n = readSync(this.readFd(loc.pack), buf, 0, loc.length, loc.offset);
    if (n !== loc.length) throw new Error(`content record at pack ${loc.pack} offset ${loc.offset} is truncated`);
    const rec = parseRecord(buf, 0, loc.pack);
    if (!rec || rec.magic !== 'blob') throw new Error(`content record at pack ${loc.pack} offset ${loc.offset} is damaged`);
    return { header: rec.header, data: rec.data };
  }

  /** Scans every record of every pack in order; damaged tails are reported, never thrown. */
  *scan(fromPack = 0, fromOffset = 0): Generator<PackRecord> {
    for (const pack of this.packs()) {
      if (pack < fromPack) continue;
      const fd = openSync(path.join(this.dir, packName(pack)), 'r');
      try {
        const size = fstatSync(fd).size;
        let offset = pack === fromPack ? fromOffset : 0;
        const head = Buffer.allocUnsafe(8);
        while (offset < size) {
          if (readSync(fd, head, 0, 8, offset) < 8) { yield { magic: 'corrupt', pack, offset, reason: 'truncated record header' }; break; }
          const isBlob = head.subarray(0, 4).equals(BLOB_MAGIC);
          if (!isBlob && !head.subarray(0, 4).equals(RECOVERY_MAGIC)) { yield { magic: 'corrupt', pack, offset, reason: 'bad record magic' }; break; }
          const hLen = head.readUInt32BE(4);
          if (offset + 12 + hLen > size) { yield { magic: 'corrupt', pack, offset, reason: 'truncated record' }; break; }
          const lenBuf = Buffer.allocUnsafe(4);
          readSync(fd, lenBuf, 0, 4, offset + 8 + hLen);
          const dLen = lenBuf.readUInt32BE(0);
          const total = 12 + hLen + dLen;
          if (offset + total > size) { yield { magic: 'corrupt', pack, offset, reason: 'truncated record' }; break; }
          const buf = Buffer.allocUnsafe(total);
          readSync(fd, buf, 0, total, offset);
          const rec = parseRecord(buf, offset, pack);
          if (!rec) { yield { magic: 'corrupt', pack, offset, reason: 'unreadable record header' }; break; }
          yield rec;
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

  /** Where the next record goes, to be recorded with each committed batch. */
  endPosition(): { pack: number; offset: number } {
    this.openForAppend();
    return { pack: this.writePack, offset: this.writeOffset };
  }

  /** Bytes of all packs. */
  totalBytes(): number {
    let n = 0;
    for (const p of this.packs()) { const fd = openSync(path.join(this.dir, packName(p)), 'r'); n += fstatSync(fd).size; closeSync(fd); }
    return n;
  }

  close(): void {
    if (this.writeFd !== null) { try { fsyncSync(this.writeFd); } catch { /* closing anyway */ } closeSync(this.writeFd); this.writeFd = null; }
    for (const fd of this.readFds.values()) closeSync(fd);
    this.readFds.clear();
  }
}

function parseRecord(buf: Buffer, offset: number, pack: number): PackRecord | null {
  const hLen = buf.readUInt32BE(4);
  let header: unknown;
  try { header = JSON.parse(buf.subarray(8, 8 + hLen).toString('utf8')); } catch { return null; }
  const dLen = buf.readUInt32BE(8 + hLen);
  const length = 12 + hLen + dLen;
  if (buf.subarray(0, 4).equals(BLOB_MAGIC)) return { magic: 'blob', pack, offset, length, header: header as BlobHeader, data: buf.subarray(12 + hLen, length) };
  return { magic: 'recovery', pack, offset, length, header: header as RecoveryRecord };
}

export { packName };
