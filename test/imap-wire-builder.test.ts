import { describe, expect, it } from 'vitest';
import { WireBuilder } from '../src/cas/imap/protocol/wire-builder.js';
import { packMetas, unpackMetas } from '../src/instance/meta-wire.js';
import type { MessageMeta } from '../src/instance/api.js';

describe('WireBuilder', () => {
  it('keeps text and bytes in order across chunk boundaries, and takes everything once', () => {
    const w = new WireBuilder();
    const expected: Buffer[] = [];
    for (let i = 0; i < 3000; i++) {
      const text = `* ${i} FETCH (UID ${i} ENVELOPE ("Grüße ${'x'.repeat(i % 97)}" `;
      const bytes = Buffer.from(`{${i % 13}}\r\n${'y'.repeat(i % 13)})`);
      w.text(text).bytes(bytes);
      expected.push(Buffer.from(text, 'utf8'), bytes);
    }
    // a large body is kept by reference, still in its place
    const big = Buffer.alloc(200_000, 0x61);
    w.bytes(big).text(')\r\n');
    expected.push(big, Buffer.from(')\r\n'));
    const want = Buffer.concat(expected);
    expect(w.length).toBe(want.length);
    const parts = w.take();
    expect(parts.some((p) => p === big)).toBe(true);
    expect(Buffer.concat(parts).equals(want)).toBe(true);
    expect(w.length).toBe(0);
    expect(w.take()).toEqual([]);
    // what was taken is never written over by what follows
    w.text('z'.repeat(100_000));
    expect(Buffer.concat(parts).equals(want)).toBe(true);
  });

  it('truncates back to a mark, inside the current chunk and across sealed parts', () => {
    const w = new WireBuilder();
    w.text('* 1 FETCH (UID 1)\r\n');
    const mark = w.length;
    w.text('* 2 FETCH (UID 2 BODY[] {5}\r\n').bytes(Buffer.alloc(100_000, 0x62));
    w.text('half');
    w.truncate(mark);
    expect(w.length).toBe(mark);
    w.text('* 3 FETCH (UID 3)\r\n');
    expect(w.takeOne().toString()).toBe('* 1 FETCH (UID 1)\r\n* 3 FETCH (UID 3)\r\n');
  });
});

describe('FETCH metadata on the wire (meta-wire)', () => {
  it('brings back every field, texts as their UTF-8 bytes, other fields untouched', () => {
    const metas: MessageMeta[] = [
      { uid: 1, modseq: 5, flags: ['\\Seen'], internalDate: 1_700_000_000_000, size: 120, envelope: '("d" "Grüße {x}" NIL)', bodyStructure: '("text" "plain")' },
      { uid: 2, modseq: 6, flags: [], internalDate: 0, size: 0, envelope: Buffer.from('("bytes")'), mime: { p: [1, 2] } },
      { uid: 9, modseq: 7, flags: ['\\Seen', '\\Flagged'], internalDate: 3, size: 4, subject: 'Hi', hasAttachments: false, date: null },
    ];
    const packed = packMetas(metas);
    // As the RPC layer carries it: the JSON part through JSON, the buffers as bytes.
    const back = unpackMetas(JSON.parse(JSON.stringify(packed.result)), packed.data.map((b) => Buffer.from(b)));
    expect(back.map((m) => ({ ...m, envelope: m.envelope?.toString(), bodyStructure: m.bodyStructure?.toString() }))).toEqual(
      metas.map((m) => ({ ...m, envelope: m.envelope?.toString(), bodyStructure: m.bodyStructure?.toString() })),
    );
    expect(Buffer.isBuffer(back[0]!.envelope)).toBe(true);
    expect(back[0]!.envelope!.toString('utf8')).toBe('("d" "Grüße {x}" NIL)');
    expect('body' in back[0]!).toBe(false);
    expect(back[2]!.envelope).toBeUndefined();
  });
});
