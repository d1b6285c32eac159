import { describe, expect, it } from 'vitest';
import { astring, canQuote, imapString, isAtom, literal, mailboxName, nstring, quoteString } from '../src/cas/imap/protocol/quote.js';
import { decodeMutf7, encodeMutf7 } from '../src/cas/imap/protocol/mutf7.js';
import { MAX_QUOTED_STRING_BYTES } from '../src/cas/imap/protocol/limits.js';

describe('wire quoting', () => {
  it('recognises atoms and refuses atom-specials', () => {
    expect(isAtom('INBOX')).toBe(true);
    expect(isAtom('\\Seen')).toBe(false);
    for (const s of ['', 'a b', 'a(', 'a)', 'a{', 'a%', 'a*', 'a"', 'a]', 'ä']) expect(isAtom(s), s).toBe(false);
  });

  it('escapes backslash and double quote in quoted strings', () => {
    expect(quoteString('a "b" \\c')).toBe('"a \\"b\\" \\\\c"');
  });

  it('refuses to quote CR, LF or NUL as a bug', () => {
    expect(() => quoteString('a\r\nb')).toThrow(RangeError);
  });

  it('sends a literal when the string has CR, LF, NUL or 8-bit bytes or is long', () => {
    expect(imapString('plain')).toBe('"plain"');
    expect(imapString('a\r\nb')).toEqual(Buffer.from('{4}\r\na\r\nb'));
    expect(imapString('a\0b')).toEqual(Buffer.from('{3}\r\na\0b'));
    expect(imapString('Grüße')).toEqual(Buffer.concat([Buffer.from('{7}\r\n'), Buffer.from('Grüße')]));
    expect(imapString('Grüße', { isUtf8Enabled: true })).toBe('"Grüße"');
    expect(canQuote('x'.repeat(MAX_QUOTED_STRING_BYTES))).toBe(true);
    expect(canQuote('x'.repeat(MAX_QUOTED_STRING_BYTES + 1))).toBe(false);
    expect(literal('abc')).toEqual(Buffer.from('{3}\r\nabc'));
  });

  it('writes NIL for absent nstrings and quotes an astring spelled NIL', () => {
    expect(nstring(null)).toBe('NIL');
    expect(nstring(undefined)).toBe('NIL');
    expect(nstring('')).toBe('""');
    expect(astring('INBOX')).toBe('INBOX');
    expect(astring('NIL')).toBe('"NIL"');
    expect(astring('My Folder')).toBe('"My Folder"');
  });
});

describe('modified UTF-7 mailbox names', () => {
  it('formats mailbox names for the wire, encoded unless UTF-8 is enabled', () => {
    expect(mailboxName('INBOX')).toBe('INBOX');
    expect(mailboxName('Entwürfe')).toBe('Entw&APw-rfe');
    expect(mailboxName('Sent Items')).toBe('"Sent Items"');
    expect(mailboxName('Grüße', { isUtf8Enabled: true })).toBe('"Grüße"');
  });

  const roundTrips: Array<[string, string]> = [
    ['INBOX', 'INBOX'],
    ['ä', '&AOQ-'],
    ['&', '&-'],
    ['Tom & Jerry', 'Tom &- Jerry'],
    ['~peter/mail/台北/日本語', '~peter/mail/&U,BTFw-/&ZeVnLIqe-'],
    ['受信トレイ', '&U9dP4TDIMOwwpA-'],
    ['Entwürfe', 'Entw&APw-rfe'],
    ['😀', '&2D3eAA-'],
  ];

  it.each(roundTrips)('encodes %j as %j and decodes it back', (name, encoded) => {
    expect(encodeMutf7(name)).toBe(encoded);
    expect(decodeMutf7(encoded)).toEqual({ ok: true, value: name });
  });

  const invalid: Array<[string, string]> = [
    ['&AOQ', "'&' without a closing '-'"],
    ['&', "'&' without a closing '-'"],
    ['&AOQ-&AOQ-', 'two adjacent encoded runs must be one'],
    ['&AGE-', "printable ASCII 'a' must not be encoded"],
    ['&AO-', 'encoded run does not end on a UTF-16 boundary'],
    ['&AOR-', 'non-zero padding bits'],
    ['&2D0-', 'unpaired UTF-16 surrogate'],
    ['&A/Q-', "'/' is not a modified BASE64 character"],
    ['ä', 'character U+00E4 must be encoded'],
  ];

  it.each(invalid)('rejects %j with a clear error', (encoded, reason) => {
    const result = decodeMutf7(encoded);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({ code: 'INVALID_MAILBOX_NAME', status: 'BAD', message: `Invalid modified UTF-7 mailbox name: ${reason}` });
  });
});
