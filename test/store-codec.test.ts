/**
 * Metadata records (src/instance/store/codec.ts) go through one reused native deflate and one
 * inflate stream per thread. These checks make sure the reuse never changes a byte, that records
 * too large for the reused buffer and records written by older versions (brotli) still read, and
 * that one damaged record neither reads as something else nor breaks the records after it.
 */
import { describe, it, expect } from 'vitest';
import zlib from 'node:zlib';
import { compressJson, decompressText, META_DICTIONARY } from '../src/instance/store/codec.js';

const decompressJson = (b: Buffer): unknown => JSON.parse(decompressText(b));

const record = (i: number) => ({ e: `("Mon, ${i} Jan 2024 10:00:00 +0000" "subject ${i}" NIL)`, s: '("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 12 1)', m: { h: 0, b: i } });

describe('metadata record codec', () => {
  it('round-trips many records through the reused streams, byte for byte what the plain zlib calls give', () => {
    for (let i = 0; i < 500; i++) {
      const v = record(i);
      const c = compressJson(v);
      expect(c[0]).toBe(0);
      expect(c.subarray(1)).toEqual(zlib.deflateRawSync(Buffer.from(JSON.stringify(v)), { level: 6, dictionary: META_DICTIONARY }));
      expect(decompressJson(c)).toEqual(v);
    }
  });

  it('reads records larger than the reused output buffer, and brotli records of older stores', () => {
    const big = { parts: Array.from({ length: 4000 }, (_, i) => `part ${i} ${'x'.repeat(i % 50)}`) };
    expect(JSON.stringify(big).length).toBeGreaterThan(64 * 1024);
    expect(decompressJson(compressJson(big))).toEqual(big);
    const old = zlib.brotliCompressSync(Buffer.from(JSON.stringify(record(7))));
    expect(decompressJson(old)).toEqual(record(7));
  });

  it('throws for a damaged record and reads the next one correctly', () => {
    const good = compressJson(record(1));
    const damaged = Buffer.from(good);
    for (let k = 1; k < damaged.length; k++) damaged[k] = 0xff;
    expect(() => decompressText(damaged)).toThrow();
    const truncated = good.subarray(0, 5);
    expect(() => decompressText(truncated)).toThrow();
    expect(decompressJson(compressJson(record(2)))).toEqual(record(2));
    expect(decompressJson(good)).toEqual(record(1));
  });
});
