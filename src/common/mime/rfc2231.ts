/**
 * Content-Type / Content-Disposition values: "type/subtype; key=value; ...".
 *
 * Two views of the parameters are kept:
 * - `raw`: what Dovecot's rfc2231_parse() hands to BODYSTRUCTURE — RFC 2231
 *   continuations (key*0, key*1) merged, an extended value kept encoded under
 *   "key*" as "charset'lang'%XX..." (RFC 3501 says servers pass parameters
 *   through; clients decode them);
 * - `decoded`: charset and percent-decoded, plus RFC 2047 words inside quoted
 *   values (Outlook and others send name="=?utf-8?B?...?="), for display,
 *   attachment names and search.
 */
import { decodeCharset } from './charset.js';
import { Rfc822Lexer } from './rfc822-lexer.js';
import { decodeEncodedWords } from './rfc2047.js';

export type ParamList = Array<[string, string]>;

export interface ContentValue {
  /** Main value as sent ("text", or "attachment"); null if unparseable. */
  type: string | null;
  /** Subtype as sent (Content-Type only); '' when missing. */
  subtype: string;
  raw: ParamList;
  decoded: Record<string, string>;
  broken: boolean;
}

interface Segment {
  key: string;
  idx: number;
  extended: boolean;
  value: string;
}

/**
 * Reads `; key=value` pairs twice over:
 * - `strict`, the way Dovecot's rfc822_parse_content_param() does (value is a
 *   quoted-string or a MIME token; "name==?..?=" taken up to whitespace; any
 *   garbage after it skipped up to the next ";"), for BODYSTRUCTURE;
 * - `lenient`, where an unquoted value runs to the next ";" so unquoted file
 *   names with spaces (a common sender bug) stay whole, for display.
 */
function readParams(lx: Rfc822Lexer): { strict: ParamList; lenient: ParamList; broken: boolean } {
  const strict: ParamList = [];
  const lenient: ParamList = [];
  let broken = false;
  const s = lx.s;
  while (lx.skipCfws()) {
    if (lx.peek() !== ';') {
      broken = true;
      const semi = s.indexOf(';', lx.pos);
      if (semi === -1) break;
      lx.pos = semi;
    }
    lx.pos++;
    if (!lx.skipCfws()) break;
    const key = lx.mimeToken();
    if (key === null) {
      broken = true;
      continue;
    }
    lx.skipCfws();
    if (lx.peek() !== '=') {
      broken = true;
      continue;
    }
    lx.pos++;
    lx.skipCfws();
    // Dovecot passes parameter names through as sent ("CHARSET"); the
    // decoded view uses lowercase names.
    const name = key.toLowerCase();
    if (lx.peek() === '"') {
      const v = lx.quoted();
      strict.push([key, v]);
      lenient.push([name, v]);
      continue;
    }
    const start = lx.pos;
    let strictValue: string;
    if (lx.peek() === '=') {
      let p = start;
      while (p < s.length && s[p] !== ';' && s[p] !== ' ' && s[p] !== '\t' && s[p] !== '\r' && s[p] !== '\n') p++;
      strictValue = s.slice(start, p);
    } else {
      strictValue = lx.mimeToken() ?? '';
    }
    while (lx.pos < s.length && s[lx.pos] !== ';') lx.pos++;
    strict.push([key, strictValue]);
    lenient.push([name, s.slice(start, lx.pos).replace(/[\r\n]/g, '').trim()]);
  }
  return { strict, lenient, broken };
}

function percentDecode(v: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 0x25 && i + 2 < v.length && /^[0-9a-fA-F]{2}$/.test(v.slice(i + 1, i + 3))) {
      out.push(parseInt(v.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c > 0xff) {
      for (const b of Buffer.from(v[i]!, 'utf8')) out.push(b);
    } else out.push(c);
  }
  return Buffer.from(out);
}

