/**
 * SEARCH / UID SEARCH arguments (RFC 3501 §6.4.4, RFC 4731 ESEARCH, RFC 7162 MODSEQ):
 *   search = "SEARCH" [search-return-opts] [SP "CHARSET" SP astring] 1*(SP search-key)
 *   search-return-opts = SP "RETURN" SP "(" [search-return-opt *(SP search-return-opt)] ")"
 * The keys become a typed tree; every malformed, missing or NIL argument is a BAD result, never an
 * exception (`SEARCH SUBJECT NIL` is known to crash other servers). Key count and depth are bounded.
 */

import { badCharset, badSyntax, fail, limitExceeded, ok, printable, type ParseResult } from './errors.js';
import { MAX_SEARCH_DEPTH, MAX_SEARCH_KEYS } from './limits.js';
import { parseModSeq } from './fetch-items.js';
import { looksLikeSequenceSet, sequenceSetFromToken, type SequenceSet } from './sequence-set.js';
import { astringValue, type Token } from './tokens.js';

/** A calendar date from `d-Mon-yyyy`; time and zone are ignored, as RFC 3501 requires. */
export interface SearchDate {
  readonly year: number;
  /** 1-12 */
  readonly month: number;
  readonly day: number;
}

export type SystemFlag = '\\Answered' | '\\Deleted' | '\\Draft' | '\\Flagged' | '\\Seen' | '\\Recent';

export type SearchKey =
  | { readonly type: 'all' }
  | { readonly type: 'flag'; readonly flag: SystemFlag; readonly isSet: boolean }
  | { readonly type: 'keyword'; readonly keyword: string; readonly isSet: boolean }
  /** BCC, CC, FROM, SUBJECT, TO and HEADER: substring match in a header field (lower-case name). */
  | { readonly type: 'header'; readonly field: string; readonly value: string }
  | { readonly type: 'body'; readonly value: string }
  | { readonly type: 'text'; readonly value: string }
  | { readonly type: 'internal-date'; readonly comparison: 'before' | 'on' | 'since'; readonly date: SearchDate }
  | { readonly type: 'sent-date'; readonly comparison: 'before' | 'on' | 'since'; readonly date: SearchDate }
  | { readonly type: 'size'; readonly comparison: 'larger' | 'smaller'; readonly bytes: number }
  | { readonly type: 'sequence'; readonly set: SequenceSet }
  | { readonly type: 'uid'; readonly set: SequenceSet }
  | { readonly type: 'modseq'; readonly modSeq: bigint; readonly entry?: ModSeqEntry }
  | { readonly type: 'not'; readonly key: SearchKey }
  | { readonly type: 'or'; readonly left: SearchKey; readonly right: SearchKey }
  | { readonly type: 'and'; readonly keys: readonly SearchKey[] };

/** `MODSEQ "/flags/\Seen" all 5` (RFC 7162 §3.1.5). */
export interface ModSeqEntry {
  readonly name: string;
  readonly entryType: 'priv' | 'shared' | 'all';
}

export type SearchReturnOption = 'MIN' | 'MAX' | 'COUNT' | 'ALL' | 'SAVE';

export interface SearchRequest {
  /** Upper-case charset name: UTF-8 or US-ASCII. */
  readonly charset: string;
  readonly key: SearchKey;
  /**
   * RETURN options (RFC 4731) when the client asked for ESEARCH, else null. `RETURN ()` means ALL.
   */
  readonly returnOptions: ReadonlySet<SearchReturnOption> | null;
  /** True when the tree contains a MODSEQ key: responses then carry `(MODSEQ n)`. */
  readonly hasModSeq: boolean;
}

const FLAG_KEYS: ReadonlyMap<string, { flag: SystemFlag; isSet: boolean }> = new Map([
  ['ANSWERED', { flag: '\\Answered', isSet: true }],
  ['DELETED', { flag: '\\Deleted', isSet: true }],
  ['DRAFT', { flag: '\\Draft', isSet: true }],
  ['FLAGGED', { flag: '\\Flagged', isSet: true }],
  ['SEEN', { flag: '\\Seen', isSet: true }],
  ['RECENT', { flag: '\\Recent', isSet: true }],
  ['UNANSWERED', { flag: '\\Answered', isSet: false }],
  ['UNDELETED', { flag: '\\Deleted', isSet: false }],
  ['UNDRAFT', { flag: '\\Draft', isSet: false }],
  ['UNFLAGGED', { flag: '\\Flagged', isSet: false }],
  ['UNSEEN', { flag: '\\Seen', isSet: false }],
] as const);

const HEADER_KEYS: ReadonlyMap<string, string> = new Map([
  ['BCC', 'bcc'],
  ['CC', 'cc'],
  ['FROM', 'from'],
  ['SUBJECT', 'subject'],
  ['TO', 'to'],
]);

