import { describe, expect, it } from 'vitest';
import { CommandParser } from '../src/cas/imap/protocol/parser.js';
import { parseSearch, type SearchRequest } from '../src/cas/imap/protocol/search-keys.js';
import type { ParseResult } from '../src/cas/imap/protocol/errors.js';
import { MAX_SEARCH_DEPTH, MAX_SEARCH_KEYS } from '../src/cas/imap/protocol/limits.js';

function search(text: string): ParseResult<SearchRequest> {
  const parser = new CommandParser();
  parser.push(Buffer.from(`a SEARCH ${text}\r\n`));
  const event = parser.next();
  if (event.kind !== 'command') throw new Error(`not a command: ${JSON.stringify(event)}`);
  return parseSearch(event.args);
}

function key(text: string): unknown {
  const result = search(text);
  if (!result.ok) throw new Error(result.error.message);
  return JSON.parse(JSON.stringify(result.value.key, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)));
}

describe('SEARCH keys', () => {
  it('reads flag keys and their negations', () => {
    expect(key('ANSWERED UNSEEN')).toEqual({
      type: 'and',
      keys: [
        { type: 'flag', flag: '\\Answered', isSet: true },
        { type: 'flag', flag: '\\Seen', isSet: false },
      ],
    });
    expect(key('NEW')).toEqual({ type: 'and', keys: [{ type: 'flag', flag: '\\Recent', isSet: true }, { type: 'flag', flag: '\\Seen', isSet: false }] });
    expect(key('OLD')).toEqual({ type: 'flag', flag: '\\Recent', isSet: false });
  });

  it('reads every string key from atoms, quoted strings and literals', () => {
    const parser = new CommandParser();
    parser.push(Buffer.from('a SEARCH CHARSET UTF-8 FROM alice TO "bob b" CC {3+}\r\ncar BCC d SUBJECT s BODY b TEXT t HEADER X-Spam yes\r\n'));
    const event = parser.next();
    if (event.kind !== 'command') throw new Error('not a command');
    const result = parseSearch(event.args);
    expect(result).toMatchObject({
      ok: true,
      value: {
        charset: 'UTF-8',
        returnOptions: null,
        key: {
          type: 'and',
          keys: [
            { type: 'header', field: 'from', value: 'alice' },
            { type: 'header', field: 'to', value: 'bob b' },
            { type: 'header', field: 'cc', value: 'car' },
            { type: 'header', field: 'bcc', value: 'd' },
            { type: 'header', field: 'subject', value: 's' },
            { type: 'body', value: 'b' },
            { type: 'text', value: 't' },
            { type: 'header', field: 'x-spam', value: 'yes' },
          ],
        },
      },
    });
  });

  it('reads dates, sizes, keywords, sequence sets and UID sets', () => {
    expect(key('SINCE 1-Feb-2024 SENTBEFORE "29-feb-2024" LARGER 100 UNKEYWORD $Junk 1:5,7 UID 10:*')).toMatchObject({
      keys: [
        { type: 'internal-date', comparison: 'since', date: { year: 2024, month: 2, day: 1 } },
        { type: 'sent-date', comparison: 'before', date: { year: 2024, month: 2, day: 29 } },
        { type: 'size', comparison: 'larger', bytes: 100 },
        { type: 'keyword', keyword: '$Junk', isSet: false },
        { type: 'sequence', set: { ranges: [{ start: 1, end: 5 }, { start: 7, end: 7 }] } },
        { type: 'uid', set: { ranges: [{ start: 10, end: '*' }] } },
      ],
    });
  });

  it('reads nested OR, NOT and parenthesised groups', () => {
    expect(key('OR (FROM a NOT SEEN) NOT OR TO b DELETED')).toEqual({
      type: 'or',
      left: { type: 'and', keys: [{ type: 'header', field: 'from', value: 'a' }, { type: 'not', key: { type: 'flag', flag: '\\Seen', isSet: true } }] },
      right: { type: 'not', key: { type: 'or', left: { type: 'header', field: 'to', value: 'b' }, right: { type: 'flag', flag: '\\Deleted', isSet: true } } },
    });
  });

  it('reads MODSEQ with and without an entry', () => {
    expect(key('MODSEQ 620162338')).toEqual({ type: 'modseq', modSeq: '620162338n' });
    expect(key('MODSEQ "/flags/\\\\draft" all 620162338')).toEqual({
      type: 'modseq',
      modSeq: '620162338n',
      entry: { name: '/flags/\\draft', entryType: 'all' },
    });
    expect(search('MODSEQ 5')).toMatchObject({ ok: true, value: { hasModSeq: true } });
  });

  it('reads ESEARCH RETURN options, an empty list meaning ALL', () => {
    expect(search('RETURN (MIN MAX COUNT) ALL')).toMatchObject({ ok: true, value: { returnOptions: new Set(['MIN', 'MAX', 'COUNT']) } });
    expect(search('RETURN () ALL')).toMatchObject({ ok: true, value: { returnOptions: new Set(['ALL']) } });
    expect(search('RETURN (SAVE ALL) CHARSET US-ASCII SEEN')).toMatchObject({ ok: true, value: { charset: 'US-ASCII' } });
  });

  it('answers an unsupported charset with NO [BADCHARSET (UTF-8 US-ASCII)]', () => {
    expect(search('CHARSET ISO-8859-1 FROM x')).toMatchObject({
      ok: false,
      error: { status: 'NO', code: 'BAD_CHARSET', responseCode: { name: 'BADCHARSET', args: '(UTF-8 US-ASCII)' } },
    });
  });

  it.each([
    ['SUBJECT NIL', 'SUBJECT needs a string argument'],
    ['SUBJECT', 'SUBJECT needs a string argument'],
    ['OR', 'Missing search key'],
    ['OR SEEN', 'Missing search key'],
    ['UID', 'UID needs a UID set: Missing sequence set'],
    ['UID $', 'UID needs a UID set: Search result references ($) are not supported'],
    ['$', 'Search result references ($) are not supported'],
    ['NOT', 'Missing search key'],
    ['HEADER', 'HEADER needs a field name and a string'],
    ['HEADER Subject', 'HEADER needs a string argument'],
    ['BEFORE 30-Feb-2024', 'BEFORE needs a date like 1-Feb-2024'],
    ['ON 2024-02-01', 'ON needs a date like 1-Feb-2024'],
    ['LARGER x', 'LARGER needs a number'],
    ['KEYWORD \\Seen', 'KEYWORD needs a flag keyword'],
    ['FOO', 'Unknown search key "FOO"'],
    ['()', 'Empty search key group'],
    ['', 'Missing search criteria'],
    ['CHARSET', 'CHARSET needs a charset name'],
    ['RETURN (BOGUS) ALL', 'Unknown RETURN option'],
    ['MODSEQ', 'MODSEQ needs a mod-sequence value'],
    ['MODSEQ "/flags/x" bogus 1', 'MODSEQ entry needs a type: priv, shared or all'],
    ['BODY[TEXT]', 'Invalid search key'],
  ])('answers SEARCH %s with BAD "%s", no exception', (text, message) => {
    expect(search(text)).toMatchObject({ ok: false, error: { status: 'BAD', message } });
  });

  it('reports unbalanced parentheses from the parser, before SEARCH sees them', () => {
    const parser = new CommandParser();
    parser.push(Buffer.from('a SEARCH (SEEN\r\nb SEARCH SEEN)\r\n'));
    expect(parser.next()).toMatchObject({ kind: 'error', tag: 'a', message: "Missing ')'" });
    expect(parser.next()).toMatchObject({ kind: 'error', tag: 'b', message: "Unexpected ')'" });
  });

  it('refuses a 10,000-deep nesting attempt without exhausting the stack', () => {
    const parser = new CommandParser();
    parser.push(Buffer.from(`a SEARCH ${'('.repeat(10_000)}ALL${')'.repeat(10_000)}\r\n`));
    expect(parser.next()).toMatchObject({ kind: 'error', tag: 'a', code: 'SYNTAX' });
    expect(search(`${'NOT '.repeat(10_000)}ALL`)).toMatchObject({ ok: false, error: { code: 'LIMIT_EXCEEDED' } });
    expect(search(`${'OR ALL '.repeat(5_000)}ALL`)).toMatchObject({ ok: false, error: { code: 'LIMIT_EXCEEDED' } });
  });

  it('accepts search depth at the limit and rejects one more', () => {
    expect(search(`${'NOT '.repeat(MAX_SEARCH_DEPTH)}ALL`).ok).toBe(true);
    expect(search(`${'NOT '.repeat(MAX_SEARCH_DEPTH + 1)}ALL`)).toMatchObject({ ok: false, error: { code: 'LIMIT_EXCEEDED' } });
  });

  it('accepts the maximum number of keys and rejects one more', () => {
    expect(search('SEEN '.repeat(MAX_SEARCH_KEYS)).ok).toBe(true);
    expect(search('SEEN '.repeat(MAX_SEARCH_KEYS + 1))).toMatchObject({ ok: false, error: { code: 'LIMIT_EXCEEDED' } });
  });
});