/** Merge RFC 2231 continuations the way Dovecot does (raw) and decode them. */
function mergeParams(pairs: ParamList): { raw: ParamList; decoded: Record<string, string> } {
  const raw: ParamList = [];
  const decoded: Record<string, string> = {};
  const segments: Segment[] = [];
  for (const [key, value] of pairs) {
    const star = key.indexOf('*');
    if (star !== -1) {
      const rest = key.slice(star + 1);
      const m = /^(\d*)(\*?)$/.exec(rest);
      if (m) {
        // "key*=" alone is extended (RFC 2231 §4); "key*0=" a plain continuation.
        segments.push({ key: key.slice(0, star), idx: m[1] ? parseInt(m[1], 10) : 0, extended: m[2] === '*' || rest === '', value });
        continue;
      }
    }
    raw.push([key, value]);
    if (!(key in decoded)) decoded[key] = value.includes('=?') ? decodeEncodedWords(value) : value;
  }
  if (segments.length === 0) return { raw, decoded };
  // group case-insensitively (Dovecot compares with strcasecmp), keep the
  // first spelling of the name
  const byKey = new Map<string, Segment[]>();
  for (const seg of segments) {
    const k = seg.key.toLowerCase();
    const list = byKey.get(k) ?? [];
    list.push(seg);
    byKey.set(k, list);
  }
  for (const list of byKey.values()) {
    const key = list[0]!.key;
    list.sort((a, b) => a.idx - b.idx);
    const contiguous = list.every((seg, i) => seg.idx === i);
    const hasExtended = list.some((seg) => seg.extended);
    if (!contiguous) {
      for (const seg of list) raw.push([`${key}*${seg.idx}${seg.extended ? '*' : ''}`, seg.value]);
    } else {
      let joined = !list[0]!.extended && hasExtended ? "''" : '';
      for (const seg of list) joined += !seg.extended && hasExtended ? seg.value.replace(/%/g, '%25') : seg.value;
      raw.push([hasExtended ? `${key}*` : key, joined]);
    }
    // decoded view
    let charset = '';
    const bytes: Buffer[] = [];
    list.forEach((seg, i) => {
      let v = seg.value;
      if (seg.extended) {
        if (i === 0) {
          const q1 = v.indexOf("'");
          const q2 = q1 === -1 ? -1 : v.indexOf("'", q1 + 1);
          if (q2 !== -1) {
            charset = v.slice(0, q1);
            v = v.slice(q2 + 1);
          }
        }
        bytes.push(percentDecode(v));
      } else {
        bytes.push(Buffer.from(v, 'utf8'));
      }
    });
    const text = decodeCharset(Buffer.concat(bytes), charset || 'utf-8');
    decoded[key] = text.includes('=?') ? decodeEncodedWords(text) : text;
  }
  return { raw, decoded };
}

/** Content-Type: type "/" subtype *(";" parameter) — RFC 2045 §5.1. */
export function parseContentType(value: string): ContentValue {
  const lx = new Rfc822Lexer(value);
  lx.skipCfws();
  const type = lx.mimeToken();
  if (type === null) return { type: null, subtype: '', raw: [], decoded: {}, broken: true };
  lx.skipCfws();
  if (lx.peek() !== '/') {
    // Dovecot keeps a broken type with an empty subtype and ignores parameters.
    return { type, subtype: '', raw: [], decoded: {}, broken: true };
  }
  lx.pos++;
  lx.skipCfws();
  const subtype = lx.mimeToken() ?? '';
  const { strict, lenient, broken } = readParams(lx);
  return { type, subtype, raw: mergeParams(strict).raw, decoded: mergeParams(lenient).decoded, broken: broken || subtype === '' };
}

/** Content-Disposition: disposition-type *(";" parameter) — RFC 2183. */
export function parseDisposition(value: string): ContentValue {
  const lx = new Rfc822Lexer(value);
  lx.skipCfws();
  const type = lx.mimeToken();
  if (type === null) return { type: null, subtype: '', raw: [], decoded: {}, broken: true };
  const { strict, lenient, broken } = readParams(lx);
  return { type, subtype: '', raw: mergeParams(strict).raw, decoded: mergeParams(lenient).decoded, broken };
}
