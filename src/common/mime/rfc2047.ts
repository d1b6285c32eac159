/**
 * RFC 2047 encoded-word decoding ("=?charset?B|Q?text?=") plus unfolding.
 *
 * Tolerances that real mail needs: whitespace between two encoded words is
 * dropped (RFC 2047 §6.2); adjacent words in the same charset are joined at
 * byte level before decoding, so a multi-byte character split across two
 * words (common with iso-2022-jp and UTF-8 senders) survives; encoded words
 * glued to text; raw 8-bit bytes read as UTF-8 when valid, else Latin-1.
 * The scanner uses indexOf only, so it is linear in the input.
 */
import { decodeCharset } from './charset.js';
import { bytesToText, binaryToText, readHeaderFields as readFields, unfold } from './header.js';

interface EncodedWord {
  end: number;
  charset: string;
  bytes: Buffer;
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** Q encoding (RFC 2047 §4.2): "_" is space, =XX a byte. */
export function decodeQ(text: string): Buffer {
  const out = Buffer.allocUnsafe(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5f) out[n++] = 0x20;
    else if (c === 0x3d && i + 2 < text.length && hexVal(text.charCodeAt(i + 1)) >= 0 && hexVal(text.charCodeAt(i + 2)) >= 0) {
      out[n++] = hexVal(text.charCodeAt(i + 1)) * 16 + hexVal(text.charCodeAt(i + 2));
      i += 2;
    } else out[n++] = c & 0xff;
  }
  return out.subarray(0, n);
}

/** Longest encoded word accepted. RFC 2047 §2 says 75; real senders write
 * longer ones, but a span of kilobytes is not a word. */
const MAX_ENCODED_WORD = 4096;

/**
 * Finds "?=" at or after `from`, remembering the last answer: the first
 * "?=" after a position is also the first after any later position before
 * it, so scanning a value with many "=?" stays linear.
 */
class TerminatorFinder {
  private from = -1;
  private found = -1;
  constructor(private readonly s: string) {}
  next(from: number): number {
    if (this.from !== -1 && from >= this.from && (this.found === -1 || from <= this.found)) return this.found;
    this.from = from;
    this.found = this.s.indexOf('?=', from);
    return this.found;
  }
}

function isWs(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

function parseEncodedWord(s: string, at: number, terminators: TerminatorFinder): EncodedWord | null {
  // at points to "=?"; the next "?" is at most the one of the next "=?"
  const q1 = s.indexOf('?', at + 2);
  if (q1 === -1 || q1 - at > 80) return null;
  const charset = s.slice(at + 2, q1);
  if (charset.length === 0 || /[\s"(),:;<>@[\]]/.test(charset)) return null;
  const enc = s[q1 + 1];
  if (s[q1 + 2] !== '?' || !enc) return null;
  const textStart = q1 + 3;
  const q2 = terminators.next(textStart);
  if (q2 === -1 || q2 - at > MAX_ENCODED_WORD) return null;
  // whitespace at either end means this is not one word (e.g. "=?a?q? x ?=")
  if (q2 > textStart && (isWs(s[textStart]) || isWs(s[q2 - 1]))) return null;
  const text = s.slice(textStart, q2);
  let bytes: Buffer;
  if (enc === 'B' || enc === 'b') bytes = Buffer.from(text.replace(/\s+/g, ''), 'base64');
  else if (enc === 'Q' || enc === 'q') bytes = decodeQ(text);
  else return null;
  return { end: q2 + 2, charset, bytes };
}

function isAllWhitespace(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== ' ' && c !== '\t' && c !== '\r' && c !== '\n') return false;
  }
  return true;
}

/** Decode encoded words in an already-textual value. */
export function decodeEncodedWords(input: string): string {
  const s = unfold(input);
  if (s.indexOf('=?') === -1) return s;
  let out = '';
  let pos = 0;
  let pendingCharset = '';
  let pending: Buffer[] = [];
  const flush = (): void => {
    if (pending.length > 0) {
      out += decodeCharset(Buffer.concat(pending), pendingCharset);
      pending = [];
    }
  };
  let lastWasWord = false;
  const terminators = new TerminatorFinder(s);
  while (pos < s.length) {
    const at = s.indexOf('=?', pos);
    if (at === -1) break;
    const w = parseEncodedWord(s, at, terminators);
    if (!w) {
      flush();
      out += s.slice(pos, at + 2);
      pos = at + 2;
      lastWasWord = false;
      continue;
    }
    const between = s.slice(pos, at);
    if (!(lastWasWord && isAllWhitespace(between))) {
      flush();
      out += between;
    }
    const cs = w.charset.toLowerCase();
    if (pending.length > 0 && cs !== pendingCharset) flush();
    pendingCharset = cs;
    pending.push(w.bytes);
    pos = w.end;
    lastWasWord = true;
  }
  flush();
  return out + s.slice(pos);
}

/**
 * Decode a header value for display and search: unfold, read raw 8-bit as
 * UTF-8/Latin-1, decode RFC 2047 encoded words.
 */
export function decodeHeaderValue(raw: Buffer | string): string {
  const text = typeof raw === 'string' ? binaryToText(raw) : bytesToText(raw);
  return decodeEncodedWords(text).replace(/\0/g, '\ufffd');
}

/** Fields of a header block with decoded values (see header.ts). */
export function readHeaderFields(headerBlock: Buffer): Array<{ name: string; raw: string; value: string }> {
  return readFields(headerBlock, (raw) => decodeEncodedWords(raw).replace(/\0/g, '\ufffd'));
}