const DATE_KEYS: ReadonlyMap<string, { type: 'internal-date' | 'sent-date'; comparison: 'before' | 'on' | 'since' }> = new Map([
  ['BEFORE', { type: 'internal-date', comparison: 'before' }],
  ['ON', { type: 'internal-date', comparison: 'on' }],
  ['SINCE', { type: 'internal-date', comparison: 'since' }],
  ['SENTBEFORE', { type: 'sent-date', comparison: 'before' }],
  ['SENTON', { type: 'sent-date', comparison: 'on' }],
  ['SENTSINCE', { type: 'sent-date', comparison: 'since' }],
] as const);

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const SUPPORTED_CHARSETS = new Set(['UTF-8', 'US-ASCII']);
const RETURN_OPTIONS = new Set<string>(['MIN', 'MAX', 'COUNT', 'ALL', 'SAVE']);
const MAX_UINT32 = 0xffff_ffff;

function atomText(token: Token | undefined): string | null {
  if (token === undefined) return null;
  if (token.type === 'atom' && token.section === undefined) return token.value;
  if (token.type === 'number') return token.raw;
  return null;
}


/**
 * date = date-text / DQUOTE date-text DQUOTE; date-text = date-day "-" date-month "-" date-year.
 */
export function parseSearchDate(token: Token | undefined): SearchDate | null {
  const text = token?.type === 'string' ? token.value : atomText(token);
  if (text === null) return null;
  const match = /^([0-9]{1,2})-([A-Za-z]{3})-([0-9]{4})$/.exec(text);
  if (match === null) return null;
  const day = Number(match[1]);
  const month = MONTHS.indexOf(match[2]!.toUpperCase()) + 1;
  const year = Number(match[3]);
  if (month === 0 || day < 1) return null;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day <= daysInMonth ? { year, month, day } : null;
}

class SearchKeyReader {
  private index = 0;
  private keyCount = 0;
  hasModSeq = false;

  constructor(private readonly tokens: readonly Token[]) {}

  get isDone(): boolean {
    return this.index >= this.tokens.length;
  }

  /** Reads one search-key; `depth` counts enclosing NOT/OR/groups. */
  readKey(depth: number): ParseResult<SearchKey> {
    if (depth > MAX_SEARCH_DEPTH) return fail(limitExceeded(`Search keys nested deeper than ${MAX_SEARCH_DEPTH} levels`));
    if (++this.keyCount > MAX_SEARCH_KEYS) return fail(limitExceeded(`More than ${MAX_SEARCH_KEYS} search keys`));
    const token = this.tokens[this.index++];
    if (token === undefined) return fail(badSyntax('Missing search key'));

    if (token.type === 'list') {
      if (token.items.length === 0) return fail(badSyntax('Empty search key group'));
      const group = new SearchKeyReader(token.items);
      group.keyCount = this.keyCount;
      const keys: SearchKey[] = [];
      while (!group.isDone) {
        const key = group.readKey(depth + 1);
        if (!key.ok) return key;
        keys.push(key.value);
      }
      this.keyCount = group.keyCount;
      this.hasModSeq ||= group.hasModSeq;
      return ok(keys.length === 1 ? keys[0]! : { type: 'and', keys });
    }
    if (looksLikeSequenceSet(token)) {
      const set = sequenceSetFromToken(token);
      return set.ok ? ok({ type: 'sequence', set: set.value }) : set;
    }
    if (token.type !== 'atom' || token.section !== undefined) return fail(badSyntax('Invalid search key'));

    const name = token.value.toUpperCase();
    const flag = FLAG_KEYS.get(name);
    if (flag !== undefined) return ok({ type: 'flag', flag: flag.flag, isSet: flag.isSet });
    const field = HEADER_KEYS.get(name);
    if (field !== undefined) return this.withString(name, (value) => ({ type: 'header', field, value }));
    const dateKey = DATE_KEYS.get(name);
    if (dateKey !== undefined) {
      const date = parseSearchDate(this.tokens[this.index++]);
      if (date === null) return fail(badSyntax(`${name} needs a date like 1-Feb-2024`));
      return ok({ type: dateKey.type, comparison: dateKey.comparison, date });
    }

    switch (name) {
      case 'ALL':
        return ok({ type: 'all' });
      case 'NEW': // RECENT and not SEEN
        return ok({ type: 'and', keys: [{ type: 'flag', flag: '\\Recent', isSet: true }, { type: 'flag', flag: '\\Seen', isSet: false }] });
      case 'OLD':
        return ok({ type: 'flag', flag: '\\Recent', isSet: false });
      case 'BODY':
        return this.withString(name, (value) => ({ type: 'body', value }));
      case 'TEXT':
        return this.withString(name, (value) => ({ type: 'text', value }));
      case 'HEADER': {
        const fieldName = astringValue(this.tokens[this.index++]);
        if (fieldName === null || !/^[\x21-\x39\x3b-\x7e]+$/.test(fieldName)) return fail(badSyntax('HEADER needs a field name and a string'));
        return this.withString(name, (value) => ({ type: 'header', field: fieldName.toLowerCase(), value }));
      }
      case 'KEYWORD':
      case 'UNKEYWORD': {
        const keyword = atomText(this.tokens[this.index++]);
        if (keyword === null || keyword.startsWith('\\')) return fail(badSyntax(`${name} needs a flag keyword`));
        return ok({ type: 'keyword', keyword, isSet: name === 'KEYWORD' });
      }
      case 'LARGER':
      case 'SMALLER': {
        const size = this.tokens[this.index++];
        if (size?.type !== 'number' || size.value > MAX_UINT32) return fail(badSyntax(`${name} needs a number`));
        return ok({ type: 'size', comparison: name === 'LARGER' ? 'larger' : 'smaller', bytes: size.value });
      }
      case 'UID': {
        const set = sequenceSetFromToken(this.tokens[this.index++]);
        return set.ok ? ok({ type: 'uid', set: set.value }) : fail(badSyntax(`UID needs a UID set: ${set.error.message}`));
      }
      case 'NOT': {
        const key = this.readKey(depth + 1);
        return key.ok ? ok({ type: 'not', key: key.value }) : key;
      }
      case 'OR': {
        const left = this.readKey(depth + 1);
        if (!left.ok) return left;
        const right = this.readKey(depth + 1);
        if (!right.ok) return right;
        return ok({ type: 'or', left: left.value, right: right.value });
      }
      case 'MODSEQ':
        return this.readModSeq();
      default:
        return fail(badSyntax(`Unknown search key "${printable(token.value)}"`));
    }
  }

