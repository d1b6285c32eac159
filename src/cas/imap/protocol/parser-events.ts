/**
 * The events the command parser returns, and the mapping of its errors to protocol errors.
 */

import { ProtocolError } from './errors.js';
import type { ResponseCode } from './response-codes.js';
import type { Token } from './tokens.js';

/** A complete command. `name` is upper-case; for `UID FETCH` it is `UID` and `FETCH` is the first argument. */
export interface CommandEvent {
  readonly kind: 'command';
  readonly tag: string;
  readonly name: string;
  readonly args: Token[];
  /** Bytes the command occupied on the wire, lines, CRLFs and literals included. */
  readonly rawBytes: number;
}

/**
 * A synchronising literal `{n}` was announced and accepted: the connection must send a
 * continuation (`+ Ready`) before the client sends the bytes, or call `refuseLiteral()` and
 * answer the command with a tagged response instead.
 */
export interface ContinuationNeededEvent {
  readonly kind: 'continuation-needed';
  readonly tag: string;
  readonly name: string;
  readonly literalSize: number;
  /** True when the literal will be read and discarded (APPEND). */
  readonly isDiscarded: boolean;
}

export type ParserErrorCode = 'SYNTAX' | 'LINE_TOO_LONG' | 'LITERAL_TOO_LARGE' | 'INVALID_TAG';

/**
 * The command could not be read. `tag` is set only when a valid tag was read (an invalid tag is
 * never echoed). When `fatal` is true the input stream cannot be resynchronised and the
 * connection must be closed after answering.
 */
export interface ParserErrorEvent {
  readonly kind: 'error';
  readonly tag: string | null;
  readonly code: ParserErrorCode;
  readonly message: string;
  readonly fatal: boolean;
  /** `[LIMIT]` for an over-long line, `[TOOBIG]` for an over-size literal (RFC 7889 §4). */
  readonly responseCode?: ResponseCode;
}

/** A line read in raw-line mode, without its CRLF. */
export interface RawLineEvent {
  readonly kind: 'raw-line';
  readonly line: Buffer;
}

export interface NeedMoreEvent {
  readonly kind: 'need-more';
}

export type ParserEvent = CommandEvent | ContinuationNeededEvent | ParserErrorEvent | RawLineEvent | NeedMoreEvent;

/** The BAD to answer a parser error with (untagged when `event.tag` is null). */
export function parserErrorToProtocolError(event: ParserErrorEvent): ProtocolError {
  const code = event.code === 'LINE_TOO_LONG' || event.code === 'LITERAL_TOO_LARGE' ? event.code : 'SYNTAX';
  return new ProtocolError(code, 'BAD', event.message, event.responseCode);
}
