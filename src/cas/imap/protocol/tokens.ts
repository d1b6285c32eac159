/**
 * Argument tokens and the tokenizer that turns one command line segment into them.
 *
 * RFC 3501 §9: the arguments of a command are atoms, numbers, quoted strings, literals, NIL and
 * parenthesised lists. A command spans several line segments when it carries literals; the
 * tokenizer keeps its list stack between segments so the parser can feed it one segment at a time
 * and insert each literal where it was announced.
 */

/**
 * An atom. When it holds a bracketed part, as `BODY.PEEK[HEADER.FIELDS (From To)]<0.100>` does,
 * the whole text up to the matching `]` (spaces and parentheses included) is one token, as the
 * grammar's `section` requires; `section` splits it at the first bracket pair.
 */
export interface AtomToken {
  readonly type: 'atom';
  readonly value: string;
  readonly section?: AtomSection;
}

/** `prefix[text]suffix`, e.g. `BODY.PEEK`, `HEADER.FIELDS (From To)`, `<0.100>`. */
export interface AtomSection {
  readonly prefix: string;
  readonly text: string;
  readonly suffix: string;
}

/** A digits-only atom whose value is a safe integer; longer digit runs stay atoms. */
export interface NumberToken {
  readonly type: 'number';
  readonly value: number;
  readonly raw: string;
}

/** A quoted string, unescaped and decoded as UTF-8. */
export interface StringToken {
  readonly type: 'string';
  readonly value: string;
}

/** A literal `{n}`, `{n+}` or literal8 `~{n}`; discarded literals (APPEND) carry no bytes. */
export interface LiteralToken {
  readonly type: 'literal';
  readonly value: Buffer;
  readonly size: number;
  readonly isBinary: boolean;
  readonly isDiscarded: boolean;
}

export interface NilToken {
  readonly type: 'nil';
}

export interface ListToken {
  readonly type: 'list';
  readonly items: Token[];
}

export type Token = AtomToken | NumberToken | StringToken | LiteralToken | NilToken | ListToken;

/** astring = 1*ASTRING-CHAR / string (RFC 3501 §9): an atom, number, quoted string or literal; NIL is not one. */
export function astringValue(token: Token | undefined): string | null {
  if (token === undefined) return null;
  switch (token.type) {
    case 'atom':
      return token.value;
    case 'number':
      return token.raw;
    case 'string':
      return token.value;
    case 'literal':
      return token.isDiscarded ? null : token.value.toString('utf8');
    default:
      return null;
  }
}

/** What the tokenizer found at the end of a segment. */
export type SegmentResult =
  | { readonly kind: 'end' }
  | { readonly kind: 'literal'; readonly size: number; readonly isSync: boolean; readonly isBinary: boolean }
  | { readonly kind: 'error'; readonly message: string };

const SP = 0x20;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const LPAREN = 0x28;
const RPAREN = 0x29;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const TILDE = 0x7e;
const PLUS = 0x2b;

function isControl(c: number): boolean {
  return c < 0x20 || c === 0x7f;
}

function describeByte(c: number): string {
  return c >= 0x21 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `0x${c.toString(16).padStart(2, '0')}`;
}

/** Tokenizes the argument part of one command, one line segment at a time. */
export class ArgumentTokenizer {
  private readonly root: Token[] = [];
  private readonly stack: ListToken[] = [];
  /** True right after a complete token: the next byte must be SP, `)` or the end of the line. */
  private isSeparatorExpected = false;

  constructor(private readonly maxListDepth: number) {}

  get tokens(): Token[] {
    return this.root;
  }

  /** Lists opened and not yet closed. */
  get openListCount(): number {
    return this.stack.length;
  }

  /** Inserts the literal announced at the end of the previous segment. */
  addLiteral(token: LiteralToken): void {
    this.push(token);
  }

