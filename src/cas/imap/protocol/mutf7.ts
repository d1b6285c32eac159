/**
 * Modified UTF-7 for mailbox names (RFC 3501 §5.1.3).
 *
 * Printable US-ASCII except `&` stands for itself; `&` is `&-`; every other run of characters is
 * UTF-16BE, base64-encoded with `,` for `/` and no padding, between `&` and `-`. Decoding rejects
 * every form the RFC forbids instead of guessing, so each name has exactly one encoding.
 */

import { ProtocolError, fail, ok, type ParseResult } from './errors.js';

const BASE64_CHAR = /^[A-Za-z0-9+,]$/;

function isDirectChar(code: number): boolean {
  return code >= 0x20 && code <= 0x7e;
}

function invalid(message: string): ProtocolError {
  return new ProtocolError('INVALID_MAILBOX_NAME', 'BAD', `Invalid modified UTF-7 mailbox name: ${message}`);
}

/** Encodes a Unicode mailbox name to modified UTF-7. */
export function encodeMutf7(name: string): string {
  let out = '';
  let k = 0;
  while (k < name.length) {
    const code = name.charCodeAt(k);
    if (code === 0x26) {
      out += '&-';
      k++;
    } else if (isDirectChar(code)) {
      out += name[k];
      k++;
    } else {
      let end = k;
      while (end < name.length && !isDirectChar(name.charCodeAt(end))) end++;
      const units = Buffer.alloc((end - k) * 2);
      for (let u = k; u < end; u++) units.writeUInt16BE(name.charCodeAt(u), (u - k) * 2);
      out += `&${units.toString('base64').replace(/=+$/, '').replace(/\//g, ',')}-`;
      k = end;
    }
  }
  return out;
}

/** Decodes a modified UTF-7 mailbox name, or explains why it is not valid. */
export function decodeMutf7(encoded: string): ParseResult<string> {
  let out = '';
  let k = 0;
  let previousShiftEnd = -1;
  while (k < encoded.length) {
    const code = encoded.charCodeAt(k);
    if (!isDirectChar(code)) return fail(invalid(`character U+${code.toString(16).toUpperCase().padStart(4, '0')} must be encoded`));
    if (code !== 0x26) {
      out += encoded[k];
      k++;
      continue;
    }
    const close = encoded.indexOf('-', k + 1);
    if (close === -1) return fail(invalid("'&' without a closing '-'"));
    if (close === k + 1) {
      out += '&';
      k += 2;
      continue;
    }
    if (previousShiftEnd === k) return fail(invalid('two adjacent encoded runs must be one'));
    const run = encoded.slice(k + 1, close);
    for (const c of run) if (!BASE64_CHAR.test(c)) return fail(invalid(`'${c}' is not a modified BASE64 character`));
    // 6 bits per character; the UTF-16 units must fill whole 16-bit units, leftover bits zero.
    const bits = run.length * 6;
    if (bits % 16 >= 6) return fail(invalid('encoded run does not end on a UTF-16 boundary'));
    const padded = run.replace(/,/g, '/') + '='.repeat((4 - (run.length % 4)) % 4);
    const bytes = Buffer.from(padded, 'base64');
    const unitCount = Math.floor(bits / 16);
    if (!hasZeroTrailingBits(run, bits % 16)) return fail(invalid('non-zero padding bits'));
    let decoded = '';
    for (let u = 0; u < unitCount; u++) decoded += String.fromCharCode(bytes.readUInt16BE(u * 2));
    for (let u = 0; u < decoded.length; u++) {
      const c = decoded.charCodeAt(u);
      if (c >= 0xd800 && c <= 0xdbff) {
        const next = decoded.charCodeAt(u + 1);
        if (!(next >= 0xdc00 && next <= 0xdfff)) return fail(invalid('unpaired UTF-16 surrogate'));
        u++;
      } else if (c >= 0xdc00 && c <= 0xdfff) {
        return fail(invalid('unpaired UTF-16 surrogate'));
      } else if (isDirectChar(c)) {
        return fail(invalid(`printable ASCII '${String.fromCharCode(c)}' must not be encoded`));
      }
    }
    out += decoded;
    k = close + 1;
    previousShiftEnd = k;
  }
  return ok(out);
}

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,';

/** True when the last `count` bits of the base64 run are zero. */
function hasZeroTrailingBits(run: string, count: number): boolean {
  if (count === 0) return true;
  const last = BASE64_ALPHABET.indexOf(run[run.length - 1]!);
  // count < 6: all the padding bits are in the last character.
  return (last & ((1 << count) - 1)) === 0;
}
