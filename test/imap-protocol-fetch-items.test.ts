import { describe, expect, it } from 'vitest';
import { CommandParser } from '../src/cas/imap/protocol/parser.js';
import { parseFetchItems, type FetchRequest } from '../src/cas/imap/protocol/fetch-items.js';
import type { Token } from '../src/cas/imap/protocol/tokens.js';
import type { ParseResult } from '../src/cas/imap/protocol/errors.js';
import { MAX_FETCH_ITEMS, MAX_HEADER_FIELD_NAMES } from '../src/cas/imap/protocol/limits.js';

/** Parses `a FETCH 1 <text>` through the real command parser and returns the FETCH item result. */
function fetch(text: string, isUid = false): ParseResult<FetchRequest> {
  const parser = new CommandParser();
  parser.push(Buffer.from(`a FETCH 1 ${text}\r\n`));
  const event = parser.next();
  if (event.kind !== 'command') throw new Error(`not a command: ${JSON.stringify(event)}`);
  return parseFetchItems(event.args.slice(1) as Token[], { isUid });
}

function names(text: string, isUid = false): string[] {
  const result = fetch(text, isUid);
  if (!result.ok) throw new Error(result.error.message);
  return result.value.items.map((i) => i.responseName);
}

describe('FETCH attributes', () => {
  it('expands the ALL, FAST and FULL macros', () => {
    expect(names('ALL')).toEqual(['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE']);
    expect(names('fast')).toEqual(['FLAGS', 'INTERNALDATE', 'RFC822.SIZE']);
    expect(names('FULL')).toEqual(['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY']);
  });

  it('reads every simple attribute in a list', () => {
    expect(names('(flags internaldate rfc822.size envelope body bodystructure uid modseq rfc822 rfc822.header rfc822.text)')).toEqual([
      'FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY', 'BODYSTRUCTURE', 'UID', 'MODSEQ', 'RFC822', 'RFC822.HEADER', 'RFC822.TEXT',
    ]);
  });

  it('reads BODY.PEEK[HEADER.FIELDS (From To Subject)]<0.100> and echoes it as the client asked', () => {
    const result = fetch('BODY.PEEK[HEADER.FIELDS (From To Subject)]<0.100>');
    expect(result).toEqual({
      ok: true,
      value: {
        isVanishedRequested: false,
        items: [
          {
            kind: 'BODY[]',
            section: { part: [], kind: 'HEADER.FIELDS', fields: ['From', 'To', 'Subject'] },
            partial: { start: 0, length: 100 },
            isPeek: true,
            isSettingSeen: false,
            responseName: 'BODY[HEADER.FIELDS (From To Subject)]<0>',
          },
        ],
      },
    });
  });

  it.each([
    ['body[]', 'BODY[]', { part: [], kind: '' }],
    ['body[text]', 'BODY[TEXT]', { part: [], kind: 'TEXT' }],
    ['body[1]', 'BODY[1]', { part: [1], kind: '' }],
    ['BODY[1.2.MIME]', 'BODY[1.2.MIME]', { part: [1, 2], kind: 'MIME' }],
    ['BODY[2.header]', 'BODY[2.HEADER]', { part: [2], kind: 'HEADER' }],
    ['body[header.fields.not (x-a "X-B")]', 'BODY[HEADER.FIELDS.NOT (x-a X-B)]', { part: [], kind: 'HEADER.FIELDS.NOT', fields: ['x-a', 'X-B'] }],
    ['BODY[3.HEADER.FIELDS (Date)]<5.10>', 'BODY[3.HEADER.FIELDS (Date)]<5>', { part: [3], kind: 'HEADER.FIELDS', fields: ['Date'] }],
  ])('reads %s as %s', (text, responseName, section) => {
    const result = fetch(text);
    expect(result).toMatchObject({ ok: true, value: { items: [{ kind: 'BODY[]', responseName, section }] } });
  });

  it('reads BINARY, BINARY.PEEK and BINARY.SIZE sections', () => {
    expect(fetch('(BINARY[1.2]<0.10> BINARY.PEEK[] BINARY.SIZE[3])')).toMatchObject({
      ok: true,
      value: {
        items: [
          { kind: 'BINARY[]', part: [1, 2], partial: { start: 0, length: 10 }, isPeek: false, responseName: 'BINARY[1.2]<0>' },
          { kind: 'BINARY[]', part: [], isPeek: true, responseName: 'BINARY[]' },
          { kind: 'BINARY.SIZE', part: [3], responseName: 'BINARY.SIZE[3]' },
        ],
      },
    });
  });

  it('adds UID for UID FETCH and MODSEQ for CHANGEDSINCE, and reads VANISHED', () => {
    const result = fetch('(FLAGS) (CHANGEDSINCE 12345678901234 VANISHED)', true);
    expect(result).toMatchObject({ ok: true, value: { changedSince: 12345678901234n, isVanishedRequested: true } });
    if (result.ok) expect(result.value.items.map((i) => i.responseName)).toEqual(['UID', 'FLAGS', 'MODSEQ']);
  });

  it.each([
    ['', 'Missing FETCH attributes'],
    ['()', 'Empty FETCH attribute list'],
    ['FOO', 'Unknown FETCH attribute "FOO"'],
    ['(FLAGS ALL)', 'ALL cannot be combined with other FETCH attributes'],
    ['BODY[HEADER.FIELDS]', 'HEADER.FIELDS needs a list of header names'],
    ['BODY[HEADER.FIELDS ()]', 'HEADER.FIELDS needs a list of header names'],
    ['BODY[MIME]', 'MIME needs a part number'],
    ['BODY[0]', 'Invalid section part "0"'],
    ['BODY[FOO]', 'Invalid section "FOO"'],
    ['BODY[TEXT (a)]', 'Invalid section "TEXT (a)"'],
    ['BODY[]<0>', 'Invalid partial range in "BODY[]<0>"'],
    ['BODY[]<0.0>', 'Invalid partial range in "BODY[]<0.0>"'],
    ['BINARY[TEXT]', 'Invalid BINARY section "TEXT"'],
    ['BINARY.SIZE[1]<0.5>', 'BINARY.SIZE takes no partial range'],
    ['RFC822.PEEK', 'Unknown FETCH attribute "RFC822.PEEK"'],
    ['NIL', 'Invalid FETCH attribute'],
    ['FLAGS (CHANGEDSINCE)', 'CHANGEDSINCE needs a mod-sequence value'],
    ['FLAGS (CHANGEDSINCE 1 VANISHED)', 'VANISHED requires UID FETCH with CHANGEDSINCE'],
    ['FLAGS (FOO)', 'Unknown or repeated FETCH modifier'],
    ['FLAGS (CHANGEDSINCE 1) x', 'Unexpected arguments after FETCH modifiers'],
  ])('answers %j with BAD "%s"', (text, message) => {
    expect(fetch(text)).toMatchObject({ ok: false, error: { status: 'BAD', message } });
  });

  it('accepts the maximum number of attributes and header names and rejects one more', () => {
    const items = (n: number) => `(${Array.from({ length: n }, (_, k) => `BODY.PEEK[${k + 1}]`).join(' ')})`;
    expect(fetch(items(MAX_FETCH_ITEMS)).ok).toBe(true);
    expect(fetch(items(MAX_FETCH_ITEMS + 1))).toMatchObject({ ok: false, error: { code: 'LIMIT_EXCEEDED' } });
    const fields = (n: number) => `BODY.PEEK[HEADER.FIELDS (${Array.from({ length: n }, (_, k) => `X-${k}`).join(' ')})]`;
    expect(fetch(fields(MAX_HEADER_FIELD_NAMES)).ok).toBe(true);
    expect(fetch(fields(MAX_HEADER_FIELD_NAMES + 1))).toMatchObject({ ok: false, error: { code: 'LIMIT_EXCEEDED' } });
  });
});
