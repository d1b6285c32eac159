/**
 * Incremental, bounded IMAP command reader.
 *
 * Feed it bytes with `push()` in any split; pull events with `next()` one at a time, so the
 * connection can switch modes between events (raw line for AUTHENTICATE and IDLE's DONE). The
 * parser never throws into its caller and never holds more than the limits in `ParserLimits` for
 * the command being read: input is scanned once (offsets, not re-scans), over-long lines are
 * skipped to their end, over-size literals are refused or skipped, APPEND literals are streamed
 * to nowhere.
 */

import { ByteQueue } from './byte-queue.js';
import { LINE_TAIL_BYTES, LineAssembler } from './line-assembler.js';
import { DEFAULT_PARSER_LIMITS, MAX_TAG_BYTES, type ParserLimits } from './limits.js';
import type { NeedMoreEvent, ParserErrorCode, ParserErrorEvent, ParserEvent } from './parser-events.js';
import { ArgumentTokenizer, findTrailingLiteral, type LiteralToken } from './tokens.js';

export * from './parser-events.js';

export interface CommandParserOptions {
  readonly limits?: Partial<ParserLimits>;
  /** Commands whose literals are streamed to nowhere instead of buffered (default APPEND). */
  readonly discardLiteralCommands?: readonly string[];
}

/** `failed`: the stream cannot be resynchronised; everything further is discarded. */
type Mode = 'line' | 'raw-line' | 'literal' | 'skip-line' | 'skip-literal' | 'failed';

interface CommandInProgress {
  readonly tag: string;
  readonly name: string;
  readonly tokenizer: ArgumentTokenizer;
  readonly isDiscardingLiterals: boolean;
  lineBytes: number;
  literalBytes: number;
  rawBytes: number;
}

interface LiteralInProgress {
  readonly size: number;
  readonly isBinary: boolean;
  readonly isSync: boolean;
  /** Null when the literal is discarded. */
  readonly buffer: Buffer | null;
  received: number;
}

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const NEED_MORE: NeedMoreEvent = Object.freeze({ kind: 'need-more' });

/** tag = 1*<any ASTRING-CHAR except "+"> (RFC 3501 §9). */
function isTagByte(c: number): boolean {
  return c > 0x20 && c < 0x7f && c !== 0x28 && c !== 0x29 && c !== 0x7b && c !== 0x25 && c !== 0x2a && c !== 0x22 && c !== 0x5c && c !== 0x2b;
}

/** Command names are atoms; in practice letters, digits and `-` (X- commands). */
const COMMAND_NAME = /^[A-Za-z][A-Za-z0-9_.-]*$/;

export class CommandParser {
  private readonly limits: ParserLimits;
  private readonly discardLiteralCommands: ReadonlySet<string>;

  private readonly input = new ByteQueue();

  private mode: Mode = 'line';
  private readonly lines = new LineAssembler();
  private command: CommandInProgress | null = null;
  private literal: LiteralInProgress | null = null;
  private skipRemaining = 0;
  private skipTail: Buffer = Buffer.alloc(0);

  constructor(options: CommandParserOptions = {}) {
    this.limits = { ...DEFAULT_PARSER_LIMITS, ...options.limits };
    this.discardLiteralCommands = new Set((options.discardLiteralCommands ?? ['APPEND']).map((n) => n.toUpperCase()));
  }

  /** Queues received bytes; nothing is parsed until `next()`. */
  push(chunk: Buffer): void {
    this.input.push(chunk);
  }

  /** Bytes pushed and not yet consumed; the connection should pause reading while this is large. */
  get unreadBytes(): number {
    return this.input.length;
  }

  /** Bytes held for the command being read (partial line, completed segments' literals). */
  get retainedBytes(): number {
    // A literal being read is counted in `literalBytes` from the moment its buffer is allocated.
    return this.lines.length + (this.command?.literalBytes ?? 0);
  }

  /** True between commands: nothing of a command has been read yet. */
  get isIdle(): boolean {
    return this.mode === 'line' && this.command === null && this.lines.length === 0;
  }

  /**
   * Reads the next line raw (an AUTHENTICATE response, IDLE's `DONE`) instead of as a command;
   * returns false unless the parser is between commands. The mode ends after that one line.
   */
  expectRawLine(): boolean {
    if (!this.isIdle) return false;
    this.mode = 'raw-line';
    return true;
  }

  /**
   * Declines the synchronising literal just announced (after a `continuation-needed` event): the
   * client waits for `+` and will not send it, so the command is dropped and the connection answers
   * it with a tagged NO or BAD. Returns false if there is no such literal.
   */
  refuseLiteral(): boolean {
    const literal = this.literal;
    if (this.mode !== 'literal' || literal === null || !literal.isSync || literal.received !== 0) return false;
    this.literal = null;
    this.command = null;
    this.mode = 'line';
    return true;
  }

  /** Returns the next event, or `need-more` when the queued input holds no complete one. */
  next(): ParserEvent {
    try {
      return this.step();
    } catch {
      // Error boundary: a parser bug must not reach the socket handler. The stream position is
      // unknown after it, so fail closed: the connection answers and disconnects.
      this.mode = 'failed';
      this.discardInput();
      return { kind: 'error', tag: null, code: 'SYNTAX', message: 'Internal parser error', fatal: true };
    }
  }

