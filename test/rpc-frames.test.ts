import { describe, expect, it } from 'vitest';
import { FrameDecoder, FrameType, decodeWithData, encodeJson, encodeResponseWithData, joined } from '../src/common/rpc/frames.js';
import { seededRandom } from '../src/common/random.js';

describe('RPC frames', () => {
  it('decodes frames however the stream is cut, and data buffers come back byte for byte', () => {
    const r = seededRandom(7);
    const buffers = Array.from({ length: 40 }, (_, i) => Buffer.from(Array.from({ length: Math.floor(r() * 5000) + (i % 3 === 0 ? 0 : 1) }, () => Math.floor(r() * 256))));
    const wire = Buffer.concat([
      encodeJson(FrameType.Response, { id: 1, result: 'first' }),
      ...encodeResponseWithData({ id: 2, result: { n: buffers.length } }, buffers),
      encodeJson(FrameType.Event, { event: 'e', data: [1, 2] }),
    ]);
    for (const maxCut of [1, 3, 7, 64, 1000, 70_000]) {
      const decoder = new FrameDecoder();
      const frames = [];
      for (let at = 0; at < wire.length;) {
        const n = Math.max(1, Math.floor(r() * maxCut));
        frames.push(...decoder.push(wire.subarray(at, at + n)));
        at += n;
      }
      expect(frames.map((f) => f.type)).toEqual([FrameType.Response, FrameType.ResponseWithData, FrameType.Event]);
      expect(JSON.parse(joined(frames[0]!.parts).toString())).toEqual({ id: 1, result: 'first' });
      const { value, data } = decodeWithData<{ id: number; result: { n: number } }>(frames[1]!.parts);
      expect(value.id).toBe(2);
      expect(value.result).toEqual({ n: buffers.length });
      expect(data.map((d) => d.toString('hex'))).toEqual(buffers.map((b) => b.toString('hex')));
      expect(JSON.parse(joined(frames[2]!.parts).toString())).toEqual({ event: 'e', data: [1, 2] });
    }
  });

  it('refuses a frame length out of range', () => {
    const bad = Buffer.alloc(8);
    bad.writeUInt32BE(0, 0);
    expect(() => new FrameDecoder().push(bad)).toThrow(/out of range/);
  });
});
