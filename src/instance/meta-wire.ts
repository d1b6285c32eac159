/**
 * FETCH metadata between an instance and a CAS without JSON around the pre-serialised IMAP text:
 * a header sync moves megabytes of ENVELOPE and BODYSTRUCTURE, and quoting them into JSON on one
 * side and parsing them out on the other cost more than everything else the sync does. The
 * numbers travel as JSON; the texts as one buffer of UTF-8 bytes, cut apart by their lengths, so
 * the CAS copies them to the client as they are.
 */
import { DataResult } from '../common/rpc/peer.js';
import type { ImapText, MessageMeta } from './api.js';

const TEXT_FIELDS = ['envelope', 'bodyStructure', 'body'] as const;

/** Columns, not an object per message: JSON of number arrays is several times cheaper both ways. */
interface Packed {
  uid: number[];
  modseq: number[];
  flags: string[][];
  internalDate: number[];
  size: number[];
  /** Per meta, the other fields (MIME tree, display fields), or 0 when it has none. */
  other?: (Partial<MessageMeta> | 0)[];
  /** Per meta: bit k set when TEXT_FIELDS[k] follows in the data, in that order. */
  texts: number[];
  lengths: number[];
}

/** The instance side: texts out of the metas, into one buffer. */
export function packMetas(metas: MessageMeta[]): DataResult {
  const packed: Packed = { uid: [], modseq: [], flags: [], internalDate: [], size: [], texts: [], lengths: [] };
  const strings: ImapText[] = [];
  let total = 0;
  metas.forEach((meta, i) => {
    const { uid, modseq, flags, internalDate, size, envelope, bodyStructure, body, ...other } = meta;
    packed.uid.push(uid);
    packed.modseq.push(modseq);
    packed.flags.push(flags);
    packed.internalDate.push(internalDate);
    packed.size.push(size);
    let mask = 0;
    [envelope, bodyStructure, body].forEach((value, k) => {
      if (value === undefined) return;
      mask |= 1 << k;
      strings.push(value);
      const n = typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.length;
      packed.lengths.push(n);
      total += n;
    });
    packed.texts.push(mask);
    for (const _ in other) {
      (packed.other ??= new Array<Partial<MessageMeta> | 0>(metas.length).fill(0))[i] = other;
      break;
    }
  });
  const data = Buffer.allocUnsafe(total);
  let offset = 0;
  strings.forEach((s, i) => {
    if (typeof s === 'string') data.write(s, offset, 'utf8');
    else s.copy(data, offset);
    offset += packed.lengths[i]!;
  });
  return new DataResult(packed, [data]);
}

/** The CAS side: each text a view of the received buffer (no copy, no decoding). */
export function unpackMetas(result: unknown, data: Buffer[]): MessageMeta[] {
  const packed = result as Packed;
  const bytes = data[0] ?? Buffer.alloc(0);
  const metas: MessageMeta[] = [];
  let offset = 0;
  let next = 0;
  for (let i = 0; i < packed.uid.length; i++) {
    const other = packed.other?.[i];
    const meta: MessageMeta = { uid: packed.uid[i]!, modseq: packed.modseq[i]!, flags: packed.flags[i]!, internalDate: packed.internalDate[i]!, size: packed.size[i]!, ...(other || {}) };
    const mask = packed.texts[i] ?? 0;
    for (let k = 0; k < TEXT_FIELDS.length; k++) {
      if ((mask & (1 << k)) === 0) continue;
      const n = packed.lengths[next++]!;
      meta[TEXT_FIELDS[k]!] = bytes.subarray(offset, offset + n);
      offset += n;
    }
    metas.push(meta);
  }
  return metas;
}
