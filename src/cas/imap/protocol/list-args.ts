/**
 * LIST and LSUB arguments (RFC 3501 §6.3.8, LIST-EXTENDED RFC 5258, SPECIAL-USE RFC 6154,
 * LIST-STATUS RFC 5819):
 *   list = "LIST" [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts]
 *   list-select-opts = "(" [list-select-option *(SP list-select-option)] ")"
 *   mbox-or-pat = list-mailbox / patterns;  patterns = "(" list-mailbox *(SP list-mailbox) ")"
 *   list-return-opts = "RETURN" SP "(" [return-option *(SP return-option)] ")"
 * plus the `*` / `%` wildcard matcher used to answer it.
 */

import { badSyntax, fail, ok, printable, type ParseResult } from './errors.js';
import { decodeMutf7 } from './mutf7.js';
import type { Token } from './tokens.js';

export type ListSelectOption = 'SUBSCRIBED' | 'REMOTE' | 'RECURSIVEMATCH' | 'SPECIAL-USE';
export type StatusItem = 'MESSAGES' | 'RECENT' | 'UIDNEXT' | 'UIDVALIDITY' | 'UNSEEN' | 'SIZE' | 'HIGHESTMODSEQ' | 'DELETED';

export interface ListReturnOptions {
  readonly isSubscribedRequested: boolean;
  readonly isChildrenRequested: boolean;
  readonly isSpecialUseRequested: boolean;
  /** STATUS items to send for each listed mailbox (RFC 5819), or null. */
  readonly status: readonly StatusItem[] | null;
}

export interface ListArguments {
  readonly selectOptions: ReadonlySet<ListSelectOption>;
  /** Reference name, decoded from modified UTF-7 unless UTF-8 is enabled. */
  readonly reference: string;
  /** One or more patterns, decoded likewise. */
  readonly patterns: readonly string[];
  readonly returnOptions: ListReturnOptions;
  /** True when any LIST-EXTENDED syntax was used: the response then uses extended data. */
  readonly isExtended: boolean;
}

export interface ListParseOptions {
  /** LSUB allows none of the extensions. */
  readonly isLsub?: boolean;
  /** After ENABLE UTF8=ACCEPT names are UTF-8 and are not decoded (RFC 6855 §3). */
  readonly isUtf8Enabled?: boolean;
}

