/**
 * Everything archive time computes for one message that does not depend on the archive's state:
 * the MIME parse, pre-serialised IMAP metadata (compressed), decoded header fields and the texts
 * for the full-text index. Pure, so it runs in worker threads (prepare-pool.ts) in parallel with
 * the main thread's database work.
 */
import { decodeHeaderValue, decodePartBody, findPart, parseMessage, type MimePart, type ParsedMessage } from '../common/mime/index.js';
import { base64LineLength, decodeBase64Lines } from '../common/mime/decode.js';
import { pdfText } from './pdf-text.js';
import { compressJson } from './store/codec.js';
import type { Base64Run } from './store/content-pack.js';
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
  /** Attachments the content store keeps decoded (content-pack.ts), in message order. */
  runs: Base64Run[];
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
  // Most PDFs are stored decoded already (base64 runs): their bytes are not decoded a second time.
  const decodedAt = new Map(prepared.runs.map((r) => [r.start, r.decoded]));
  for (const a of pdfs) {
    const part = findPart(parsed.root, a.partId.split('.').map(Number));
    if (!part) continue;
    try { texts.push(await pdfText(decodedAt.get(part.bodyStart) ?? decodePartBody(crlf, part))); }
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
    runs: base64Runs(crlf, parsed.root),
  };
  return { prepared, parsed };
}

/** Smaller base64 bodies stay text: a run costs ~30 bytes of block header and a call to encode it again. */
const MIN_RUN_BYTES = 8 * 1024;
/**
 * Decoded bytes at or above this many bits of entropy per byte (order 0) are already compressed
 * (JPEG, PNG, ZIP, most PDFs): the store keeps them as they are, brotli would only spend time on
 * them. Below it (text, uncompressed images, office formats with tables of zeros) they are
 * compressed with the rest of the block.
 */
const MIN_STORED_ENTROPY_BITS = 7.8;

/** The base64 runs ingest stores decoded, for content written again (CompactStore, MergeStore). */
export function storedRuns(crlf: Buffer): Base64Run[] { return base64Runs(crlf, parseMessage(crlf).root); }

/** Base64 bodies of leaf parts that encode back to exactly the same bytes (lines of one length, CRLF, standard alphabet, padding). */
export function base64Runs(crlf: Buffer, root: MimePart): Base64Run[] {
  const runs: Base64Run[] = [];
  const visit = (part: MimePart): void => {
    for (const c of part.children) visit(c);
    if (part.message) visit(part.message);
    if (part.children.length || part.message || part.type === 'multipart' || part.encoding.toLowerCase() !== 'base64') return;
    const start = part.bodyStart;
    let end = part.bodyEnd;
    while (end > start && (crlf[end - 1] === 0x0a || crlf[end - 1] === 0x0d)) end--;
    if (end - start < MIN_RUN_BYTES) return;
    const lineLength = base64LineLength(crlf, start, end);
    const decoded = canonicalBase64(crlf, start, end, lineLength);
    if (decoded) runs.push({ start, end, lineLength, decoded, compressible: part.type === 'text' || entropyBits(decoded) < MIN_STORED_ENTROPY_BITS });
  };
  visit(root);
  return runs.sort((a, b) => a.start - b.start);
}

/** Value of a base64 character of the standard alphabet, -1 for anything else. */
function base64Value(c: number): number {
  if (c >= 0x41 && c <= 0x5a) return c - 0x41;
  if (c >= 0x61 && c <= 0x7a) return c - 0x47;
  if (c >= 0x30 && c <= 0x39) return c + 4;
  return c === 0x2b ? 62 : c === 0x2f ? 63 : -1;
}

/**
 * The decoded bytes of `buf[start, end)` when `base64Lines(decoded, lineLength)` gives those exact
 * bytes back, else null. Checked without encoding again (that cost more than decoding): Node's
 * decoder skips characters outside both base64 alphabets and stops at "=", so the decoded length
 * is the expected one only if every character between the CRLFs (found where the line length puts
 * them) is a base64 character, and "=" is only final padding; then the standard alphabet (no
 * base64url "-" or "_") and zero bits in a padded last group make the encoding the canonical one.
 */
export function canonicalBase64(buf: Buffer, start: number, end: number, lineLength: number): Buffer | null {
  if (lineLength < 4 || lineLength % 4 !== 0 || end <= start || base64LineLength(buf, start, end) !== lineLength) return null;
  const total = end - start;
  const lines = Math.ceil((total + 2) / (lineLength + 2));
  const chars = total - (lines - 1) * 2;
  if (chars % 4 !== 0) return null;
  const pad = buf[end - 1] !== 0x3d ? 0 : buf[end - 2] !== 0x3d ? 1 : 2;
  const range = buf.subarray(start, end);
  if (range.indexOf(0x2d) !== -1 || range.indexOf(0x5f) !== -1) return null;
  const decoded = decodeBase64Lines(buf, start, end, lineLength);
  if (decoded.length !== (chars / 4) * 3 - pad) return null;
  // The bits a padded last group does not use must be zero ("QR==" decodes like "QQ==").
  if (pad > 0) {
    const last = base64Value(buf[end - 1 - pad]!);
    if (last < 0 || (last & (pad === 1 ? 0x03 : 0x0f)) !== 0) return null;
  }
  return decoded;
}

/**
 * Order-0 entropy in bits per byte, from up to 8 windows of 512 bytes spread over the data. For
 * random bytes a 4 KiB sample estimates about 7.95 bits (an estimate from a sample is low by
 * about 255 / (2 n ln 2)), well clear of MIN_STORED_ENTROPY_BITS; text and tables stay near 5.
 */
function entropyBits(data: Buffer): number {
  const counts = new Uint32Array(256);
  const window = 512;
  const windows = Math.min(8, Math.ceil(data.length / window));
  const stride = windows > 1 ? Math.floor((data.length - window) / (windows - 1)) : 0;
  let n = 0;
  for (let w = 0; w < windows; w++) {
    const from = w * stride;
    const to = Math.min(data.length, from + window);
    for (let i = from; i < to; i++) counts[data[i]!]!++;
    n += to - from;
  }
  let bits = 0;
  for (const c of counts) if (c) { const p = c / n; bits -= p * Math.log2(p); }
  return bits;
}
