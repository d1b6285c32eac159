/**
 * A small streaming ZIP writer (APPNOTE 6.3.x): stored (uncompressed) entries — .eml files are
 * mostly base64 already — with CRC-32 from node:zlib, written one entry at a time so an export of
 * a large folder never sits in memory. ZIP64 records are written when offsets or counts pass the
 * classic limits, so exports above 4 GiB or 65,535 messages still open.
 */
import { crc32 } from 'node:zlib';

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_END = 0x06054b50;
const SIG_ZIP64_END = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
/** Bit 11: file names are UTF-8. */
const FLAG_UTF8 = 0x0800;
const MAX32 = 0xffffffff;
const MAX16 = 0xffff;

interface CentralEntry { name: Buffer; crc: number; size: number; offset: number; dosTime: number; dosDate: number }

function dosDateTime(d: Date): { dosTime: number; dosDate: number } {
  const year = Math.max(1980, d.getUTCFullYear());
  return {
    dosTime: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2),
    dosDate: ((year - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}

export class ZipWriter {
  private offset = 0;
  private readonly entries: CentralEntry[] = [];
  private readonly names = new Set<string>();

  /** `write` receives each chunk in order; it may return a promise to apply backpressure. */
  constructor(private readonly write: (chunk: Buffer) => void | Promise<void>) {}

  private async out(b: Buffer): Promise<void> { this.offset += b.length; await this.write(b); }

  /** Makes `name` unique in this archive ("a.eml", "a (2).eml", …). */
  uniqueName(name: string): string {
    let n = name, i = 2;
    const dot = name.lastIndexOf('.');
    while (this.names.has(n.toLowerCase())) n = dot > 0 ? `${name.slice(0, dot)} (${i++})${name.slice(dot)}` : `${name} (${i++})`;
    this.names.add(n.toLowerCase());
    return n;
  }

  async addFile(name: string, data: Buffer, modified = new Date()): Promise<void> {
    const nameBuf = Buffer.from(name, 'utf8');
    const crc = crc32(data) >>> 0;
    const { dosTime, dosDate } = dosDateTime(modified);
    const zip64 = data.length >= MAX32 || this.offset >= MAX32;
    const extra = zip64 ? Buffer.alloc(20) : Buffer.alloc(0);
    if (zip64) { extra.writeUInt16LE(0x0001, 0); extra.writeUInt16LE(16, 2); extra.writeBigUInt64LE(BigInt(data.length), 4); extra.writeBigUInt64LE(BigInt(data.length), 12); }
    const h = Buffer.alloc(30);
    h.writeUInt32LE(SIG_LOCAL, 0);
    h.writeUInt16LE(zip64 ? 45 : 20, 4);
    h.writeUInt16LE(FLAG_UTF8, 6);
    h.writeUInt16LE(0, 8); // stored
    h.writeUInt16LE(dosTime, 10);
    h.writeUInt16LE(dosDate, 12);
    h.writeUInt32LE(crc, 14);
    h.writeUInt32LE(zip64 ? MAX32 : data.length, 18);
    h.writeUInt32LE(zip64 ? MAX32 : data.length, 22);
    h.writeUInt16LE(nameBuf.length, 26);
    h.writeUInt16LE(extra.length, 28);
    const offset = this.offset;
    await this.out(Buffer.concat([h, nameBuf, extra]));
    await this.out(data);
    this.entries.push({ name: nameBuf, crc, size: data.length, offset, dosTime, dosDate });
  }

  async finish(): Promise<void> {
    const cdStart = this.offset;
    for (const e of this.entries) {
      const big = e.size >= MAX32 || e.offset >= MAX32;
      const extra = big ? Buffer.alloc(28) : Buffer.alloc(0);
      if (big) { extra.writeUInt16LE(0x0001, 0); extra.writeUInt16LE(24, 2); extra.writeBigUInt64LE(BigInt(e.size), 4); extra.writeBigUInt64LE(BigInt(e.size), 12); extra.writeBigUInt64LE(BigInt(e.offset), 20); }
      const c = Buffer.alloc(46);
      c.writeUInt32LE(SIG_CENTRAL, 0);
      c.writeUInt16LE(big ? 45 : 20, 4); // made by
      c.writeUInt16LE(big ? 45 : 20, 6); // needed
      c.writeUInt16LE(FLAG_UTF8, 8);
      c.writeUInt16LE(0, 10);
      c.writeUInt16LE(e.dosTime, 12);
      c.writeUInt16LE(e.dosDate, 14);
      c.writeUInt32LE(e.crc, 16);
      c.writeUInt32LE(big ? MAX32 : e.size, 20);
      c.writeUInt32LE(big ? MAX32 : e.size, 24);
      c.writeUInt16LE(e.name.length, 28);
      c.writeUInt16LE(extra.length, 30);
      c.writeUInt32LE(big ? MAX32 : e.offset, 42);
      await this.out(Buffer.concat([c, e.name, extra]));
    }
    const cdSize = this.offset - cdStart;
    const count = this.entries.length;
    const need64 = count >= MAX16 || cdStart >= MAX32 || cdSize >= MAX32;
    if (need64) {
      const z = Buffer.alloc(56);
      const zOffset = this.offset;
      z.writeUInt32LE(SIG_ZIP64_END, 0);
      z.writeBigUInt64LE(44n, 4);
      z.writeUInt16LE(45, 12); z.writeUInt16LE(45, 14);
      z.writeBigUInt64LE(BigInt(count), 24); z.writeBigUInt64LE(BigInt(count), 32);
      z.writeBigUInt64LE(BigInt(cdSize), 40); z.writeBigUInt64LE(BigInt(cdStart), 48);
      const l = Buffer.alloc(20);
      l.writeUInt32LE(SIG_ZIP64_LOCATOR, 0); l.writeBigUInt64LE(BigInt(zOffset), 8); l.writeUInt32LE(1, 16);
      await this.out(Buffer.concat([z, l]));
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(SIG_END, 0);
    end.writeUInt16LE(Math.min(count, MAX16), 8);
    end.writeUInt16LE(Math.min(count, MAX16), 10);
    end.writeUInt32LE(Math.min(cdSize, MAX32), 12);
    end.writeUInt32LE(Math.min(cdStart, MAX32), 16);
    await this.out(end);
  }
}