const SELECT_OPTIONS = new Set<string>(['SUBSCRIBED', 'REMOTE', 'RECURSIVEMATCH', 'SPECIAL-USE']);
const STATUS_ITEMS = new Set<string>(['MESSAGES', 'RECENT', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN', 'SIZE', 'HIGHESTMODSEQ', 'DELETED']);

function atomUpper(token: Token | undefined): string | null {
  return token?.type === 'atom' && token.section === undefined ? token.value.toUpperCase() : null;
}

/** list-mailbox = 1*list-char / string; NIL is not a mailbox. */
function mailboxText(token: Token | undefined, isUtf8Enabled: boolean): ParseResult<string> {
  let text: string | null = null;
  if (token?.type === 'atom') text = token.value;
  else if (token?.type === 'number') text = token.raw;
  else if (token?.type === 'string') text = token.value;
  else if (token?.type === 'literal' && !token.isDiscarded) text = token.value.toString('utf8');
  if (text === null) return fail(badSyntax('Expected a mailbox name or pattern'));
  return isUtf8Enabled ? ok(text) : decodeMutf7(text);
}

/** Parses the arguments of LIST or LSUB. */
export function parseListArguments(args: readonly Token[], options: ListParseOptions = {}): ParseResult<ListArguments> {
  const isUtf8Enabled = options.isUtf8Enabled === true;
  let index = 0;
  let isExtended = false;
  const selectOptions = new Set<ListSelectOption>();

  if (args[0]?.type === 'list') {
    if (options.isLsub === true) return fail(badSyntax('LSUB takes no selection options'));
    isExtended = true;
    for (const item of args[0].items) {
      const name = atomUpper(item);
      if (name === null || !SELECT_OPTIONS.has(name)) return fail(badSyntax(`Unknown LIST selection option`));
      selectOptions.add(name as ListSelectOption);
    }
    // RFC 5258 §3: RECURSIVEMATCH alone is meaningless and must be rejected.
    if (selectOptions.has('RECURSIVEMATCH') && !selectOptions.has('SUBSCRIBED')) {
      return fail(badSyntax('RECURSIVEMATCH needs another selection option'));
    }
    index = 1;
  }

  const reference = mailboxText(args[index], isUtf8Enabled);
  if (!reference.ok) return reference;
  index++;

  const patternToken = args[index];
  const patterns: string[] = [];
  if (patternToken?.type === 'list') {
    if (options.isLsub === true) return fail(badSyntax('LSUB takes a single pattern'));
    if (patternToken.items.length === 0) return fail(badSyntax('Empty LIST pattern list'));
    isExtended = true;
    for (const item of patternToken.items) {
      const pattern = mailboxText(item, isUtf8Enabled);
      if (!pattern.ok) return pattern;
      patterns.push(pattern.value);
    }
  } else {
    const pattern = mailboxText(patternToken, isUtf8Enabled);
    if (!pattern.ok) return pattern;
    patterns.push(pattern.value);
  }
  index++;

  let returnOptions: ListReturnOptions = { isSubscribedRequested: false, isChildrenRequested: false, isSpecialUseRequested: false, status: null };
  if (index < args.length) {
    if (options.isLsub === true || atomUpper(args[index]) !== 'RETURN' || args[index + 1]?.type !== 'list') {
      return fail(badSyntax('Unexpected LIST arguments'));
    }
    const parsed = parseReturnOptions((args[index + 1] as Extract<Token, { type: 'list' }>).items);
    if (!parsed.ok) return parsed;
    returnOptions = parsed.value;
    isExtended = true;
    if (index + 2 < args.length) return fail(badSyntax('Unexpected LIST arguments'));
  }
  return ok({ selectOptions, reference: reference.value, patterns, returnOptions, isExtended });
}

/** return-option = "SUBSCRIBED" / "CHILDREN" / "SPECIAL-USE" / "STATUS" SP "(" status-att-list ")" */
function parseReturnOptions(items: readonly Token[]): ParseResult<ListReturnOptions> {
  let isSubscribedRequested = false;
  let isChildrenRequested = false;
  let isSpecialUseRequested = false;
  let status: StatusItem[] | null = null;
  for (let k = 0; k < items.length; k++) {
    const name = atomUpper(items[k]);
    if (name === 'SUBSCRIBED') isSubscribedRequested = true;
    else if (name === 'CHILDREN') isChildrenRequested = true;
    else if (name === 'SPECIAL-USE') isSpecialUseRequested = true;
    else if (name === 'STATUS' && status === null) {
      const list = items[k + 1];
      if (list?.type !== 'list' || list.items.length === 0) return fail(badSyntax('STATUS needs a list of status items'));
      status = [];
      for (const item of list.items) {
        const statusName = atomUpper(item);
        if (statusName === null || !STATUS_ITEMS.has(statusName)) return fail(badSyntax('Unknown STATUS item'));
        if (!status.includes(statusName as StatusItem)) status.push(statusName as StatusItem);
      }
      k++;
    } else {
      return fail(badSyntax(`Unknown LIST return option "${printable(name ?? '')}"`));
    }
  }
  return ok({ isSubscribedRequested, isChildrenRequested, isSpecialUseRequested, status });
}

/**
 * Joins reference and pattern the usual way (RFC 3501 §6.3.8): a pattern starting with the
 * delimiter is absolute; otherwise the reference is a prefix.
 */
export function combineReferenceAndPattern(reference: string, pattern: string, delimiter: string): string {
  if (reference === '' || pattern.startsWith(delimiter)) return pattern;
  return reference + pattern;
}

/** INBOX is case-insensitive, as are its children's first component (RFC 3501 §5.1). */
function normaliseInbox(name: string, delimiter: string): string {
  const end = name.indexOf(delimiter);
  const first = end === -1 ? name : name.slice(0, end);
  return first.toUpperCase() === 'INBOX' ? `INBOX${name.slice(first.length)}` : name;
}

/**
 * A matcher for a LIST pattern: `*` matches any characters, `%` any except the hierarchy
 * delimiter. Matching is a dynamic programme over pattern and name (no regular expressions, so a
 * pattern like `*a*a*a*...` cannot cause catastrophic backtracking).
 */
export function createListMatcher(pattern: string, delimiter: string): (name: string) => boolean {
  const normalisedPattern = normaliseInbox(pattern.replace(/\*+/g, '*'), delimiter);
  const p = [...normalisedPattern];
  return (mailboxName: string) => {
    const n = [...normaliseInbox(mailboxName, delimiter)];
    // row[j]: pattern prefix p[0..i) matches name prefix n[0..j)
    let row: boolean[] = new Array<boolean>(n.length + 1).fill(false);
    row[0] = true;
    for (const token of p) {
      const next: boolean[] = new Array<boolean>(n.length + 1).fill(false);
      if (token === '*' || token === '%') {
        let isReachable = false;
        for (let j = 0; j <= n.length; j++) {
          if (row[j]) isReachable = true;
          else if (isReachable && token === '%' && n[j - 1] === delimiter) isReachable = false;
          next[j] = isReachable;
        }
      } else {
        for (let j = 1; j <= n.length; j++) next[j] = row[j - 1]! && n[j - 1] === token;
      }
      row = next;
    }
    return row[n.length]!;
  };
}
