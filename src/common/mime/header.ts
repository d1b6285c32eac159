/**
 * Header block scanning on the CRLF message (RFC 5322 §2.2).
 *
 * Works on byte offsets only; nothing is copied until a field's value is
 * asked for. Tolerant like Dovecot's message-header-parser: a line without a
 * colon is kept as a field with an empty value, continuation lines start with
 * SP/HTAB, the block ends at the first empty line (or at the end of the part,
 * or at a boundary line of an enclosing multipart).
 */
import { isAscii, isUtf8 } from 'node:buffer';
import { MAX_LINE_OCTETS } from './limits.js';

export interface HeaderField {
  /** Field name as sent (trailing whitespace before the colon removed). */
  name: string;
  /** Lowercased name, for lookups. */
  key: string;
  /** Offset of the first byte of the field. */
  start: number;
  /** Offset just after the field's last CRLF (continuations included). */
  end: number;
  /** Offset of the value: after the colon and leading whitespace. */
  valueStart: number;
  /** End of the value, before the final CRLF (folds inside are kept). */
  valueEnd: number;
}

export interface HeaderBlock {
  fields: HeaderField[];
  start: number;
  /** Start of the body: after the empty line, or where the block was cut. */
  end: number;
  /** False when the block ran into the end of the part without an empty line. */
  hasBlankLine: boolean;
  /** Where line scanning goes on: `end`, or the boundary line that cut the block. */
  next: number;
}

/** Returns true when the line starting at `lineStart` ends the header early
 * (a multipart boundary of an enclosing part). */
export type LineStopper = (lineStart: number) => boolean;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HT = 0x09;
const COLON = 0x3a;

export function parseHeaderBlock(
  buf: Buffer,
  start: number,
  limit: number,
  problems: string[],
  stopAt?: LineStopper,
): HeaderBlock {
  const fields: HeaderField[] = [];
  let pos = start;
  let current: HeaderField | null = null;
  let longLineReported = false;
  let nulReported = false;
  while (pos < limit) {
    let lf = buf.indexOf(LF, pos);
    if (lf === -1 || lf >= limit) lf = limit - 1;
    const lineEnd = lf + 1; // after LF (or at limit)
    let contentEnd = lineEnd;
    if (buf[lf] === LF) {
      contentEnd = lf;
      if (contentEnd > pos && buf[contentEnd - 1] === CR) contentEnd--;
    }
    if (contentEnd === pos && buf[lf] === LF) {
      // empty line: end of header (RFC 5322 §2.1)
      return { fields, start, end: lineEnd, hasBlankLine: true, next: lineEnd };
    }
    if (stopAt && buf[pos] === 0x2d && stopAt(pos)) {
      // Boundary inside a header block: the part has no body. The CRLF before
      // the boundary line belongs to the boundary (RFC 2046 §5.1.1).
      const end = Math.max(start, pos - 2);
      if (current) current.end = Math.min(current.end, end);
      return { fields, start, end, hasBlankLine: false, next: pos };
    }
    if (!longLineReported && contentEnd - pos > MAX_LINE_OCTETS) {
      problems.push(`header line longer than ${MAX_LINE_OCTETS} octets at offset ${pos}`);
      longLineReported = true;
    }
    if (!nulReported) {
      // search inside the line only, so the scan stays linear
      const nul = buf.subarray(pos, contentEnd).indexOf(0);
      if (nul !== -1) {
        problems.push(`NUL byte in header at offset ${pos + nul}`);
        nulReported = true;
      }
    }
    const first = buf[pos];
    if ((first === SP || first === HT) && current) {
      // folded continuation (RFC 5322 §2.2.3)
      current.end = lineEnd;
      current.valueEnd = contentEnd;
    } else {
      let colon = buf.subarray(pos, contentEnd).indexOf(COLON);
      if (colon !== -1) colon += pos;
      let nameEnd = colon === -1 ? contentEnd : colon;
      while (nameEnd > pos && (buf[nameEnd - 1] === SP || buf[nameEnd - 1] === HT)) nameEnd--;
      // Dovecot (MESSAGE_HEADER_PARSER_FLAG_SKIP_INITIAL_LWSP): skip all
      // whitespace after the colon, but only one if the line has nothing else.
      let valueStart = colon === -1 ? contentEnd : colon + 1;
      while (valueStart < contentEnd && (buf[valueStart] === SP || buf[valueStart] === HT)) valueStart++;
      if (valueStart === contentEnd && colon !== -1 && colon + 1 < contentEnd) valueStart = colon + 2;
      const name = buf.toString('latin1', pos, nameEnd);
      current = { name, key: name.toLowerCase(), start: pos, end: lineEnd, valueStart, valueEnd: contentEnd };
      fields.push(current);
    }
    pos = lineEnd;
  }
  if (limit > start) problems.push(`no empty line after header block at offset ${start}`);
  return { fields, start, end: limit, hasBlankLine: false, next: limit };
}

/** Raw value bytes as a "binary" string (one char per byte, folds kept),
 * i.e. Dovecot's full_value: "Subject:\r\n foo" gives "\r\n foo". */
export function rawValue(buf: Buffer, f: HeaderField): string {
  return buf.toString('latin1', f.valueStart, f.valueEnd);
}

/** Header bytes decoded as text: UTF-8 when valid (RFC 6532), else Latin-1. */
export function bytesToText(bytes: Buffer): string {
  if (isAscii(bytes)) return bytes.toString('latin1');
  return isUtf8(bytes) ? bytes.toString('utf8') : bytes.toString('latin1');
}

/** A binary string (from rawValue) as text: UTF-8 if valid, else Latin-1. */
export function binaryToText(bin: string): string {
  let high = false;
  for (let i = 0; i < bin.length; i++) {
    const c = bin.charCodeAt(i);
    if (c > 0xff) return bin; // already decoded text, not a binary string
    if (c >= 0x80) high = true;
  }
  return high ? bytesToText(Buffer.from(bin, 'latin1')) : bin;
}

/** Value of a header field as text: 8-bit tolerant, folds kept. */
export function fieldText(buf: Buffer, f: HeaderField): string {
  return binaryToText(rawValue(buf, f));
}

/** Remove folding CRLFs (RFC 5322 §2.2.3: unfolding is removing CRLF before WSP). */
export function unfold(s: string): string {
  if (s.indexOf('\n') === -1 && s.indexOf('\r') === -1) return s;
  return s.replace(/\r?\n/g, '').replace(/\r/g, '');
}

export function firstField(fields: HeaderField[], key: string): HeaderField | undefined {
  for (const f of fields) if (f.key === key) return f;
  return undefined;
}

export function lastField(fields: HeaderField[], key: string): HeaderField | undefined {
  for (let i = fields.length - 1; i >= 0; i--) if (fields[i]!.key === key) return fields[i];
  return undefined;
}

/**
 * All fields of a stored header block, values unfolded and decoded (RFC 2047,
 * 8-bit as UTF-8/Latin-1), in order. For SEARCH HEADER and for showing the
 * full header; `raw` keeps the value as sent (folds removed).
 */
export function readHeaderFields(headerBlock: Buffer, decode: (raw: string) => string): Array<{ name: string; raw: string; value: string }> {
  const block = parseHeaderBlock(headerBlock, 0, headerBlock.length, []);
  return block.fields.map((f) => {
    const raw = unfold(binaryToText(rawValue(headerBlock, f)));
    return { name: f.name, raw, value: decode(raw) };
  });
}
