/**
 * Everything archive time computes for one message that does not depend on the archive's state:
 * the MIME parse, pre-serialised IMAP metadata (compressed), decoded header fields and the texts
 * for the full-text index. Pure, so it runs in worker threads (prepare-pool.ts) in parallel with
 * the main thread's database work.
 */
import { decodeHeaderValue, decodePartBody, findPart, parseMessage, type ParsedMessage } from '../common/mime/index.js';
import { pdfText } from './pdf-text.js';
import { compressJson } from './store/codec.js';
import { compactMime, type CompactPart } from './mime-compact.js';

/** Pre-serialised IMAP metadata and the address headers that only search and display need, compressed per message. */
export interface ImapMeta { e: string; s: string; b: string; m: CompactPart; to: string; cc: string; bcc: string }

export interface FtsText { subject: string; addresses: string; body: string; attachmentNames: string; attachmentText: string; headers: string }

export interface PreparedMessage {
  size: number;
  /** Date: header in ms, or null when there is none (callers fall back to INTERNALDATE). */
  sentDate: number | null;
  /** Minutes east of UTC of the Date: header (0 without one). */
  sentZone: number;
  subject: string;
  from: string;
  messageId: string | null;
  hasAttachments: boolean;
  /** Compressed `ImapMeta`. */
  imap: Buffer;
  fts: FtsText;
  problems: string[];
}

/** Header blocks beyond this are spam or attacks; their start is enough for search candidates. */
const MAX_INDEXED_HEADER_BYTES = 256 * 1024;

/** PDF attachments whose text goes into the index; more than this many in one message are skipped. */
const MAX_PDFS_PER_MESSAGE = 10;

/**
 * Like `prepareMessage`, and adds the text of PDF attachments to `attachmentText`. PDF text is
 * only for Web Access's "attachment contents" search: IMAP BODY keeps Dovecot's semantics.
 */
export async function prepareMessageFull(crlf: Buffer): Promise<PreparedMessage> {
  const { prepared, parsed } = prepare(crlf);
  const pdfs = parsed.attachments.filter((a) => a.contentType === 'application/pdf' || /\.pdf$/i.test(a.filename ?? '')).slice(0, MAX_PDFS_PER_MESSAGE);
  const texts: string[] = [];
  for (const a of pdfs) {
    const part = findPart(parsed.root, a.partId.split('.').map(Number));
    if (!part) continue;
    try { texts.push(await pdfText(decodePartBody(crlf, part))); }
    catch { /* an unreadable PDF is still stored; its text just stays out of the index */ }
  }
  if (texts.some(Boolean)) prepared.fts.attachmentText = [prepared.fts.attachmentText, ...texts].filter(Boolean).join('\n');
  return prepared;
}

/** `crlf` must already have CRLF line endings (normalizeLineEndings). */
export function prepareMessage(crlf: Buffer): PreparedMessage { return prepare(crlf).prepared; }

function prepare(crlf: Buffer): { prepared: PreparedMessage; parsed: ParsedMessage } {
  const parsed = parseMessage(crlf);
  const f = parsed.fields;
  const imap: ImapMeta = { e: parsed.envelope, s: parsed.bodyStructure, b: parsed.body, m: compactMime(parsed.root), to: f.to, cc: f.cc, bcc: f.bcc };
  const headerEnd = Math.min(parsed.root.bodyStart, parsed.root.headerStart + MAX_INDEXED_HEADER_BYTES);
  const prepared: PreparedMessage = {
    size: parsed.size, sentDate: f.date, sentZone: f.dateZoneMinutes ?? 0, subject: f.subject, from: f.from, messageId: f.messageId, hasAttachments: parsed.hasAttachments,
    imap: compressJson(imap),
    fts: {
      subject: f.subject,
      addresses: [f.from, f.to, f.cc, f.bcc].filter(Boolean).join('\n'),
      body: parsed.text,
      attachmentNames: parsed.attachments.map((a) => a.filename ?? '').filter(Boolean).join('\n'),
      attachmentText: parsed.attachmentText,
      // The whole header block, unfolded and decoded, for TEXT and HEADER search candidates.
      headers: decodeHeaderValue(crlf.subarray(parsed.root.headerStart, headerEnd)),
    },
    problems: parsed.problems,
  };
  return { prepared, parsed };
}
