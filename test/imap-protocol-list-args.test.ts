import { describe, expect, it } from 'vitest';
import { CommandParser } from '../src/cas/imap/protocol/parser.js';
import { combineReferenceAndPattern, createListMatcher, parseListArguments, type ListArguments, type ListParseOptions } from '../src/cas/imap/protocol/list-args.js';
import type { ParseResult } from '../src/cas/imap/protocol/errors.js';

function list(text: string, options: ListParseOptions = {}): ParseResult<ListArguments> {
  const parser = new CommandParser();
  parser.push(Buffer.from(`a LIST ${text}\r\n`));
  const event = parser.next();
  if (event.kind !== 'command') throw new Error(`not a command: ${JSON.stringify(event)}`);
  return parseListArguments(event.args, options);
}

describe('LIST arguments', () => {
  it('reads a basic reference and pattern, decoding modified UTF-7', () => {
    expect(list('"" "Entw&APw-rfe/*"')).toMatchObject({
      ok: true,
      value: { reference: '', patterns: ['Entwürfe/*'], isExtended: false, selectOptions: new Set() },
    });
  });

  it('reads LIST-EXTENDED selection options, pattern lists and return options', () => {
    expect(list('(SUBSCRIBED RECURSIVEMATCH) "" ("INBOX" %) RETURN (CHILDREN SPECIAL-USE STATUS (MESSAGES UNSEEN))')).toMatchObject({
      ok: true,
      value: {
        selectOptions: new Set(['SUBSCRIBED', 'RECURSIVEMATCH']),
        patterns: ['INBOX', '%'],
        isExtended: true,
        returnOptions: { isChildrenRequested: true, isSpecialUseRequested: true, isSubscribedRequested: false, status: ['MESSAGES', 'UNSEEN'] },
      },
    });
  });

  it('keeps UTF-8 names as they are after ENABLE UTF8=ACCEPT', () => {
    expect(list('"" "Grüße"', { isUtf8Enabled: true })).toMatchObject({ ok: true, value: { patterns: ['Grüße'] } });
  });

  it.each([
    ['(RECURSIVEMATCH) "" *', 'RECURSIVEMATCH needs another selection option'],
    ['(BOGUS) "" *', 'Unknown LIST selection option'],
    ['""', 'Expected a mailbox name or pattern'],
    ['NIL *', 'Expected a mailbox name or pattern'],
    ['"" ()', 'Empty LIST pattern list'],
    ['"" * RETURN (BOGUS)', 'Unknown LIST return option "BOGUS"'],
    ['"" * RETURN (STATUS)', 'STATUS needs a list of status items'],
    ['"" * RETURN (STATUS (FOO))', 'Unknown STATUS item'],
    ['"" * EXTRA', 'Unexpected LIST arguments'],
    ['"" "&AOQ"', "Invalid modified UTF-7 mailbox name: '&' without a closing '-'"],
  ])('answers LIST %s with BAD "%s"', (text, message) => {
    expect(list(text)).toMatchObject({ ok: false, error: { status: 'BAD', message } });
  });

  it('refuses extensions in LSUB', () => {
    expect(list('"" (a b)', { isLsub: true })).toMatchObject({ ok: false, error: { message: 'LSUB takes a single pattern' } });
  });
});

describe('LIST wildcard matching', () => {
  const names = ['INBOX', 'INBOX/Sent', 'Archive', 'Archive/2023', 'Archive/2023/Q1', 'Arch'];

  it.each([
    ['*', names],
    ['%', ['INBOX', 'Archive', 'Arch']],
    ['Archive/%', ['Archive/2023']],
    ['Archive/*', ['Archive/2023', 'Archive/2023/Q1']],
    ['Arch*', ['Archive', 'Archive/2023', 'Archive/2023/Q1', 'Arch']],
    ['Arch%', ['Archive', 'Arch']],
    ['inbox', ['INBOX']],
    ['inbox/%', ['INBOX/Sent']],
    ['%/%', ['INBOX/Sent', 'Archive/2023']],
    ['*/Q1', ['Archive/2023/Q1']],
  ])('matches %s against the right names', (pattern, expected) => {
    const matches = createListMatcher(pattern, '/');
    expect(names.filter(matches)).toEqual(expected);
  });

  it('matches pathological patterns in bounded time', () => {
    const matches = createListMatcher(`${'*a'.repeat(200)}b`, '/');
    const started = Date.now();
    expect(matches('a'.repeat(500))).toBe(false);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('joins reference and pattern', () => {
    expect(combineReferenceAndPattern('Archive/', '%', '/')).toBe('Archive/%');
    expect(combineReferenceAndPattern('Archive/', '/x', '/')).toBe('/x');
    expect(combineReferenceAndPattern('', 'INBOX', '/')).toBe('INBOX');
  });
});
