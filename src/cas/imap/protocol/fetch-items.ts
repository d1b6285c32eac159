/**
 * FETCH attributes (RFC 3501 §6.4.5, RFC 3516 BINARY, RFC 7162 CONDSTORE/QRESYNC):
 *   fetch     = "FETCH" SP sequence-set SP ("ALL" / "FULL" / "FAST" / fetch-att /
 *               "(" fetch-att *(SP fetch-att) ")") [fetch-modifiers]
 *   fetch-att = "ENVELOPE" / "FLAGS" / "INTERNALDATE" / "RFC822" [".HEADER" / ".SIZE" / ".TEXT"] /
 *               "BODY" ["STRUCTURE"] / "UID" / "BODY" section ["<" number "." nz-number ">"] /
 *               "BODY.PEEK" section ["<" number "." nz-number ">"] / "MODSEQ" /
 *               "BINARY" [".PEEK"] section-binary [partial] / "BINARY.SIZE" section-binary
 * Each parsed item carries the exact name to echo in the response.
 */

import { badSyntax, fail, limitExceeded, ok, printable, type ParseResult } from './errors.js';
import { MAX_FETCH_ITEMS, MAX_HEADER_FIELD_NAMES } from './limits.js';
import { isAtom, quoteString } from './quote.js';
import { tokenizeLine, type AtomToken, type Token } from './tokens.js';

export type SectionKind = '' | 'HEADER' | 'TEXT' | 'MIME' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT';

/** A body section: `part` is empty for the whole message, `[1, 2]` for `1.2`. */
export interface FetchSection {
  readonly part: readonly number[];
  readonly kind: SectionKind;
  /** Header names for HEADER.FIELDS[.NOT], as the client spelled them. */
  readonly fields?: readonly string[];
}

/** A byte range `<start.length>`; the response echoes only `<start>`. */
export interface FetchPartial {
  readonly start: number;
  readonly length: number;
}

export type SimpleFetchItemKind =
  | 'FLAGS'
  | 'INTERNALDATE'
  | 'RFC822.SIZE'
  | 'ENVELOPE'
  | 'BODY' // non-extensible BODYSTRUCTURE
  | 'BODYSTRUCTURE'
  | 'UID'
  | 'MODSEQ'
  | 'RFC822'
  | 'RFC822.HEADER'
  | 'RFC822.TEXT';

export type FetchItem =
  | { readonly kind: SimpleFetchItemKind; readonly responseName: string; readonly isSettingSeen: boolean }
  | {
      readonly kind: 'BODY[]';
      readonly section: FetchSection;
      readonly partial?: FetchPartial;
      readonly isPeek: boolean;
      readonly isSettingSeen: boolean;
      /** e.g. `BODY[HEADER.FIELDS (From To)]<0>`. */
      readonly responseName: string;
    }
  | {
      readonly kind: 'BINARY[]';
      readonly part: readonly number[];
      readonly partial?: FetchPartial;
      readonly isPeek: boolean;
      readonly isSettingSeen: boolean;
      readonly responseName: string;
    }
  | { readonly kind: 'BINARY.SIZE'; readonly part: readonly number[]; readonly isSettingSeen: false; readonly responseName: string };

export interface FetchRequest {
  readonly items: readonly FetchItem[];
  /** `(CHANGEDSINCE n)` (RFC 7162 §3.1.4.1); MODSEQ is then added to the items. */
  readonly changedSince?: bigint;
  /** `(VANISHED)` (RFC 7162 §3.2.6); only with UID FETCH and CHANGEDSINCE. */
  readonly isVanishedRequested: boolean;
}

export interface FetchParseOptions {
  /** UID FETCH: the UID item is always returned (RFC 3501 §6.4.8). */
  readonly isUid?: boolean;
}

