/**
 * Archive-time message parser (DESIGN.md §2): run once per message when it
 * is archived; the results are stored and reading never re-parses.
 *
 * - normalizeLineEndings() first: every offset, RFC822.SIZE and IMAP string
 *   refers to the CRLF form, which is what gets stored.
 * - parseMessage() gives the MIME tree with byte offsets, ENVELOPE / BODY /
 *   BODYSTRUCTURE pre-serialised as Dovecot writes them, decoded fields and
 *   addresses, text for the full-text index, the attachment list and the
 *   problems found. It never throws. The IMAP strings are JS strings whose
 *   literals ({n}) count UTF-8 bytes: write them out as UTF-8.
 * - FETCH BODY[section]: resolveSection() on the stored tree gives the byte
 *   range; for HEADER.FIELDS(.NOT) pass those bytes through
 *   filterHeaderFields(). null means the part does not exist (Dovecot sends
 *   an empty string then).
 * - FETCH BINARY[section] / downloads: findPart() + decodePartBody();
 *   partText() for display.
 */
export { normalizeLineEndings } from './line-endings.js';
export { parseMessage } from './parse-message.js';
export { decodePartBody, partText } from './decode.js';
export { resolveSection, filterHeaderFields, findPart } from './section.js';
export type { SectionKind, ByteRange } from './section.js';
export { decodeHeaderValue, readHeaderFields } from './rfc2047.js';
export { htmlToText } from './html-text.js';
export { parseMailDate } from './date.js';
export { baseSubject } from './subject.js';
export { imapString, imapNString, imapStringForHumans } from './imap-string.js';
export { MAX_NESTING_DEPTH, MAX_PARTS } from './limits.js';
export type { MimePart, ParsedMessage, AttachmentInfo, MessageFields, MessageAddresses, Addr } from './types.js';
