import { describe, expect, it } from 'vitest';
import { CommandParser, type ParserEvent } from '../src/cas/imap/protocol/parser.js';
import { parseFetchItems } from '../src/cas/imap/protocol/fetch-items.js';
import { parseSearch } from '../src/cas/imap/protocol/search-keys.js';
import { parseListArguments } from '../src/cas/imap/protocol/list-args.js';
import { sequenceSetFromToken } from '../src/cas/imap/protocol/sequence-set.js';
import { decodeMutf7 } from '../src/cas/imap/protocol/mutf7.js';
import type { Token } from '../src/cas/imap/protocol/tokens.js';
import { fuzzRun, prng } from './helpers/fuzz-run.js';

const run = fuzzRun('parser fuzz', 20260401, 2000);

const LIMITS = { maxLineBytes: 512, maxLiteralBytes: 64, maxCommandLiteralTotalBytes: 128, maxAppendLiteralBytes: 4096, maxListDepth: 6 };

function depthOf(tokens: readonly Token[]): number {
  let max = 0;
  for (const t of tokens) if (t.type === 'list') max = Math.max(max, 1 + depthOf(t.items));
  return max;
}

/** Grammar-shaped command text: real command names and argument shapes, randomly broken. */
function grammarCommand(random: () => number): Buffer {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const names = ['FETCH', 'UID', 'SEARCH', 'LIST', 'LOGIN', 'APPEND', 'SELECT', 'STATUS', 'NOOP', 'IDLE', 'x-bogus', ''];
  const atoms = ['1:*', '5', '7:3', '$', '*', 'FLAGS', 'BODY.PEEK[HEADER.FIELDS (From To)]<0.10>', 'BODY[', 'BODY[]<', 'NIL', 'OR', 'NOT', 'SUBJECT', 'CHARSET', 'UTF-8', 'RETURN', '&AOQ-', '&Jjo', 'INBOX', 'SINCE', '1-Feb-2024', 'HEADER', 'UID', 'MODSEQ', '99999999999999999999'];
  const parts: Buffer[] = [];
  const text = (s: string) => parts.push(Buffer.from(s, 'latin1'));
  text(pick(['a1', 'A002', '*', '+', '', 'tag]', 'x'.repeat(70)]));
  text(' ');
  text(pick(names));
  let open = 0;
  const count = Math.floor(random() * 12);
  for (let k = 0; k < count; k++) {
    const r = random();
    if (r < 0.05) text(pick([' ', '  ']));
    else text(' ');
    if (r < 0.35) text(pick(atoms));
    else if (r < 0.45) text(`"${pick(['', 'a b', 'x\\"y', 'bad\\q', 'unterminated'])}"`);
    else if (r < 0.55) {
      text('(');
      open++;
    } else if (r < 0.65 && open > 0) {
      text(')');
      open--;
    } else if (r < 0.75) {
      const size = pick([0, 1, 5, 63, 64, 65, 200]);
      const plus = random() < 0.5 ? '+' : '';
      const actual = random() < 0.8 ? size : Math.floor(random() * 80);
      text(`{${size}${plus}}\r\n`);
      const bytes = Buffer.alloc(actual);
      for (let b = 0; b < actual; b++) bytes[b] = Math.floor(random() * 256);
      parts.push(bytes);
    } else if (r < 0.76) text(`{${pick(['99999999999999999999', '9007199254740993', '', 'x'])}${pick(['+', ''])}}\r\n`);
    else if (r < 0.8) text('x'.repeat(Math.floor(random() * 700)));
    else if (r < 0.85) text(pick(['\0', '\r', '\x7f', '\xff\xfe']));
    else text(String(Math.floor(random() * 1e6)));
  }
  while (open-- > 0 && random() < 0.8) text(')');
  text(pick(['\r\n', '\r\n', '\r\n', '\n', '']));
  return Buffer.concat(parts);
}

function randomBytes(random: () => number): Buffer {
  const bytes = Buffer.alloc(Math.floor(random() * 200));
  const alphabet = Buffer.from('a1 (){}[]<>"\\+*%:,.0123456789\r\n~\0');
  for (let k = 0; k < bytes.length; k++) bytes[k] = random() < 0.7 ? alphabet[Math.floor(random() * alphabet.length)]! : Math.floor(random() * 256);
  return bytes;
}

/** Applies every argument parser to a command: none may throw, whatever the tokens. */
function exerciseArgumentParsers(event: ParserEvent): void {
  if (event.kind !== 'command') return;
  const args = event.args;
  sequenceSetFromToken(args[0]);
  parseFetchItems(args.slice(1));
  parseFetchItems(args.slice(2), { isUid: true });
  parseSearch(args);
  parseSearch(args.slice(1));
  parseListArguments(args);
  for (const token of args) if (token.type === 'string' || token.type === 'atom') decodeMutf7(token.value);
}

describe('IMAP parser fuzzing', () => {
  it('never throws and never holds more than its limits on random and grammar-shaped input', () => {
    const random = prng(run.seed);
    let parser = new CommandParser({ limits: LIMITS });
    let fatalErrors = 0;
    const retainedBound = LIMITS.maxLineBytes + 1 + LIMITS.maxLiteralBytes + LIMITS.maxCommandLiteralTotalBytes;
    const deadline = Date.now() + run.ms;
    let rounds = 0;
    let commands = 0;
    let errors = 0;
    while (Date.now() < deadline) {
      rounds++;
      let input = random() < 0.7 ? grammarCommand(random) : randomBytes(random);
      if (random() < 0.1) input = Buffer.concat([input, Buffer.from('\r\n')]);
      // Split the input at random points, sometimes one byte at a time.
      let offset = 0;
      while (offset < input.length) {
        const size = random() < 0.2 ? 1 : 1 + Math.floor(random() * input.length);
        parser.push(input.subarray(offset, offset + size));
        offset += size;
        for (;;) {
          let event: ParserEvent;
          try {
            event = parser.next();
          } catch (error) {
            throw new Error(`parser threw after ${rounds} rounds: ${String(error)}`);
          }
          if (event.kind === 'need-more') break;
          if (event.kind === 'command') {
            commands++;
            expect(depthOf(event.args)).toBeLessThanOrEqual(LIMITS.maxListDepth);
            if (event.name === 'IDLE') parser.expectRawLine();
            exerciseArgumentParsers(event);
          } else if (event.kind === 'continuation-needed') {
            if (random() < 0.1) parser.refuseLiteral();
          } else if (event.kind === 'error') {
            errors++;
            if (event.tag !== null) expect(event.tag).toMatch(/^[\x21-\x7e]{1,64}$/);
            if (event.fatal) {
              // The connection would close; the parser must have dropped its input. Start afresh.
              expect(parser.unreadBytes).toBe(0);
              expect(parser.next()).toEqual({ kind: 'need-more' });
              fatalErrors++;
              parser = new CommandParser({ limits: LIMITS });
              break;
            }
          }
        }
        expect(parser.unreadBytes).toBe(0);
        expect(parser.retainedBytes).toBeLessThanOrEqual(retainedBound);
      }
    }
    if (run.long) console.log(`parser fuzz: ${rounds} inputs, ${commands} commands, ${errors} errors (${fatalErrors} fatal)`);
    expect(rounds).toBeGreaterThan(1000);
    expect(fatalErrors).toBeGreaterThan(0);
    expect(commands).toBeGreaterThan(100);
    expect(errors).toBeGreaterThan(100);
  }, run.timeoutMs);
});
