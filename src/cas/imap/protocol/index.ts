/**
 * The IMAP protocol layer: bytes in, typed commands out; typed responses in, bytes out.
 * Pure wire code: it imports nothing from storage or any other Coffer folder.
 */

export * from './limits.js';
export * from './errors.js';
export * from './response-codes.js';
export type { Token, AtomToken, AtomSection, NumberToken, StringToken, LiteralToken, NilToken, ListToken } from './tokens.js';
export { tokenizeLine, astringValue } from './tokens.js';
export * from './parser.js';
export * from './log-redaction.js';
export * from './quote.js';
export * from './mutf7.js';
export * from './sequence-set.js';
export * from './fetch-items.js';
export * from './search-keys.js';
export * from './list-args.js';
export * from './writer.js';
export * from './wire-builder.js';