  private step(): ParserEvent {
    for (;;) {
      switch (this.mode) {
        case 'line':
        case 'raw-line': {
          const event = this.stepLine();
          if (event !== null) return event;
          break;
        }
        case 'literal':
          if (!this.stepLiteral()) return NEED_MORE;
          break;
        case 'skip-line': {
          const event = this.stepSkipLine();
          if (event !== null) return event;
          break;
        }
        case 'skip-literal':
          if (!this.stepSkipLiteral()) return NEED_MORE;
          break;
        case 'failed':
          this.discardInput();
          return NEED_MORE;
      }
    }
  }

  /** Drains every event available now. */
  *events(): Generator<Exclude<ParserEvent, NeedMoreEvent>> {
    for (;;) {
      const event = this.next();
      if (event.kind === 'need-more') return;
      yield event;
    }
  }

  // ---- line reading ------------------------------------------------------------------------

  private stepLine(): ParserEvent | null {
    const isRaw = this.mode === 'raw-line';
    const result = this.lines.read(this.input, this.limits.maxLineBytes - (this.command?.lineBytes ?? 0));
    if (result === null) return NEED_MORE;
    if (result.kind === 'over-long') {
      const tag = this.command?.tag ?? (isRaw ? null : this.readTag(result.head));
      this.command = null;
      this.literal = null;
      const event = this.error(tag, 'LINE_TOO_LONG', `Command line longer than ${this.limits.maxLineBytes} bytes`);
      if (result.isLineComplete) return this.afterSkippedLine(result.tail, event);
      this.skipTail = result.tail;
      this.mode = 'skip-line';
      return event;
    }
    if (isRaw) {
      this.mode = 'line';
      return { kind: 'raw-line', line: result.line };
    }
    return this.onLine(result.line, result.consumedBytes);
  }

  /** The tag at the start of `head`, if it is valid and followed by a space. */
  private readTag(head: Buffer): string | null {
    const space = head.indexOf(SP);
    return space === -1 ? null : this.validTag(head, space);
  }

  private validTag(bytes: Buffer, end: number): string | null {
    if (end === 0 || end > MAX_TAG_BYTES) return null;
    for (let k = 0; k < end; k++) if (!isTagByte(bytes[k]!)) return null;
    return bytes.toString('latin1', 0, end);
  }

  /** Handles one complete line segment in command mode. */
  private onLine(line: Buffer, consumedBytes: number): ParserEvent | null {
    let command = this.command;
    let start = 0;
    if (command === null) {
      if (line.length === 0) return null; // stray empty lines are ignored, as most servers do
      const space = line.indexOf(SP);
      const tagEnd = space === -1 ? line.length : space;
      const tag = this.validTag(line, tagEnd);
      if (tag === null) return this.afterSkippedLine(line, this.error(null, 'INVALID_TAG', 'Invalid tag'));
      const nameEnd = space === -1 ? -1 : line.indexOf(SP, space + 1);
      const name = space === -1 ? '' : line.toString('latin1', space + 1, nameEnd === -1 ? line.length : nameEnd);
      if (!COMMAND_NAME.test(name)) {
        return this.afterSkippedLine(line, this.error(tag, 'SYNTAX', name === '' ? 'Missing command name' : 'Invalid command name'));
      }
      const upperName = name.toUpperCase();
      command = {
        tag,
        name: upperName,
        tokenizer: new ArgumentTokenizer(this.limits.maxListDepth),
        isDiscardingLiterals: this.discardLiteralCommands.has(upperName),
        lineBytes: 0,
        literalBytes: 0,
        rawBytes: 0,
      };
      this.command = command;
      start = nameEnd === -1 ? line.length : nameEnd + 1;
    }
    command.lineBytes += line.length;
    command.rawBytes += consumedBytes;

    const result = command.tokenizer.tokenize(line, start);
    if (result.kind === 'error') {
      this.command = null;
      return this.afterSkippedLine(line, this.error(command.tag, 'SYNTAX', result.message));
    }
    if (result.kind === 'end') {
      this.command = null;
      if (command.tokenizer.openListCount > 0) return this.error(command.tag, 'SYNTAX', "Missing ')'");
      return { kind: 'command', tag: command.tag, name: command.name, args: command.tokenizer.tokens, rawBytes: command.rawBytes };
    }

    const limit = command.isDiscardingLiterals
      ? this.limits.maxAppendLiteralBytes
      : Math.min(this.limits.maxLiteralBytes, this.limits.maxCommandLiteralTotalBytes - command.literalBytes);
    if (result.size > limit) {
      this.command = null;
      const message =
        result.size > (command.isDiscardingLiterals ? this.limits.maxAppendLiteralBytes : this.limits.maxLiteralBytes)
          ? `Literal larger than ${command.isDiscardingLiterals ? this.limits.maxAppendLiteralBytes : this.limits.maxLiteralBytes} bytes`
          : `Literals of one command larger than ${this.limits.maxCommandLiteralTotalBytes} bytes in total`;
      const event = this.error(command.tag, 'LITERAL_TOO_LARGE', message);
      // A synchronising literal is simply never asked for; a non-synchronising one is on its way
      // and must be skipped to stay in step with the client.
      if (!result.isSync) this.startSkipLiteral(result.size);
      return event;
    }
    this.literal = {
      size: result.size,
      isBinary: result.isBinary,
      isSync: result.isSync,
      buffer: command.isDiscardingLiterals ? null : Buffer.allocUnsafe(result.size),
      received: 0,
    };
    if (!command.isDiscardingLiterals) command.literalBytes += result.size;
    this.mode = 'literal';
    if (result.isSync) {
      return { kind: 'continuation-needed', tag: command.tag, name: command.name, literalSize: result.size, isDiscarded: command.isDiscardingLiterals };
    }
    return null;
  }

