/**
 * IMAP string serialisation for pre-computed ENVELOPE / BODYSTRUCTURE,
 * following Dovecot's imap-quote.c so that clients see the same bytes:
 * - quoted when possible, "\" before DQUOTE and backslash;
 * - a literal {n}\r\n... when the value has CR, LF, 8-bit characters, or more
 *   than 4 quoted-specials (past that a literal is shorter);
 * - "for humans" (subjects, display names): runs of SP/TAB/CR/LF become one
 *   space, ends trimmed; any such change yields a literal.
 *
 * Results are JS strings; literal lengths count UTF-8 bytes, so the caller
 * must write the string as UTF-8 (RFC 6855 / 8-bit literals are allowed in
 * FETCH responses).
 */

const QUOTED_MAX_ESCAPE_CHARS = 4;

function literal(s: string): string {
  return `{${Buffer.byteLength(s, 'utf8')}}\r\n${s}`;
}

/** string (RFC 3501 §4.3): quoted or literal. */
export function imapString(s: string): string {
  let escapes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22 || c === 0x5c) {
      if (escapes++ >= QUOTED_MAX_ESCAPE_CHARS) return literal(s);
    } else if (c === 0x0d || c === 0x0a || c >= 0x80 || c === 0) {
      return literal(s);
    }
  }
  return escapes === 0 ? `"${s}"` : `"${s.replace(/["\\]/g, '\\$&')}"`;
}

/** nstring: NIL for null. */
export function imapNString(s: string | null | undefined): string {
  return s === null || s === undefined ? 'NIL' : imapString(s);
}

/**
 * nstring with line breaks removed (Dovecot imap_append_nstring_nolf): a
 * CR/LF is dropped; if the next line does not start with whitespace, a space
 * keeps the words apart.
 */
export function imapNStringNoLf(s: string | null | undefined): string {
  if (s === null || s === undefined) return 'NIL';
  if (s.indexOf('\r') === -1 && s.indexOf('\n') === -1) return imapString(s);
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch !== '\r' && ch !== '\n') {
      out += ch;
      continue;
    }
    const next = s[i + 1];
    if (next !== undefined && next !== ' ' && next !== '\t' && next !== '\r' && next !== '\n') out += ' ';
  }
  return imapString(out);
}

/** Dovecot imap_append_string_for_humans(). NUL becomes U+FFFD. */
export function imapStringForHumans(s: string): string {
  let modify = false;
  let removed = 0;
  let lastLwsp = true;
  let wsPrefix = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0) {
      lastLwsp = false;
      modify = true;
    } else if (c === 0x09 || c === 0x20 || c === 0x0d || c === 0x0a) {
      // CR, LF and TAB count as whitespace (newer Dovecot): runs become one space
      if (c !== 0x20) modify = true;
      if (lastLwsp) {
        modify = true;
        removed++;
      }
      lastLwsp = true;
    } else {
      if (c === 0x22 || c === 0x5c || c >= 0x80) modify = true;
      lastLwsp = false;
    }
    if (!lastLwsp) wsPrefix = false;
  }
  if (lastLwsp && s.length > 0 && !wsPrefix) modify = true;
  if (!modify) return `"${s}"`;
  if (removed === s.length) return '""';
  let out = '';
  lastLwsp = true;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === '\0') {
      out += '\ufffd';
      lastLwsp = false;
    } else if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n') {
      if (!lastLwsp) out += ' ';
      lastLwsp = true;
    } else {
      out += ch;
      lastLwsp = false;
    }
  }
  if (out.endsWith(' ')) out = out.slice(0, -1);
  return out.length === 0 ? '""' : literal(out);
}
