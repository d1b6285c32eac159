/**
 * All wire quoting of the IMAP server: atoms, quoted strings, literals, nstring and astring
 * (RFC 3501 §4 and §9). Every string Coffer sends to a client goes through this module.
 */

import { MAX_QUOTED_STRING_BYTES } from './limits.js';
import { encodeMutf7 } from './mutf7.js';

/** Text or bytes ready for the wire. Quoted forms are ASCII strings; literals are Buffers. */
export type WireChunk = string | Buffer;

export interface QuoteOptions {
  /** After `ENABLE UTF8=ACCEPT` (RFC 6855) UTF-8 may be sent in quoted strings. */
  readonly isUtf8Enabled?: boolean;
}

/**
 * ATOM-CHAR = <any CHAR except atom-specials>; atom-specials = "(" / ")" / "{" / SP / CTL /
 * list-wildcards / quoted-specials / resp-specials (RFC 3501 §9).
 */
function isAtomChar(c: number): boolean {
  return (
    c > 0x20 && c < 0x7f && c !== 0x28 && c !== 0x29 && c !== 0x7b && c !== 0x25 && c !== 0x2a && c !== 0x22 && c !== 0x5c && c !== 0x5d
  );
}

/** True when `value` can be sent as an atom. */
export function isAtom(value: string): boolean {
  if (value.length === 0) return false;
  for (let k = 0; k < value.length; k++) if (!isAtomChar(value.charCodeAt(k))) return false;
  return true;
}

/** True when `value` can be sent as a quoted string (no CR, LF or NUL; 8-bit only with UTF-8). */
export function canQuote(value: string | Buffer, options: QuoteOptions = {}): boolean {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  if (bytes.length > MAX_QUOTED_STRING_BYTES) return false;
  for (const c of bytes) {
    if (c === 0 || c === 0x0d || c === 0x0a) return false;
    if (c > 0x7f && options.isUtf8Enabled !== true) return false;
  }
  return true;
}

/**
 * quoted = DQUOTE *QUOTED-CHAR DQUOTE, escaping `\` and `"`. Callers must check `canQuote` first;
 * quoting CR, LF or NUL would corrupt the stream, so it is treated as a bug and throws.
 */
export function quoteString(value: string): string {
  if (/[\r\n\0]/.test(value)) throw new RangeError('CR, LF and NUL cannot be sent in a quoted string');
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** literal = "{" number "}" CRLF *CHAR8. */
export function literal(value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return Buffer.concat([Buffer.from(`{${bytes.length}}\r\n`, 'latin1'), bytes]);
}

/** string = quoted / literal: quoted when safe and short, a literal otherwise. */
export function imapString(value: string | Buffer, options: QuoteOptions = {}): WireChunk {
  if (canQuote(value, options)) {
    return quoteString(typeof value === 'string' ? value : value.toString('utf8'));
  }
  return literal(value);
}

/** nstring = string / nil. */
export function nstring(value: string | Buffer | null | undefined, options: QuoteOptions = {}): WireChunk {
  return value === null || value === undefined ? 'NIL' : imapString(value, options);
}

/** astring = 1*ASTRING-CHAR / string; an atom spelled NIL is quoted so it is not read as nil. */
export function astring(value: string, options: QuoteOptions = {}): WireChunk {
  if (isAtom(value) && value.toUpperCase() !== 'NIL') return value;
  return imapString(value, options);
}

/** Joins wire chunks into one Buffer. */
export function concatWire(chunks: readonly WireChunk[]): Buffer {
  return Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c, 'utf8') : c)));
}

/** Byte length of a wire chunk. */
export function wireLength(chunk: WireChunk): number {
  return typeof chunk === 'string' ? Buffer.byteLength(chunk, 'utf8') : chunk.length;
}

/**
 * A mailbox name for the wire: modified UTF-7 (RFC 3501 §5.1.3) unless UTF-8 is enabled
 * (RFC 6855 §3), then an astring.
 */
export function mailboxName(name: string, options: QuoteOptions = {}): WireChunk {
  return astring(options.isUtf8Enabled === true ? name : encodeMutf7(name), options);
}