  // ---- literals and skipping ---------------------------------------------------------------

  /** Returns true when the literal is complete. */
  private stepLiteral(): boolean {
    const literal = this.literal!;
    const command = this.command!;
    while (literal.received < literal.size) {
      if (this.input.length === 0) return false;
      const chunk = this.input.peek();
      const take = Math.min(literal.size - literal.received, chunk.length);
      if (literal.buffer !== null) chunk.copy(literal.buffer, literal.received, 0, take);
      literal.received += take;
      this.input.consume(take);
    }
    command.rawBytes += literal.size;
    const token: LiteralToken = {
      type: 'literal',
      value: literal.buffer ?? Buffer.alloc(0),
      size: literal.size,
      isBinary: literal.isBinary,
      isDiscarded: literal.buffer === null,
    };
    command.tokenizer.addLiteral(token);
    this.literal = null;
    this.mode = 'line';
    return true;
  }

  private startSkipLiteral(size: number): void {
    this.skipRemaining = size;
    this.mode = 'skip-literal';
  }

  private stepSkipLiteral(): boolean {
    while (this.skipRemaining > 0) {
      if (this.input.length === 0) return false;
      const take = Math.min(this.skipRemaining, this.input.peek().length);
      this.skipRemaining -= take;
      this.input.consume(take);
    }
    // The command goes on after the literal: skip the rest of its line too.
    this.skipTail = Buffer.alloc(0);
    this.mode = 'skip-line';
    return true;
  }

  /** Returns need-more, a fatal error, or null when the line was skipped. */
  private stepSkipLine(): ParserEvent | null {
    while (this.input.length > 0) {
      const chunk = this.input.peek();
      const lf = chunk.indexOf(LF);
      const end = lf === -1 ? chunk.length : lf;
      const piece = chunk.subarray(Math.max(0, end - LINE_TAIL_BYTES), end);
      const joined = Buffer.concat([this.skipTail, piece]);
      this.skipTail = joined.subarray(Math.max(0, joined.length - LINE_TAIL_BYTES - 1));
      if (lf === -1) {
        this.input.consume(chunk.length);
        continue;
      }
      this.input.consume(lf + 1);
      let tail = this.skipTail;
      if (tail.length > 0 && tail[tail.length - 1] === CR) tail = tail.subarray(0, tail.length - 1);
      this.skipTail = Buffer.alloc(0);
      return this.afterSkippedLine(tail, null);
    }
    return NEED_MORE;
  }

  /**
   * After a line that was not (or could not be) tokenized: if it announced a non-synchronising
   * literal, those bytes and the rest of the command follow and are skipped. A literal too large
   * to count makes the stream unrecoverable, so the error becomes fatal.
   */
  private afterSkippedLine(line: Buffer, event: ParserErrorEvent): ParserErrorEvent;
  private afterSkippedLine(line: Buffer, event: null): ParserErrorEvent | null;
  private afterSkippedLine(line: Buffer, event: ParserErrorEvent | null): ParserErrorEvent | null {
    this.mode = 'line';
    const trailing = findTrailingLiteral(line.subarray(Math.max(0, line.length - LINE_TAIL_BYTES)));
    if (trailing === null || trailing.isSync) return event;
    if (!Number.isFinite(trailing.size)) {
      this.mode = 'failed';
      this.discardInput();
      return { ...(event ?? this.error(null, 'SYNTAX', 'Unreadable literal size')), fatal: true };
    }
    this.startSkipLiteral(trailing.size);
    return event;
  }

  private error(tag: string | null, code: ParserErrorCode, message: string): ParserErrorEvent {
    if (code === 'LINE_TOO_LONG') return { kind: 'error', tag, code, message, fatal: false, responseCode: { name: 'LIMIT' } };
    if (code === 'LITERAL_TOO_LARGE') return { kind: 'error', tag, code, message, fatal: false, responseCode: { name: 'TOOBIG' } };
    return { kind: 'error', tag, code, message, fatal: false };
  }

  // ---- failure -----------------------------------------------------------------------------

  private discardInput(): void {
    this.input.clear();
    this.lines.clear();
    this.command = null;
    this.literal = null;
  }
}
