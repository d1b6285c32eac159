/**
 * What the archive keeps besides the IMAP strings: text for the full-text
 * index and the attachment list. Runs once per message at archive time.
 */
import { decodeCharset } from './charset.js';
import { decodeBody } from './decode.js';
import { htmlToText } from './html-text.js';
import { MAX_INDEX_TEXT_CHARS } from './limits.js';
import { normalizeLineEndings } from './line-endings.js';
import { buildTree } from './tree.js';
import type { AttachmentInfo, MimePart } from './types.js';

const TEXT_FILE = /\.(txt|text|csv|tsv|log|md|htm|html|xml|json|ics|vcf)$/i;

export function filenameOf(part: MimePart): string | null {
  const f = part.disposition?.params['filename'] ?? part.params['name'] ?? null;
  if (f === null) return null;
  const t = f.trim();
  return t === '' ? null : t;
}

function isContainer(part: MimePart): boolean {
  return part.type === 'multipart' && part.children.length > 0;
}

/**
 * Section whose BODY[...] is this part's own body. A non-multipart message
 * root is addressed as part 1 (RFC 3501 §6.4.5): BODY[1] for the top-level
 * message, BODY[N.1] for the message inside message/rfc822 part N.
 */
export function bodySection(part: MimePart, role: 'top' | 'encapsulated' | 'part'): string {
  if (role === 'top') return '1';
  if (role === 'encapsulated') return `${part.partId}.1`;
  return part.partId;
}

/** What a mail client would offer as an attachment: anything with a file
 * name or an attachment disposition, and non-text leaves (images, PDFs...). */
function isAttachment(part: MimePart): boolean {
  if (part.disposition?.type === 'attachment') return true;
  if (filenameOf(part) !== null) return true;
  return part.type !== 'text';
}

export interface Extraction {
  text: string;
  /** Text of attachments only (also contained in `text`). */
  attachmentText: string;
  attachments: AttachmentInfo[];
  problems: string[];
}

/** Encoded message/rfc822 inside encoded message/rfc822...: each level is
 * parsed again from decoded bytes, so bound it (base64 shrinks only by 3/4). */
const MAX_REENCODED_DEPTH = 3;

/** Binary attachments above this are sized by counting instead of decoding. */
const LARGE_BINARY_BYTES = 64 * 1024;