  /** Tokenizes `segment[start..]` (a line without its CRLF). Linear in the segment length. */
  tokenize(segment: Buffer, start: number): SegmentResult {
    const end = segment.length;
    let i = start;
    /** Once a `[` found no `]` in this segment, later ones cannot either: keeps the scan linear. */
    let isBracketScanExhausted = false;
    while (i < end) {
      const c = segment[i]!;
      if (c === SP) {
        this.isSeparatorExpected = false;
        i++;
        continue;
      }
      if (c === RPAREN) {
        if (this.stack.length === 0) return { kind: 'error', message: "Unexpected ')'" };
        this.stack.pop();
        this.isSeparatorExpected = true;
        i++;
        continue;
      }
      if (this.isSeparatorExpected) return { kind: 'error', message: `Expected a space before ${describeByte(c)}` };
      if (c === LPAREN) {
        if (this.stack.length >= this.maxListDepth) {
          return { kind: 'error', message: `Lists nested deeper than ${this.maxListDepth} levels` };
        }
        const list: ListToken = { type: 'list', items: [] };
        this.push(list);
        this.stack.push(list);
        this.isSeparatorExpected = false;
        i++;
        continue;
      }
      if (c === DQUOTE) {
        const quoted = readQuoted(segment, i);
        if (typeof quoted === 'string') return { kind: 'error', message: quoted };
        this.push({ type: 'string', value: quoted.value });
        i = quoted.next;
        continue;
      }
      if (c === LBRACE || (c === TILDE && segment[i + 1] === LBRACE)) {
        return readLiteralAnnouncement(segment, i);
      }
      if (isControl(c)) return { kind: 'error', message: `Invalid character ${describeByte(c)}` };

      // An atom, possibly with one or more bracketed parts.
      const atomStart = i;
      let firstOpen = -1;
      let firstClose = -1;
      while (i < end) {
        const d = segment[i]!;
        if (d === SP || d === LPAREN || d === RPAREN || d === DQUOTE || isControl(d)) break;
        if (d === LBRACKET && !isBracketScanExhausted) {
          const close = findClosingBracket(segment, i + 1);
          if (close === -1) {
            isBracketScanExhausted = true;
          } else {
            if (firstOpen === -1) {
              firstOpen = i;
              firstClose = close;
            }
            i = close + 1;
            continue;
          }
        }
        i++;
      }
      if (i < end && isControl(segment[i]!)) return { kind: 'error', message: `Invalid character ${describeByte(segment[i]!)}` };
      const value = segment.toString('utf8', atomStart, i);
      if (firstOpen !== -1) {
        this.push({
          type: 'atom',
          value,
          section: {
            prefix: segment.toString('utf8', atomStart, firstOpen),
            text: segment.toString('utf8', firstOpen + 1, firstClose),
            suffix: segment.toString('utf8', firstClose + 1, i),
          },
        });
      } else if (value.length === 3 && value.toUpperCase() === 'NIL') {
        this.push({ type: 'nil' });
      } else if (/^[0-9]+$/.test(value) && Number.isSafeInteger(Number(value))) {
        this.push({ type: 'number', value: Number(value), raw: value });
      } else {
        this.push({ type: 'atom', value });
      }
    }
    return { kind: 'end' };
  }

  private push(token: Token): void {
    const top = this.stack[this.stack.length - 1];
    (top === undefined ? this.root : top.items).push(token);
    this.isSeparatorExpected = true;
  }
}

/** Finds the `]` closing a bracket opened just before `from`, skipping quoted strings; -1 if none. */
function findClosingBracket(segment: Buffer, from: number): number {
  let isInQuotes = false;
  for (let k = from; k < segment.length; k++) {
    const c = segment[k]!;
    if (isInQuotes) {
      if (c === BACKSLASH) k++;
      else if (c === DQUOTE) isInQuotes = false;
    } else if (c === DQUOTE) {
      isInQuotes = true;
    } else if (c === RBRACKET) {
      return k;
    } else if (c === LBRACKET) {
      return -1; // sections do not nest
    }
  }
  return -1;
}

