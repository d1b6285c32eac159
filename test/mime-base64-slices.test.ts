/**
 * Base64 bodies are decoded in slices of whole lines (common/mime/decode.ts decodeBase64Lines),
 * because one JS string of a large body is slow to make. Slicing must not change a single byte:
 * clean bodies decode as they would in one piece, and damaged ones (junk, "=" in the middle, uneven
 * lines) are still told apart and decoded by the careful path.
 */
import { describe, it, expect } from 'vitest';
import crypto from 'node:crypto';
import { decodeBase64, decodeBase64Lines, base64LineLength } from '../src/common/mime/decode.js';
import { canonicalBase64 } from '../src/instance/prepare.js';

const inLines = (data: Buffer, lineLength: number): Buffer => {
  const enc = data.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < enc.length; i += lineLength) lines.push(enc.slice(i, i + lineLength));
  return Buffer.from(lines.join('\r\n'), 'latin1');
};

describe('base64 decoded in slices of whole lines', () => {
  it('gives the bytes of a one-piece decode for clean bodies of every size and line length', () => {
    for (const size of [0, 1, 2, 3, 57, 1000, 36_863, 36_864, 36_865, 100_000, 300_001]) {
      for (const lineLength of [76, 64, 4]) {
        const data = crypto.randomBytes(size);
        const body = inLines(data, lineLength);
        if (size > 0) expect(base64LineLength(body, 0, body.length)).toBe(body.length <= lineLength ? body.length - (body.length % 4) : lineLength);
        if (size === 0) continue;
        expect(decodeBase64Lines(body, 0, body.length, base64LineLength(body, 0, body.length)).equals(data)).toBe(true);
        expect(decodeBase64(Buffer.concat([body, Buffer.from('\r\n')])).bytes.equals(data)).toBe(true);
        const canonical = canonicalBase64(body, 0, body.length, base64LineLength(body, 0, body.length));
        expect(canonical?.equals(data)).toBe(true);
      }
    }
  });

  it('still tells damaged bodies apart after the first slice, and decodes them the careful way', () => {
    const data = crypto.randomBytes(200_000);
    const body = inLines(data, 76);
    const at = 150_000 - (150_000 % 78) + 10; // inside a line well past the first slice

    const junk = Buffer.concat([body.subarray(0, at), Buffer.from('*'), body.subarray(at + 1)]);
    expect(canonicalBase64(junk, 0, junk.length, 76)).toBeNull();
    const decoded = decodeBase64(junk);
    const withoutJunk = Buffer.from(junk.toString('latin1').replace(/[^A-Za-z0-9+/]/g, ''), 'base64');
    expect(decoded.damaged).toBe(true);
    expect(decoded.bytes.equals(withoutJunk)).toBe(true);

    // Two encodings one after the other ("=" inside): the careful path restarts after the padding.
    const first = crypto.randomBytes(100_000 + 1);
    const second = crypto.randomBytes(100_000);
    const joined = Buffer.concat([inLines(first, 76), Buffer.from('\r\n'), inLines(second, 76)]);
    expect(canonicalBase64(joined, 0, joined.length, 76)).toBeNull();
    expect(decodeBase64(joined).bytes.equals(Buffer.concat([first, second]))).toBe(true);

    // One short line in the middle: not a layout of whole lines, decoded in one piece.
    const uneven = Buffer.concat([body.subarray(0, 78 * 1000), Buffer.from('QUJD\r\n'), body.subarray(78 * 1000)]);
    expect(base64LineLength(uneven, 0, uneven.length)).toBe(-1);
    expect(decodeBase64(uneven).bytes.equals(Buffer.from(uneven.toString('latin1'), 'base64'))).toBe(true);
  });
});
