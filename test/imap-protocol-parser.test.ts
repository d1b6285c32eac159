import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CommandParser, parserErrorToProtocolError, type ParserEvent } from '../src/cas/imap/protocol/parser.js';
import { MAX_COMMAND_LINE_BYTES, MAX_LIST_NESTING_DEPTH, MAX_NON_APPEND_LITERAL_BYTES, MAX_TAG_BYTES } from '../src/cas/imap/protocol/limits.js';

const CORPUS = '/work/shared/corpus/fixtures/dovecot-imaptest/_expected';

/** Command lines of the imaptest scripts, with `$variables` filled in, tagged, CRLF-terminated. */
function imaptestCommandLines(): { line: string; expected: string }[] {
  const lines = new Map<string, string>();
  for (const file of readdirSync(CORPUS)) {
    const text = readFileSync(join(CORPUS, file), 'latin1');
    for (const raw of text.split('\n')) {
      const match = /^(?:[0-9]+ )?(ok|no|bad) (.+)$/.exec(raw);
      if (match === null || !/^[A-Za-z]/.test(match[2]!) || raw.includes('{{{') || /[^\x20-\x7e]/.test(match[2]!)) continue;
      const command = match[2]!.replace(/\$\{?([A-Za-z_]+)\}?/g, (_m, name: string) => `x${name}`);
      lines.set(`a1 ${command}\r\n`, match[1]!);
    }
  }
  return [...lines].map(([line, expected]) => ({ line, expected }));
}

function drain(parser: CommandParser): ParserEvent[] {
  return [...parser.events()];
}

function feed(chunks: Buffer[], parser = new CommandParser()): ParserEvent[] {
  const events: ParserEvent[] = [];
  for (const chunk of chunks) {
    parser.push(chunk);
    events.push(...drain(parser));
  }
  return events;
}

function bytewise(text: string | Buffer): Buffer[] {
  const buf = Buffer.isBuffer(text) ? text : Buffer.from(text, 'latin1');
  return [...buf].map((b) => Buffer.from([b]));
}

function parseOne(text: string): ParserEvent {
  const events = feed([Buffer.from(text, 'utf8')]);
  expect(events).toHaveLength(1);
  return events[0]!;
}