/**
 * quoted = DQUOTE *QUOTED-CHAR DQUOTE; QUOTED-CHAR = <any TEXT-CHAR except quoted-specials> /
 * "\" quoted-specials (RFC 3501 §9). 8-bit bytes are accepted as UTF-8 (RFC 6855).
 */
function readQuoted(segment: Buffer, start: number): { value: string; next: number } | string {
  const parts: Buffer[] = [];
  let runStart = start + 1;
  for (let k = start + 1; k < segment.length; k++) {
    const c = segment[k]!;
    if (c === DQUOTE) {
      parts.push(segment.subarray(runStart, k));
      const value = parts.length === 1 ? parts[0]!.toString('utf8') : Buffer.concat(parts).toString('utf8');
      return { value, next: k + 1 };
    }
    if (c === BACKSLASH) {
      const e = segment[k + 1];
      if (e !== DQUOTE && e !== BACKSLASH) return 'Invalid escape in quoted string';
      parts.push(segment.subarray(runStart, k));
      runStart = k + 1;
      k++;
      continue;
    }
    if (c === 0 || c === 0x0d || c === 0x0a) return `Invalid character ${describeByte(c)} in quoted string`;
  }
  return 'Unterminated quoted string';
}

/** literal = "{" number ["+"] "}" CRLF (RFC 3501 §9, RFC 7888); literal8 = "~{" number "}" (RFC 3516). */
function readLiteralAnnouncement(segment: Buffer, start: number): SegmentResult {
  const isBinary = segment[start] === TILDE;
  let k = start + (isBinary ? 2 : 1);
  const digitsStart = k;
  while (k < segment.length && segment[k]! >= 0x30 && segment[k]! <= 0x39) k++;
  const digits = segment.toString('latin1', digitsStart, k);
  let isSync = true;
  if (segment[k] === PLUS) {
    isSync = false;
    k++;
  }
  if (digits.length === 0 || segment[k] !== RBRACE) return { kind: 'error', message: 'Invalid literal announcement' };
  if (k + 1 !== segment.length) return { kind: 'error', message: 'A literal announcement must end the line' };
  const size = Number(digits);
  if (digits.length > 16 || !Number.isSafeInteger(size)) return { kind: 'error', message: 'Literal size out of range' };
  return { kind: 'literal', size, isSync, isBinary };
}

/**
 * Reads a literal announcement at the very end of a line that is not tokenized (over-long or
 * already in error), so the parser can skip the bytes of a non-synchronising literal. A size that
 * cannot be read is `Infinity`.
 */
export function findTrailingLiteral(tail: Buffer): { size: number; isSync: boolean } | null {
  const text = tail.toString('latin1');
  const match = /(~?\{)?([0-9]*)(\+?)\}$/.exec(text);
  if (match === null) return null;
  const digits = match[2]!;
  const isSync = match[3] !== '+';
  if (match[1] === undefined) {
    // Digits running to the start of the kept tail: an announcement too long to read.
    return digits.length > 0 && match.index === 0 ? { size: Infinity, isSync } : null;
  }
  const size = Number(digits);
  if (digits.length === 0 || digits.length > 16 || !Number.isSafeInteger(size)) return { size: Infinity, isSync };
  return { size, isSync };
}

/** Tokenizes a single line with no literals, e.g. the text inside a FETCH section. */
export function tokenizeLine(text: string, maxListDepth: number): { tokens: Token[] } | { error: string } {
  const tokenizer = new ArgumentTokenizer(maxListDepth);
  const result = tokenizer.tokenize(Buffer.from(text, 'utf8'), 0);
  if (result.kind === 'error') return { error: result.message };
  if (result.kind === 'literal') return { error: 'Literals are not allowed here' };
  if (tokenizer.openListCount > 0) return { error: "Missing ')'" };
  return { tokens: tokenizer.tokens };
}