  private withString(name: string, build: (value: string) => SearchKey): ParseResult<SearchKey> {
    const value = astringValue(this.tokens[this.index++]);
    if (value === null) return fail(badSyntax(`${name} needs a string argument`));
    return ok(build(value));
  }

  /** search-modsequence = "MODSEQ" [search-modseq-ext] SP mod-sequence-valzer */
  private readModSeq(): ParseResult<SearchKey> {
    let entry: ModSeqEntry | undefined;
    const first = this.tokens[this.index];
    if (first?.type === 'string') {
      const entryType = atomText(this.tokens[this.index + 1])?.toLowerCase();
      if (entryType !== 'priv' && entryType !== 'shared' && entryType !== 'all') {
        return fail(badSyntax('MODSEQ entry needs a type: priv, shared or all'));
      }
      entry = { name: first.value, entryType };
      this.index += 2;
    }
    const modSeq = parseModSeq(this.tokens[this.index++], true);
    if (modSeq === null) return fail(badSyntax('MODSEQ needs a mod-sequence value'));
    this.hasModSeq = true;
    return ok(entry === undefined ? { type: 'modseq', modSeq } : { type: 'modseq', modSeq, entry });
  }

  /** Reads an optional prefix keyword (`RETURN`, `CHARSET`) if it is next. */
  peekKeyword(): string | null {
    return atomText(this.tokens[this.index])?.toUpperCase() ?? null;
  }

  take(): Token | undefined {
    return this.tokens[this.index++];
  }
}

/** Parses the arguments of SEARCH / UID SEARCH (after the command name, and after `SEARCH` for UID). */
export function parseSearch(args: readonly Token[]): ParseResult<SearchRequest> {
  const reader = new SearchKeyReader(args);
  let returnOptions: Set<SearchReturnOption> | null = null;
  if (reader.peekKeyword() === 'RETURN') {
    reader.take();
    const list = reader.take();
    if (list?.type !== 'list') return fail(badSyntax('RETURN needs a list of options'));
    returnOptions = new Set();
    for (const item of list.items) {
      const option = atomText(item)?.toUpperCase();
      if (option === undefined || !RETURN_OPTIONS.has(option)) return fail(badSyntax('Unknown RETURN option'));
      returnOptions.add(option as SearchReturnOption);
    }
    // RFC 4731 §3.1: an empty list means ALL.
    if (returnOptions.size === 0) returnOptions.add('ALL');
  }
  let charset = 'US-ASCII';
  if (reader.peekKeyword() === 'CHARSET') {
    reader.take();
    const name = astringValue(reader.take());
    if (name === null) return fail(badSyntax('CHARSET needs a charset name'));
    charset = name.toUpperCase();
    if (!SUPPORTED_CHARSETS.has(charset)) return fail(badCharset(name));
  }
  if (reader.isDone) return fail(badSyntax('Missing search criteria'));
  const keys: SearchKey[] = [];
  while (!reader.isDone) {
    const key = reader.readKey(0);
    if (!key.ok) return key;
    keys.push(key.value);
  }
  const key = keys.length === 1 ? keys[0]! : { type: 'and' as const, keys };
  return ok({ charset, key, returnOptions, hasModSeq: reader.hasModSeq });
}