describe('IMAP command parser', () => {
  const corpus = imaptestCommandLines();

  it('reads the imaptest command lines as commands', () => {
    expect(corpus.length).toBeGreaterThan(300);
    for (const { line, expected } of corpus) {
      const events = feed([Buffer.from(line, 'latin1')]);
      expect(events, line).toHaveLength(1);
      if (expected === 'ok') expect(events[0]!.kind, line).toBe('command');
    }
  });

  it('gives the same events when the imaptest lines arrive one byte at a time', () => {
    const whole = feed(corpus.map(({ line }) => Buffer.from(line, 'latin1')));
    const byteByByte = feed(bytewise(corpus.map(({ line }) => line).join('')));
    expect(byteByByte).toEqual(whole);
  });

  it('gives the same events when each imaptest line is split at every boundary', () => {
    const mismatches: string[] = [];
    for (const { line } of corpus) {
      const buf = Buffer.from(line, 'latin1');
      const whole = JSON.stringify(feed([buf]));
      // Every boundary; the one 31 KB line of the corpus is cut at ~256 evenly spaced points.
      const step = Math.max(1, Math.floor(buf.length / 256));
      for (let cut = 1; cut < buf.length; cut += step) {
        if (JSON.stringify(feed([buf.subarray(0, cut), buf.subarray(cut)])) !== whole) mismatches.push(`${line} cut at ${cut}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('tokenizes atoms, numbers, quoted strings, NIL and nested lists', () => {
    expect(parseOne('t1 store 1:* +FLAGS.SILENT (\\Seen "a \\"b\\" \\\\" NIL (x 42))\r\n')).toEqual({
      kind: 'command',
      tag: 't1',
      name: 'STORE',
      rawBytes: 60,
      args: [
        { type: 'atom', value: '1:*' },
        { type: 'atom', value: '+FLAGS.SILENT' },
        {
          type: 'list',
          items: [
            { type: 'atom', value: '\\Seen' },
            { type: 'string', value: 'a "b" \\' },
            { type: 'nil' },
            { type: 'list', items: [{ type: 'atom', value: 'x' }, { type: 'number', value: 42, raw: '42' }] },
          ],
        },
      ],
    });
  });

  it('reads a BODY section with a header list and partial range as one atom', () => {
    const event = parseOne('a fetch 1 (UID BODY.PEEK[HEADER.FIELDS (From To "X-Y")]<0.100> BINARY[1.2])\r\n');
    expect(event.kind).toBe('command');
    if (event.kind !== 'command') return;
    const list = event.args[1]!;
    expect(list).toEqual({
      type: 'list',
      items: [
        { type: 'atom', value: 'UID' },
        {
          type: 'atom',
          value: 'BODY.PEEK[HEADER.FIELDS (From To "X-Y")]<0.100>',
          section: { prefix: 'BODY.PEEK', text: 'HEADER.FIELDS (From To "X-Y")', suffix: '<0.100>' },
        },
        { type: 'atom', value: 'BINARY[1.2]', section: { prefix: 'BINARY', text: '1.2', suffix: '' } },
      ],
    });
  });

  it('keeps an unclosed bracket in a mailbox name as a plain atom', () => {
    expect(parseOne('a select foo[bar\r\n')).toMatchObject({ args: [{ type: 'atom', value: 'foo[bar' }] });
  });

  it('asks for a continuation for a synchronising literal and inserts its bytes in place', () => {
    const parser = new CommandParser();
    parser.push(Buffer.from('a1 LOGIN {4}\r\n'));
    expect(parser.next()).toEqual({ kind: 'continuation-needed', tag: 'a1', name: 'LOGIN', literalSize: 4, isDiscarded: false });
    expect(parser.next()).toEqual({ kind: 'need-more' });
    parser.push(Buffer.from('user {6}\r\n'));
    expect(parser.next()).toMatchObject({ kind: 'continuation-needed', literalSize: 6 });
    parser.push(Buffer.from('pa\r\nss\r\n'));
    const event = parser.next();
    expect(event).toMatchObject({ kind: 'command', tag: 'a1', name: 'LOGIN' });
    if (event.kind !== 'command') return;
    expect(event.args.map((t) => (t.type === 'literal' ? t.value.toString() : t))).toEqual(['user', 'pa\r\nss']);
    expect(event.rawBytes).toBe(Buffer.byteLength('a1 LOGIN {4}\r\nuser {6}\r\npa\r\nss\r\n'));
  });

  it('asks no continuation for a LITERAL+ literal', () => {
    const events = feed(bytewise('a2 LOGIN {4+}\r\nuser "pw"\r\na3 NOOP\r\n'));
    expect(events.map((e) => e.kind)).toEqual(['command', 'command']);
    expect(events[0]).toMatchObject({ args: [{ type: 'literal', size: 4, isDiscarded: false }, { type: 'string', value: 'pw' }] });
  });

  it('streams APPEND literals to nowhere without buffering them', () => {
    const parser = new CommandParser();
    parser.push(Buffer.from('a APPEND INBOX (\\Seen) {10485760}\r\n'));
    expect(parser.next()).toEqual({ kind: 'continuation-needed', tag: 'a', name: 'APPEND', literalSize: 10485760, isDiscarded: true });
    const chunk = Buffer.alloc(65536, 0x41);
    for (let sent = 0; sent < 10485760; sent += chunk.length) {
      parser.push(chunk);
      expect(parser.next().kind).toBe('need-more');
      expect(parser.retainedBytes).toBeLessThan(1024);
    }
    parser.push(Buffer.from('\r\n'));
    expect(parser.next()).toMatchObject({ kind: 'command', name: 'APPEND', args: [{}, {}, { type: 'literal', size: 10485760, isDiscarded: true }] });
  });

  it('accepts a command line of exactly the limit and rejects one byte more, then reads the next command', () => {
    const atLimit = `a1 NOOP ${'x'.repeat(MAX_COMMAND_LINE_BYTES - 8)}\r\n`;
    expect(Buffer.byteLength(atLimit)).toBe(MAX_COMMAND_LINE_BYTES + 2);
    expect(feed([Buffer.from(atLimit)]).map((e) => e.kind)).toEqual(['command']);
    const overLimit = `a2 NOOP ${'x'.repeat(MAX_COMMAND_LINE_BYTES - 7)}\r\na3 NOOP\r\n`;
    for (const chunks of [[Buffer.from(overLimit)], chunked(Buffer.from(overLimit), 1000)]) {
      const events = feed(chunks);
      expect(events).toEqual([
        {
          kind: 'error',
          tag: 'a2',
          code: 'LINE_TOO_LONG',
          message: `Command line longer than ${MAX_COMMAND_LINE_BYTES} bytes`,
          fatal: false,
          responseCode: { name: 'LIMIT' },
        },
        { kind: 'command', tag: 'a3', name: 'NOOP', args: [], rawBytes: 9 },
      ]);
    }
  });

  it('holds no more than the line limit while skipping an endless line', () => {
    const parser = new CommandParser({ limits: { maxLineBytes: 100 } });
    const events: ParserEvent[] = [];
    for (let k = 0; k < 1000; k++) {
      parser.push(Buffer.alloc(1000, 0x78));
      events.push(...drain(parser));
      expect(parser.retainedBytes).toBeLessThanOrEqual(101);
    }
    parser.push(Buffer.from('\r\nb NOOP\r\n'));
    events.push(...drain(parser));
    expect(events.map((e) => e.kind)).toEqual(['error', 'command']);
    expect(events[0]).toMatchObject({ tag: null, code: 'LINE_TOO_LONG' });
  });

  it('skips the announced bytes of a LITERAL+ at the end of an over-long line', () => {
    const parser = new CommandParser({ limits: { maxLineBytes: 50 } });
    const events = feed(bytewise(`a1 NOOP ${'y'.repeat(60)} {5+}\r\n) a0 X\r\na2 NOOP\r\n`), parser);
    expect(events.map((e) => [e.kind, 'tag' in e ? e.tag : null])).toEqual([
      ['error', 'a1'],
      ['command', 'a2'],
    ]);
  });

  it('skips a LITERAL+ announced at the end of a huge line that arrives in one chunk', () => {
    const parser = new CommandParser();
    const line = `a1 SEARCH TEXT ${'z'.repeat(10 * 1024 * 1024)} {4+}\r\nabcd\r\na2 NOOP\r\n`;
    const events = feed([Buffer.from(line)], parser);
    expect(events.map((e) => [e.kind, 'tag' in e ? e.tag : null])).toEqual([
      ['error', 'a1'],
      ['command', 'a2'],
    ]);
    expect(parser.retainedBytes).toBe(0);
  });

  it('accepts a literal of exactly the limit and refuses one byte more without asking for it', () => {
    const parser = new CommandParser();
    parser.push(Buffer.from(`a1 LOGIN {${MAX_NON_APPEND_LITERAL_BYTES}}\r\n`));
    expect(parser.next()).toMatchObject({ kind: 'continuation-needed', literalSize: MAX_NON_APPEND_LITERAL_BYTES });
    parser.push(Buffer.alloc(MAX_NON_APPEND_LITERAL_BYTES, 0x61));
    parser.push(Buffer.from(' x\r\n'));
    expect(parser.next()).toMatchObject({ kind: 'command', tag: 'a1' });
    parser.push(Buffer.from(`a2 LOGIN {${MAX_NON_APPEND_LITERAL_BYTES + 1}}\r\na3 NOOP\r\n`));
    expect(parser.next()).toEqual({
      kind: 'error',
      tag: 'a2',
      code: 'LITERAL_TOO_LARGE',
      message: `Literal larger than ${MAX_NON_APPEND_LITERAL_BYTES} bytes`,
      fatal: false,
      responseCode: { name: 'TOOBIG' },
    });
    expect(parser.next()).toMatchObject({ kind: 'command', tag: 'a3' });
  });

  it('skips an over-size LITERAL+ and the rest of its command', () => {
    const parser = new CommandParser({ limits: { maxLiteralBytes: 10 } });
    const events = feed(bytewise('a1 LOGIN {11+}\r\n0123456789A {3+}\r\nabc\r\na2 NOOP\r\n'), parser);
    expect(events.map((e) => e.kind)).toEqual(['error', 'command']);
    expect(events[0]).toMatchObject({ tag: 'a1', code: 'LITERAL_TOO_LARGE' });
    expect(events[1]).toMatchObject({ tag: 'a2' });
  });

  it('bounds the total of the literals buffered for one command', () => {
    const parser = new CommandParser({ limits: { maxLiteralBytes: 10, maxCommandLiteralTotalBytes: 20 } });
    const atLimit = feed([Buffer.from('a1 X {10+}\r\n0123456789 {10+}\r\n0123456789\r\n')], parser);
    expect(atLimit.map((e) => e.kind)).toEqual(['command']);
    const over = feed([Buffer.from('a2 X {10+}\r\n0123456789 {10+}\r\n0123456789 {1+}\r\nz\r\na3 NOOP\r\n')], parser);
    expect(over.map((e) => e.kind)).toEqual(['error', 'command']);
    expect(over[0]).toMatchObject({ tag: 'a2', message: 'Literals of one command larger than 20 bytes in total' });
  });

  it('accepts an APPEND literal of exactly the configured limit and refuses one byte more', () => {
    const parser = new CommandParser({ limits: { maxAppendLiteralBytes: 1000 } });
    parser.push(Buffer.from('a1 APPEND INBOX {1000+}\r\n'));
    parser.push(Buffer.alloc(1000, 0x42));
    parser.push(Buffer.from('\r\na2 APPEND INBOX {1001}\r\na3 APPEND INBOX {1001+}\r\n'));
    parser.push(Buffer.alloc(1001, 0x42));
    parser.push(Buffer.from('\r\na4 NOOP\r\n'));
    expect(drain(parser).map((e) => [e.kind, 'tag' in e ? e.tag : null, 'code' in e ? e.code : null])).toEqual([
      ['command', 'a1', null],
      ['error', 'a2', 'LITERAL_TOO_LARGE'],
      ['error', 'a3', 'LITERAL_TOO_LARGE'],
      ['command', 'a4', null],
    ]);
  });

  it('echoes a tag of exactly the maximum length and never a longer one', () => {
    const tag = 't'.repeat(MAX_TAG_BYTES);
    expect(parseOne(`${tag} NOOP\r\n`)).toMatchObject({ kind: 'command', tag });
    expect(parseOne(`${tag}t NOOP\r\n`)).toMatchObject({ kind: 'error', tag: null, code: 'INVALID_TAG' });
  });

  it('turns parser errors into BAD protocol errors with their response code', () => {
    const event = parseOne(`a1 NOOP ${'x'.repeat(MAX_COMMAND_LINE_BYTES)}\r\n`);
    if (event.kind !== 'error') throw new Error('expected an error');
    expect(parserErrorToProtocolError(event)).toMatchObject({ status: 'BAD', code: 'LINE_TOO_LONG', responseCode: { name: 'LIMIT' } });
  });

  it('lets the connection refuse a synchronising literal and go on with the next command', () => {
    const parser = new CommandParser();
    parser.push(Buffer.from('a1 APPEND INBOX {99}\r\n'));
    expect(parser.next().kind).toBe('continuation-needed');
    expect(parser.refuseLiteral()).toBe(true);
    parser.push(Buffer.from('a2 NOOP\r\n'));
    expect(parser.next()).toMatchObject({ kind: 'command', tag: 'a2' });
    expect(parser.refuseLiteral()).toBe(false);
  });

  it('accepts lists nested to the limit and rejects one level more', () => {
    const nest = (depth: number) => `a1 X ${'('.repeat(depth)}${')'.repeat(depth)}\r\n`;
    expect(parseOne(nest(MAX_LIST_NESTING_DEPTH)).kind).toBe('command');
    expect(parseOne(nest(MAX_LIST_NESTING_DEPTH + 1))).toMatchObject({ kind: 'error', tag: 'a1', code: 'SYNTAX', fatal: false });
  });

  it('reports unbalanced parentheses with the tag', () => {
    expect(parseOne('a1 FETCH 1 (FLAGS\r\n')).toMatchObject({ kind: 'error', tag: 'a1', message: "Missing ')'" });
    expect(parseOne('a2 FETCH 1 FLAGS)\r\n')).toMatchObject({ kind: 'error', tag: 'a2', message: "Unexpected ')'" });
    expect(parseOne('a3 SEARCH "abc\r\n')).toMatchObject({ kind: 'error', tag: 'a3', message: 'Unterminated quoted string' });
  });

  it('never echoes an invalid tag', () => {
    expect(parseOne('a+b NOOP\r\n')).toMatchObject({ kind: 'error', tag: null, code: 'INVALID_TAG' });
    expect(parseOne('"a" NOOP\r\n')).toMatchObject({ kind: 'error', tag: null });
    expect(parseOne('\u0001\u0002 NOOP\r\n')).toMatchObject({ kind: 'error', tag: null });
    expect(parseOne('abc\r\n')).toMatchObject({ kind: 'error', tag: 'abc', message: 'Missing command name' });
  });

  it('ignores empty lines between commands', () => {
    expect(feed([Buffer.from('\r\n\r\na NOOP\r\n')]).map((e) => e.kind)).toEqual(['command']);
  });

  it('reads one raw line on request and then returns to commands', () => {
    const parser = new CommandParser();
    parser.push(Buffer.from('a IDLE\r\nDONE\r\nb NOOP\r\n'));
    expect(parser.next()).toMatchObject({ kind: 'command', name: 'IDLE' });
    expect(parser.expectRawLine()).toBe(true);
    expect(parser.next()).toEqual({ kind: 'raw-line', line: Buffer.from('DONE') });
    expect(parser.next()).toMatchObject({ kind: 'command', tag: 'b' });
  });

  it('rejects an over-long raw line and resumes reading commands', () => {
    const parser = new CommandParser({ limits: { maxLineBytes: 10 } });
    expect(parser.expectRawLine()).toBe(true);
    parser.push(Buffer.from('0123456789ABCDEF\r\nb NOOP\r\n'));
    expect(parser.next()).toMatchObject({ kind: 'error', tag: null, code: 'LINE_TOO_LONG' });
    expect(parser.next()).toMatchObject({ kind: 'command', tag: 'b' });
  });

  it('closes the stream on a LITERAL+ whose size cannot be read', () => {
    const events = feed([Buffer.from('a X {99999999999999999999+}\r\nb NOOP\r\n')]);
    expect(events).toEqual([{ kind: 'error', tag: 'a', code: 'SYNTAX', message: 'Literal size out of range', fatal: true }]);
  });

  it('reads literal8 in APPEND', () => {
    const events = feed([Buffer.from('a APPEND INBOX ~{3+}\r\n\0\0\0\r\n')]);
    expect(events[0]).toMatchObject({ kind: 'command', args: [{}, { type: 'literal', isBinary: true, size: 3 }] });
  });

  it('fails closed instead of throwing if its own code breaks', () => {
    const parser = new CommandParser();
    (parser as unknown as { stepLine: () => never }).stepLine = () => {
      throw new TypeError('simulated bug');
    };
    parser.push(Buffer.from('a NOOP\r\n'));
    expect(parser.next()).toEqual({ kind: 'error', tag: null, code: 'SYNTAX', message: 'Internal parser error', fatal: true });
    parser.push(Buffer.from('b NOOP\r\n'));
    expect(parser.next()).toEqual({ kind: 'need-more' });
    expect(parser.unreadBytes).toBe(0);
  });

  it('never throws on random binary garbage', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const parser = new CommandParser({ limits: { maxLineBytes: 256, maxLiteralBytes: 64 } });
    for (let k = 0; k < 2000; k++) {
      const chunk = Buffer.alloc(1 + Math.floor(random() * 64));
      for (let b = 0; b < chunk.length; b++) chunk[b] = Math.floor(random() * 256);
      parser.push(chunk);
      expect(() => drain(parser)).not.toThrow();
    }
  });
});

function chunked(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let k = 0; k < buf.length; k += size) out.push(buf.subarray(k, k + size));
  return out;
}
