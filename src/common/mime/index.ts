/**
 * Archive-time message parser: MIME tree with byte offsets, IMAP ENVELOPE /
 * BODY / BODYSTRUCTURE pre-serialised as Dovecot does, decoded header fields,
 * text for the full-text index, attachment list. See DESIGN.md §2.
 */
export { normalizeLineEndings } from './line-endings.js';
export { parseMessage } from './parse-message.js';
export { decodePartBody, partText } from './decode.js';
export { resolveSection, filterHeaderFields, findPart } from './section.js';
export type { SectionKind, ByteRange } from './section.js';
export { decodeHeaderValue } from './rfc2047.js';
export { htmlToText } from './html-text.js';
export { parseMailDate } from './date.js';
export { imapString, imapNString, imapStringForHumans } from './imap-string.js';
export { MAX_NESTING_DEPTH, MAX_PARTS } from './limits.js';
export type { MimePart, ParsedMessage, AttachmentInfo, MessageFields, MessageAddresses, Addr } from './types.js';
