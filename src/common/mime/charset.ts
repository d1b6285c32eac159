/**
 * Charset conversion to JS strings. iconv-lite first (its single-byte tables
 * are exact: Node's TextDecoder decodes windows-1252 as ISO-8859-1, losing
 * "€" and friends), Node's TextDecoder (ICU) for what iconv-lite lacks, such
 * as ISO-2022-JP. Labels seen in real mail that neither knows are
 * mapped first. Unknown or bogus labels fall back to UTF-8 when the bytes are
 * valid UTF-8, else windows-1252 — what mail clients do in practice.
 */
import { isAscii, isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';

/** Aliases from the wild → a label TextDecoder / iconv-lite understands. */
const ALIASES: Record<string, string> = {
  'ks_c_5601-1987': 'cp949', // Outlook's name for Korean; cp949 is the superset it sends
  'ks_c_5601': 'cp949',
  'x-unknown': '',
  'unknown-8bit': '',
  'x-user-defined': '',
  'default': '',
  'us-ascii': 'windows-1252', // WHATWG: ASCII and Latin-1 labels decode as windows-1252
  'ascii': 'windows-1252',
  'ansi_x3.4-1968': 'windows-1252',
  'iso-8859-8-i': 'iso-8859-8',
  'cp-850': 'cp850',
  'utf8': 'utf-8',
  'x-sjis': 'shift_jis',
  'sjis': 'shift_jis',
  'x-euc-jp': 'euc-jp',
  'gb2312': 'gbk', // GBK is a superset; mailers label GBK text as gb2312
  'x-gbk': 'gbk',
  'big5-hkscs': 'big5',
  'cp1252': 'windows-1252',
  'cp1251': 'windows-1251',
  'cp1250': 'windows-1250',
  'latin1': 'windows-1252',
};

type Decoder = InstanceType<typeof TextDecoder>;

const decoderCache = new Map<string, Decoder | null>();

function textDecoderFor(label: string): Decoder | null {
  let d = decoderCache.get(label);
  if (d === undefined) {
    try {
      d = new TextDecoder(label, { fatal: false });
    } catch {
      d = null;
    }
    decoderCache.set(label, d);
  }
  return d;
}

export function isValidUtf8(bytes: Uint8Array): boolean {
  return isUtf8(bytes);
}

/** Any well-formed 2..4-byte UTF-8 sequence in the bytes? */
function hasUtf8Sequence(buf: Buffer): boolean {
  for (let i = 0; i + 1 < buf.length; i++) {
    const b = buf[i]!;
    if (b < 0xc2 || b > 0xf4) continue;
    const need = b >= 0xf0 ? 3 : b >= 0xe0 ? 2 : 1;
    let ok = i + need < buf.length;
    for (let k = 1; ok && k <= need; k++) ok = (buf[i + k]! & 0xc0) === 0x80;
    if (ok) return true;
  }
  return false;
}

function guess(bytes: Uint8Array): string {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isAscii(bytes)) return buf.toString('latin1');
  if (isUtf8(bytes)) return buf.toString('utf8');
  return iconv.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), 'win1252');
}

/** Canonical lowercase label with aliases applied ('' means "guess"). */
export function normalizeCharset(label: string | null | undefined): string {
  if (!label) return '';
  let l = label.trim().toLowerCase().replace(/^["']+|["']+$/g, '');
  const star = l.indexOf('*'); // RFC 2231 §5 language suffix: "utf-8*en"
  if (star !== -1) l = l.slice(0, star);
  return ALIASES[l] ?? l;
}

/** Decode bytes in `charset` to a string; never throws. */
export function decodeCharset(bytes: Uint8Array, charset: string | null | undefined): string {
  const label = normalizeCharset(charset);
  if (label === '') return guess(bytes);
  if (label === 'utf-8') {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (isUtf8(bytes)) return buf.toString('utf8');
    // Declared UTF-8 but not valid: mostly UTF-8 with a few broken bytes
    // decodes as UTF-8 (U+FFFD for the broken ones); text with no UTF-8
    // sequence at all is Latin-1/windows-1252 mislabelled by the sender.
    return hasUtf8Sequence(buf) ? buf.toString('utf8') : iconv.decode(buf, 'win1252');
  }
  if (label.startsWith('utf-16')) {
    // Senders put an ASCII CRLF after UTF-16 text before the boundary; as a
    // UTF-16 code unit it would be U+0A0D/U+0D0A. Drop it and a dangling byte.
    let end = bytes.length;
    if (end >= 2 && bytes[end - 2] === 0x0d && bytes[end - 1] === 0x0a) end -= 2;
    if (end % 2 === 1) end--;
    bytes = bytes.subarray(0, end);
  }
  if (label === 'utf-7' || label === 'unicode-1-1-utf-7') {
    return iconv.decode(Buffer.from(bytes), 'utf7');
  }
  if (iconv.encodingExists(label)) return iconv.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), label);
  const td = textDecoderFor(label);
  if (td) return td.decode(bytes);
  return guess(bytes);
}