const SIMPLE_ITEMS: ReadonlyMap<string, { kind: SimpleFetchItemKind; isSettingSeen: boolean }> = new Map([
  ['FLAGS', { kind: 'FLAGS', isSettingSeen: false }],
  ['INTERNALDATE', { kind: 'INTERNALDATE', isSettingSeen: false }],
  ['RFC822.SIZE', { kind: 'RFC822.SIZE', isSettingSeen: false }],
  ['ENVELOPE', { kind: 'ENVELOPE', isSettingSeen: false }],
  ['BODY', { kind: 'BODY', isSettingSeen: false }],
  ['BODYSTRUCTURE', { kind: 'BODYSTRUCTURE', isSettingSeen: false }],
  ['UID', { kind: 'UID', isSettingSeen: false }],
  ['MODSEQ', { kind: 'MODSEQ', isSettingSeen: false }],
  ['RFC822', { kind: 'RFC822', isSettingSeen: true }],
  ['RFC822.HEADER', { kind: 'RFC822.HEADER', isSettingSeen: false }],
  ['RFC822.TEXT', { kind: 'RFC822.TEXT', isSettingSeen: true }],
] as const);

const MACROS: ReadonlyMap<string, readonly string[]> = new Map([
  ['ALL', ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE']],
  ['FAST', ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE']],
  ['FULL', ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY']],
]);

/** mod-sequence-value = 1*DIGIT, up to 2^63 - 1 (RFC 7162 §7). */
const MAX_MODSEQ = (1n << 63n) - 1n;
const MAX_UINT32 = 0xffff_ffff;

function simpleItem(name: string): FetchItem {
  const spec = SIMPLE_ITEMS.get(name)!;
  return { kind: spec.kind, responseName: name, isSettingSeen: spec.isSettingSeen };
}

/**
 * Parses the FETCH arguments after the sequence set: the attribute(s) and optional modifiers.
 */
export function parseFetchItems(args: readonly Token[], options: FetchParseOptions = {}): ParseResult<FetchRequest> {
  const [attributes, modifiers, ...extra] = args;
  if (attributes === undefined) return fail(badSyntax('Missing FETCH attributes'));
  if (extra.length > 0) return fail(badSyntax('Unexpected arguments after FETCH modifiers'));

  const items: FetchItem[] = [];
  if (attributes.type === 'list') {
    if (attributes.items.length === 0) return fail(badSyntax('Empty FETCH attribute list'));
    if (attributes.items.length > MAX_FETCH_ITEMS) return fail(limitExceeded(`More than ${MAX_FETCH_ITEMS} FETCH attributes`));
    for (const token of attributes.items) {
      const item = parseFetchAttribute(token);
      if (!item.ok) return item;
      items.push(item.value);
    }
  } else if (attributes.type === 'atom' && MACROS.has(attributes.value.toUpperCase())) {
    for (const name of MACROS.get(attributes.value.toUpperCase())!) items.push(simpleItem(name));
  } else {
    const item = parseFetchAttribute(attributes);
    if (!item.ok) return item;
    items.push(item.value);
  }

  let changedSince: bigint | undefined;
  let isVanishedRequested = false;
  if (modifiers !== undefined) {
    if (modifiers.type !== 'list' || modifiers.items.length === 0) return fail(badSyntax('Invalid FETCH modifiers'));
    const list = modifiers.items;
    for (let k = 0; k < list.length; k++) {
      const name = list[k]!.type === 'atom' ? (list[k] as AtomToken).value.toUpperCase() : '';
      if (name === 'CHANGEDSINCE' && changedSince === undefined) {
        const value = parseModSeq(list[k + 1], true);
        if (value === null) return fail(badSyntax('CHANGEDSINCE needs a mod-sequence value'));
        changedSince = value;
        k++;
      } else if (name === 'VANISHED' && !isVanishedRequested) {
        isVanishedRequested = true;
      } else {
        return fail(badSyntax('Unknown or repeated FETCH modifier'));
      }
    }
    if (isVanishedRequested && (options.isUid !== true || changedSince === undefined)) {
      return fail(badSyntax('VANISHED requires UID FETCH with CHANGEDSINCE'));
    }
  }

  if (options.isUid === true && !items.some((i) => i.kind === 'UID')) items.unshift(simpleItem('UID'));
  if (changedSince !== undefined && !items.some((i) => i.kind === 'MODSEQ')) items.push(simpleItem('MODSEQ'));
  const unique = new Map<string, FetchItem>();
  // A repeated attribute is answered once (BODY[] and BODY.PEEK[] share a response name).
  for (const item of items) if (!unique.has(item.responseName)) unique.set(item.responseName, item);
  const request: FetchRequest = { items: [...unique.values()], isVanishedRequested };
  return ok(changedSince === undefined ? request : { ...request, changedSince });
}

/** Parses a mod-sequence value (or mod-sequence-valzer when `allowZero`) from a token. */
export function parseModSeq(token: Token | undefined, allowZero: boolean): bigint | null {
  if (token === undefined) return null;
  const text = token.type === 'number' ? token.raw : token.type === 'atom' && token.section === undefined ? token.value : '';
  if (!/^[0-9]{1,19}$/.test(text)) return null;
  const value = BigInt(text);
  if (value > MAX_MODSEQ || (!allowZero && value === 0n)) return null;
  return value;
}

/** Parses one fetch-att. */
export function parseFetchAttribute(token: Token): ParseResult<FetchItem> {
  if (token.type !== 'atom') return fail(badSyntax('Invalid FETCH attribute'));
  if (token.section === undefined) {
    const name = token.value.toUpperCase();
    if (SIMPLE_ITEMS.has(name)) return ok(simpleItem(name));
    if (MACROS.has(name)) return fail(badSyntax(`${name} cannot be combined with other FETCH attributes`));
    return fail(badSyntax(`Unknown FETCH attribute "${printable(token.value)}"`));
  }
  const { prefix, text, suffix } = token.section;
  const name = prefix.toUpperCase();
  const partial = parsePartial(suffix);
  if (partial === 'invalid') return fail(badSyntax(`Invalid partial range in "${printable(token.value)}"`));
  const partialEcho = partial === undefined ? '' : `<${partial.start}>`;

  if (name === 'BODY' || name === 'BODY.PEEK') {
    const section = parseSection(text);
    if (!section.ok) return section;
    const isPeek = name === 'BODY.PEEK';
    const item: FetchItem = {
      kind: 'BODY[]',
      section: section.value,
      isPeek,
      isSettingSeen: !isPeek,
      responseName: `BODY[${formatSection(section.value)}]${partialEcho}`,
      ...(partial === undefined ? {} : { partial }),
    };
    return ok(item);
  }
  if (name === 'BINARY' || name === 'BINARY.PEEK' || name === 'BINARY.SIZE') {
    const part = parsePartNumbers(text);
    if (part === null) return fail(badSyntax(`Invalid BINARY section "${printable(text)}"`));
    const partText = part.join('.');
    if (name === 'BINARY.SIZE') {
      if (partial !== undefined) return fail(badSyntax('BINARY.SIZE takes no partial range'));
      return ok({ kind: 'BINARY.SIZE', part, isSettingSeen: false, responseName: `BINARY.SIZE[${partText}]` });
    }
    const isPeek = name === 'BINARY.PEEK';
    const item: FetchItem = {
      kind: 'BINARY[]',
      part,
      isPeek,
      isSettingSeen: !isPeek,
      responseName: `BINARY[${partText}]${partialEcho}`,
      ...(partial === undefined ? {} : { partial }),
    };
    return ok(item);
  }
  return fail(badSyntax(`Unknown FETCH attribute "${printable(token.value)}"`));
}

/** "<" number "." nz-number ">" */
function parsePartial(suffix: string): FetchPartial | undefined | 'invalid' {
  if (suffix === '') return undefined;
  const match = /^<([0-9]{1,10})\.([0-9]{1,10})>$/.exec(suffix);
  if (match === null) return 'invalid';
  const start = Number(match[1]);
  const length = Number(match[2]);
  if (start > MAX_UINT32 || length === 0 || length > MAX_UINT32) return 'invalid';
  return { start, length };
}

/** section-part = nz-number *("." nz-number); empty text is the whole message. */
function parsePartNumbers(text: string): number[] | null {
  if (text === '') return [];
  const parts = text.split('.');
  const numbers: number[] = [];
  for (const part of parts) {
    if (!/^[1-9][0-9]{0,9}$/.test(part) || Number(part) > MAX_UINT32) return null;
    numbers.push(Number(part));
  }
  return numbers;
}

/**
 * section-spec = section-msgtext / (section-part ["." section-text])
 * section-msgtext = "HEADER" / "HEADER.FIELDS" [".NOT"] SP header-list / "TEXT"
 * section-text = section-msgtext / "MIME"
 */
export function parseSection(text: string): ParseResult<FetchSection> {
  const tokenized = tokenizeLine(text, 1);
  if ('error' in tokenized) return fail(badSyntax(`Invalid section "${printable(text)}": ${tokenized.error}`));
  const [spec, headerList, ...extra] = tokenized.tokens;
  if (spec === undefined) return ok({ part: [], kind: '' });
  const specText = spec.type === 'atom' ? spec.value : spec.type === 'number' ? spec.raw : null;
  if (specText === null || extra.length > 0) return fail(badSyntax(`Invalid section "${printable(text)}"`));

  const pieces = specText.split('.');
  const part: number[] = [];
  while (pieces.length > 0 && /^[0-9]+$/.test(pieces[0]!)) {
    const piece = pieces.shift()!;
    if (!/^[1-9][0-9]{0,9}$/.test(piece) || Number(piece) > MAX_UINT32) {
      return fail(badSyntax(`Invalid section part "${printable(piece)}"`));
    }
    part.push(Number(piece));
  }
  const keyword = pieces.join('.').toUpperCase();
  const isKnown = keyword === '' || keyword === 'HEADER' || keyword === 'TEXT' || keyword === 'MIME' || keyword === 'HEADER.FIELDS' || keyword === 'HEADER.FIELDS.NOT';
  if (!isKnown) return fail(badSyntax(`Invalid section "${printable(text)}"`));
  const kind = keyword as SectionKind;
  if (kind === 'MIME' && part.length === 0) return fail(badSyntax('MIME needs a part number'));

  if (kind !== 'HEADER.FIELDS' && kind !== 'HEADER.FIELDS.NOT') {
    if (headerList !== undefined) return fail(badSyntax(`Invalid section "${printable(text)}"`));
    return ok({ part, kind });
  }
  if (headerList === undefined || headerList.type !== 'list' || headerList.items.length === 0) {
    return fail(badSyntax(`${kind} needs a list of header names`));
  }
  if (headerList.items.length > MAX_HEADER_FIELD_NAMES) return fail(limitExceeded(`More than ${MAX_HEADER_FIELD_NAMES} header names`));
  const fields: string[] = [];
  for (const item of headerList.items) {
    // header-fld-name = astring; a field name is printable ASCII without ":" (RFC 5322 §3.6.8).
    const name = item.type === 'atom' ? item.value : item.type === 'string' ? item.value : item.type === 'number' ? item.raw : null;
    if (name === null || !/^[\x21-\x39\x3b-\x7e]+$/.test(name)) return fail(badSyntax('Invalid header name in section'));
    fields.push(name);
  }
  return ok({ part, kind, fields });
}

/** The section text echoed in the response, keyword upper-case, header names as the client sent them. */
export function formatSection(section: FetchSection): string {
  const parts = section.part.join('.');
  const spec = parts === '' ? section.kind : section.kind === '' ? parts : `${parts}.${section.kind}`;
  if (section.fields === undefined) return spec;
  return `${spec} (${section.fields.map((f) => (isAtom(f) && f.toUpperCase() !== 'NIL' ? f : quoteString(f))).join(' ')})`;
}
