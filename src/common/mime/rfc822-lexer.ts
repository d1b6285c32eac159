/**
 * Tokeniser for structured header values (RFC 5322 §3.2, RFC 2045 §5.1),
 * modelled on the behaviour of Dovecot's rfc822-parser: CFWS is skipped
 * everywhere, the last comment seen is remembered (it becomes the display
 * name of "user@domain (Name)"), quoted strings are unescaped, 8-bit
 * characters count as atext (RFC 6532). Every loop advances, so the work is
 * linear in the input; nothing here uses regular expressions.
 */

const ATEXT_SPECIALS = "!#$%&'*+-/=?^_`{|}~";
// RFC 2045 tspecials, which may not appear in a MIME token.
const TSPECIALS = '()<>@,;:\\"/[]?=';

function isAtext(c: string): boolean {
  const code = c.charCodeAt(0);
  if (code >= 0x80) return true;
  if ((code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a)) return true;
  return ATEXT_SPECIALS.includes(c);
}

function isMimeTokenChar(c: string): boolean {
  const code = c.charCodeAt(0);
  if (code <= 0x20 || code === 0x7f) return false;
  return !TSPECIALS.includes(c);
}

export class Rfc822Lexer {
  pos = 0;
  lastComment = '';
  constructor(readonly s: string) {}

  get atEnd(): boolean {
    return this.pos >= this.s.length;
  }

  peek(): string {
    return this.s[this.pos] ?? '';
  }

  /** Skip whitespace, folding and (nested) comments. Returns false at end. */
  skipCfws(): boolean {
    const s = this.s;
    while (this.pos < s.length) {
      const c = s[this.pos]!;
      if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
        this.pos++;
      } else if (c === '(') {
        this.readComment();
      } else {
        return true;
      }
    }
    return false;
  }

  private readComment(): void {
    const s = this.s;
    let depth = 0;
    let text = '';
    while (this.pos < s.length) {
      const c = s[this.pos++]!;
      if (c === '\\' && this.pos < s.length) {
        text += s[this.pos++];
        continue;
      }
      if (c === '(') {
        if (depth > 0) text += c;
        depth++;
      } else if (c === ')') {
        depth--;
        if (depth === 0) break;
        text += c;
      } else if (c !== '\r' && c !== '\n') {
        text += c;
      }
    }
    this.lastComment = text;
  }

  /** atom = 1*atext */
  atom(): string | null {
    const s = this.s;
    const start = this.pos;
    while (this.pos < s.length && isAtext(s[this.pos]!)) this.pos++;
    return this.pos > start ? s.slice(start, this.pos) : null;
  }

  /** quoted-string, unescaped; CR/LF of folds removed. */
  quoted(): string {
    const s = this.s;
    let out = '';
    this.pos++; // opening quote
    while (this.pos < s.length) {
      const c = s[this.pos++]!;
      if (c === '"') return out;
      if (c === '\\' && this.pos < s.length) {
        out += s[this.pos++];
      } else if (c !== '\r' && c !== '\n') {
        out += c;
      }
    }
    return out; // unterminated: keep what we have
  }

  /** dot-atom, tolerating CFWS around dots (obs-local-part / obs-domain).
   * Like Dovecot, trailing CFWS is consumed, so a comment after the domain
   * ends up in lastComment. */
  dotAtom(): string | null {
    let out = this.atom();
    if (out === null) return null;
    for (;;) {
      this.skipCfws();
      if (this.peek() !== '.') return out;
      this.pos++;
      out += '.';
      this.skipCfws();
      const next = this.peek() === '"' ? this.quoted() : this.atom();
      if (next === null) return out;
      out += next;
    }
  }

  /** word = atom / quoted-string */
  word(): string | null {
    if (this.peek() === '"') return this.quoted();
    return this.atom();
  }

  /**
   * phrase = 1*word / obs-phrase (RFC 5322 §3.2.5, §4.1); words joined by one
   * space. Like Dovecot, dots stick to the atom they touch ("Joe Q. Public"),
   * and a phrase may not start with a dot. Returns null if there is no word.
   */
  phrase(): string | null {
    let out: string | null = null;
    this.skipCfws();
    if (this.peek() === '.') return null;
    for (;;) {
      const c = this.peek();
      let w: string | null;
      if (c === '"') w = this.quoted();
      else w = this.atomOrDot();
      if (w === null) return out;
      out = out === null ? w : out + ' ' + w;
      this.skipCfws();
    }
  }

  /** 1*(atext / ".") — Dovecot's rfc822_parse_atom_or_dot. */
  private atomOrDot(): string | null {
    const s = this.s;
    const start = this.pos;
    while (this.pos < s.length && (s[this.pos] === '.' || isAtext(s[this.pos]!))) this.pos++;
    return this.pos > start ? s.slice(start, this.pos) : null;
  }

  /** domain = dot-atom / domain-literal */
  domain(): string | null {
    this.skipCfws();
    if (this.peek() === '[') {
      const s = this.s;
      const start = this.pos;
      while (this.pos < s.length && s[this.pos] !== ']') this.pos++;
      if (this.pos < s.length) this.pos++;
      return s.slice(start, this.pos).replace(/[\r\n]/g, '');
    }
    return this.dotAtom();
  }

  /** MIME token (RFC 2045 §5.1). */
  mimeToken(): string | null {
    const s = this.s;
    const start = this.pos;
    while (this.pos < s.length && isMimeTokenChar(s[this.pos]!)) this.pos++;
    return this.pos > start ? s.slice(start, this.pos) : null;
  }
}
