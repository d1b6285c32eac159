/**
 * Typed protocol errors of the IMAP protocol layer.
 *
 * Bad client input is an expected outcome, so the parsers in this folder *return* these errors
 * (see `ParseResult`) rather than throw them; the command layer may throw them from a schema to
 * reach its error boundary. Each carries a stable `code` for logs and tests, the tagged status it
 * maps to, and an optional response code.
 */

import { type ResponseCode, type ResponseCodeName, SUPPORTED_SEARCH_CHARSETS } from './response-codes.js';

/** Stable identifiers of protocol errors. */
export type ProtocolErrorCode =
  | 'SYNTAX' // malformed arguments: BAD
  | 'LIMIT_EXCEEDED' // a bound from limits.ts was crossed: BAD
  | 'LINE_TOO_LONG' // command line over the limit: BAD
  | 'LITERAL_TOO_LARGE' // literal over the limit: BAD
  | 'BAD_CHARSET' // SEARCH CHARSET not supported: NO [BADCHARSET]
  | 'UNSUPPORTED' // valid syntax Coffer does not implement: BAD
  | 'INVALID_MAILBOX_NAME' // bad modified UTF-7: BAD
  | 'SERVER_BUG' // an internal failure, answered NO [SERVERBUG] without detail
  | 'NO'; // a NO outcome with a response code, e.g. NOPERM, NONEXISTENT

/** Tagged status an error is answered with. */
export type ErrorStatus = 'BAD' | 'NO';

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly code: ProtocolErrorCode,
    readonly status: ErrorStatus,
    message: string,
    readonly responseCode?: ResponseCode,
  ) {
    super(message);
  }
}

/** The outcome of parsing client input: a value, or the error to answer with. */
export type ParseResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ProtocolError };

export function ok<T>(value: T): ParseResult<T> {
  return { ok: true, value };
}

export function fail<T = never>(error: ProtocolError): ParseResult<T> {
  return { ok: false, error };
}

/** A BAD for malformed arguments. */
export function badSyntax(message: string): ProtocolError {
  return new ProtocolError('SYNTAX', 'BAD', message);
}

/** A BAD for a crossed limit, with `[LIMIT]` (RFC 5530). */
export function limitExceeded(message: string): ProtocolError {
  return new ProtocolError('LIMIT_EXCEEDED', 'BAD', message, { name: 'LIMIT' });
}

/** `NO [BADCHARSET (UTF-8 US-ASCII)]` (RFC 3501 §6.4.4). */
export function badCharset(charset: string): ProtocolError {
  return new ProtocolError('BAD_CHARSET', 'NO', `Unsupported charset ${charset.replace(/[^\x21-\x7e]/g, '?').slice(0, 64)}`, {
    name: 'BADCHARSET',
    args: `(${SUPPORTED_SEARCH_CHARSETS.join(' ')})`,
  });
}

/** A NO with a response code, e.g. `noWithCode('NOPERM', 'The archive is read-only')`. */
export function noWithCode(name: ResponseCodeName, message: string, args?: string): ProtocolError {
  return new ProtocolError('NO', 'NO', message, args === undefined ? { name } : { name, args });
}

/**
 * The answer to an unexpected internal failure: `NO [SERVERBUG]` with a reference the operator can
 * find in the log, never the internal message (house rule 8).
 */
export function serverBug(reference: string): ProtocolError {
  return new ProtocolError(
    'SERVER_BUG',
    'NO',
    `Internal error occurred. Refer to server log for more information. [${printable(reference)}]`,
    { name: 'SERVERBUG' },
  );
}

/** Shortens client text and strips anything unsafe before it is echoed in a response text. */
export function printable(text: string): string {
  const cleaned = text.replace(/[^\x20-\x7e]/g, '?');
  return cleaned.length > 40 ? `${cleaned.slice(0, 40)}...` : cleaned;
}