export function extract(message: Buffer, root: MimePart, depth = 0): Extraction {
  const texts: string[] = [];
  const attachmentTexts: string[] = [];
  const attachments: AttachmentInfo[] = [];
  const problems: string[] = [];
  let textChars = 0;
  let capped = false;
  const addText = (t: string): void => {
    if (t.length === 0 || capped) return;
    if (textChars + t.length > MAX_INDEX_TEXT_CHARS) {
      t = t.slice(0, MAX_INDEX_TEXT_CHARS - textChars);
      capped = true;
      problems.push(`text for the index cut at ${MAX_INDEX_TEXT_CHARS} characters`);
    }
    textChars += t.length;
    texts.push(t);
  };
  const textOf = (part: MimePart, bytes: Buffer, asHtml: boolean): string => {
    const s = decodeCharset(bytes, part.params['charset'] ?? null);
    return asHtml ? htmlToText(s) : s.replace(/\r\n/g, '\n');
  };

  // Explicit stack instead of recursion: depth is capped anyway, but this keeps
  // the walk flat. Entries: part, how it is addressed, whether to skip its text.
  const stack: Array<{ part: MimePart; role: 'top' | 'encapsulated' | 'part'; alternativeSkip: boolean }> = [
    { part: root, role: 'top', alternativeSkip: false },
  ];
  while (stack.length > 0) {
    const { part, role, alternativeSkip } = stack.pop()!;
    if (isContainer(part)) {
      // multipart/alternative holds the same text twice (RFC 2046 §5.1.4):
      // index the plain version when there is one.
      const isAlt = part.subtype === 'alternative';
      const hasPlain = isAlt && part.children.some((c) => c.type === 'text' && c.subtype === 'plain');
      for (let i = part.children.length - 1; i >= 0; i--) {
        const c = part.children[i]!;
        stack.push({ part: c, role: 'part', alternativeSkip: hasPlain && c.type === 'text' && c.subtype === 'html' });
      }
      continue;
    }
    if (part.message) {
      const enc = part.encoding.toLowerCase();
      const encoded = enc === 'base64' || enc === 'quoted-printable';
      const decoded = encoded ? decodeBody(message, part).bytes : null;
      if (role === 'part') {
        attachments.push({
          partId: part.partId,
          filename: filenameOf(part),
          contentType: `${part.type}/${part.subtype}`,
          size: decoded ? decoded.length : part.bodyEnd - part.bodyStart,
          contentId: part.id,
          inline: part.disposition?.type === 'inline',
        });
      }
      if (decoded === null) {
        stack.push({ part: part.message, role: 'encapsulated', alternativeSkip: false });
      } else if (depth < MAX_REENCODED_DEPTH) {
        // An encoded message/rfc822 (against RFC 2046 §5.2.1) keeps IMAP's
        // view of the raw bytes; for the index, parse the decoded message.
        const innerMsg = normalizeLineEndings(decoded);
        const inner = extract(innerMsg, buildTree(innerMsg).root, depth + 1);
        addText(inner.text);
      }
      continue;
    }
    if (part.type === 'message' && part.subtype === 'global' && depth < MAX_REENCODED_DEPTH) {
      // message/global (RFC 6532) is a leaf for IMAP; index the message inside
      const decoded = decodeBody(message, part).bytes;
      attachments.push({
        partId: bodySection(part, role),
        filename: filenameOf(part),
        contentType: 'message/global',
        size: decoded.length,
        contentId: part.id,
        inline: part.disposition?.type === 'inline',
      });
      const innerMsg = normalizeLineEndings(decoded);
      addText(extract(innerMsg, buildTree(innerMsg).root, depth + 1).text);
      continue;
    }
    if (part.type === 'multipart') {
      // multipart without a usable boundary: index its body as plain text
      addText(textOf(part, decodeBody(message, part).bytes, false));
      continue;
    }
    const attachment = isAttachment(part);
    const filename = filenameOf(part);
    const textual = part.type === 'text' || (filename !== null && TEXT_FILE.test(filename));
    if (attachment && !textual && part.encoding.toLowerCase() === 'base64' && part.bodyEnd - part.bodyStart > LARGE_BINARY_BYTES) {
      // Large binary attachments are not indexed: their decoded size is all we need, and counting
      // is far cheaper than decoding (most of an archive's bytes are such attachments). Damage in
      // them goes unreported; the bytes are stored as received either way.
      attachments.push({
        partId: bodySection(part, role), filename, contentType: `${part.type}/${part.subtype}`,
        size: base64DecodedSize(message, part.bodyStart, part.bodyEnd), contentId: part.id,
        inline: part.disposition?.type !== 'attachment' && (part.disposition?.type === 'inline' || part.id !== null),
      });
      continue;
    }
    const needsBytes = attachment || textual;
    if (!needsBytes) continue;
    const decoded = decodeBody(message, part);
    if (decoded.damaged) problems.push(`damaged ${part.encoding} in part ${part.partId || '1'}`);
    if (attachment) {
      attachments.push({
        partId: bodySection(part, role),
        filename,
        contentType: `${part.type}/${part.subtype}`,
        size: decoded.bytes.length,
        contentId: part.id,
        inline: part.disposition?.type !== 'attachment' && (part.disposition?.type === 'inline' || part.id !== null),
      });
    }
    if (alternativeSkip) continue;
    const isHtml = part.subtype === 'html' || (filename !== null && /\.html?$/i.test(filename));
    if (textual && !(part.type === 'text' && part.subtype === 'rtf')) {
      const t = textOf(part, decoded.bytes, isHtml);
      addText(t);
      if (attachment && part.disposition?.type === 'attachment' && t) attachmentTexts.push(t);
    }
  }
  return { text: texts.join('\n'), attachmentText: attachmentTexts.join('\n').slice(0, MAX_INDEX_TEXT_CHARS), attachments, problems };
}

/** Decoded length of a base64 body: its alphabet characters times 3/4, less padding. */
export function base64DecodedSize(message: Buffer, start: number, end: number): number {
  let skipped = 0;
  for (const ch of [0x0a, 0x0d, 0x20, 0x09]) {
    for (let i = message.indexOf(ch, start); i !== -1 && i < end; i = message.indexOf(ch, i + 1)) skipped++;
  }
  let pad = 0;
  for (let i = end - 1; i >= start && pad < 3; i--) {
    const c = message[i]!;
    if (c === 0x3d) pad++;
    else if (c !== 0x0a && c !== 0x0d && c !== 0x20 && c !== 0x09) break;
  }
  const letters = end - start - skipped - pad;
  return Math.max(0, Math.floor((letters * 3) / 4));
}
