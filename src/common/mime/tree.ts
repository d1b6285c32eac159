/**
 * MIME tree with byte offsets, built in one pass over the CRLF message
 * (RFC 2045/2046), following Dovecot's message-parser where RFCs leave room:
 * - a boundary line is "--" + boundary at the start of a line, matched as a
 *   prefix (text after it on the line is ignored), the longest matching open
 *   boundary wins; the CRLF before it belongs to the boundary (RFC 2046
 *   §5.1.1), so it is not part of the preceding body;
 * - a boundary of an enclosing multipart closes every part inside it, even
 *   when inner multiparts never saw their closing delimiter;
 * - a boundary line inside a header block ends the header there;
 * - message/rfc822 bodies are parsed as messages even when (wrongly, RFC
 *   2046 §5.2.1) base64/QP encoded, as Dovecot does, so BODYSTRUCTURE and
 *   section numbers agree with it; message/global (RFC 6532) stays a leaf
 *   as in Dovecot: IMAP4rev1 clients only expect an ENVELOPE after
 *   MESSAGE/RFC822 (its text is still indexed, see extract.ts);
 * - a MIME multipart/* without a boundary stays a multipart with no parts.
 * Scanning uses Buffer.indexOf (boundary candidates: "--" at a line start),
 * so the pass is linear; lines are counted only for parts that show them;
 * nesting and part count are capped (limits.ts). */
import { HeaderField, parseHeaderBlock } from './header.js';
import { MAX_NESTING_DEPTH, MAX_PARTS } from './limits.js';
import { buildPartMeta, lowerType, PartMeta, unfoldedOrNull } from './part-meta.js';
import { decodeEncodedWords } from './rfc2047.js';
import type { MimePart } from './types.js';

export interface MimeTree {
  root: MimePart;
  meta: Map<MimePart, PartMeta>;
  problems: string[];
}

const CR = 0x0d;
const LF = 0x0a;
const DASH = 0x2d;

/**
 * A line number kept as where to count it: the LF count before `at`, less `minus`. Counted only
 * for the parts whose line count BODYSTRUCTURE may show (text/*, message/*), so the bytes of
 * other parts (attachments, most of an archive) are never scanned line by line.
 */
interface LineRef { at: number; minus: number }

interface Frame {
  part: MimePart;
  depth: number;
  /** Line number of bodyStart, for the line count at close. */
  bodyStartLine: LineRef;
  /** Set for multiparts whose boundary is still active. */
  boundary: Buffer | null;
  isDigest: boolean;
  childCount: number;
}

function countLf(buf: Buffer, start: number, end: number): number {
  const range = buf.subarray(start, end); // never scan past `end`
  let n = 0;
  for (let p = range.indexOf(LF); p !== -1; p = range.indexOf(LF, p + 1)) n++;
  return n;
}

/** Start of a line that may be a boundary: "--" after a line break. */
const LF_DASH_DASH = Buffer.from('\n--');

/** Whether BODYSTRUCTURE shows this part's line count (RFC 3501 body-type-text, body-type-msg). */
const showsLines = (part: MimePart) => part.type === 'text' || part.type === 'message';

class TreeBuilder {
  readonly meta = new Map<MimePart, PartMeta>();
  readonly problems: string[] = [];
  private readonly stack: Frame[] = [];
  private partCount = 0;
  private pos = 0;
  private limitReported = false;

  constructor(private readonly buf: Buffer) {}

  build(): MimePart {
    const root = this.openPart('', 0, 0, false, false);
    const buf = this.buf;
    // `pos` is always the start of a line; only lines starting with "--" can be boundaries, and
    // the search jumps to the next one (one native search, not one call per line).
    while (this.pos < buf.length) {
      let lineStart = this.pos;
      if (!(buf[lineStart] === DASH && buf[lineStart + 1] === DASH)) {
        const at = buf.indexOf(LF_DASH_DASH, lineStart);
        if (at === -1) { this.pos = buf.length; break; }
        lineStart = at + 1;
      }
      let lf = buf.indexOf(LF, lineStart);
      if (lf === -1) lf = buf.length - 1;
      this.pos = lineStart;
      this.boundaryLine(lineStart, lf + 1);
      if (this.pos === lineStart) this.pos = lf + 1; // ordinary body line
    }
    let end: { pos: number; line: LineRef } = { pos: buf.length, line: { at: buf.length, minus: 0 } };
    while (this.stack.length > 0) end = this.closeTop(end.pos, end.line);
    return root;
  }

  /**
   * Which open multipart a "--..." line closes or continues; index into the
   * stack, or -1. Like Dovecot (message-parser.c boundary_find): the boundary
   * only has to be a prefix of the line, the longest matching boundary wins,
   * and an exact match (ignoring CRLF and a trailing "--") ends the search;
   * among equals the innermost wins.
   */
  private matchBoundary(lineStart: number): number {
    const buf = this.buf;
    const s = lineStart + 2;
    let lf = buf.indexOf(LF, s);
    if (lf === -1) lf = buf.length;
    let len = lf - s;
    if (len > 0 && buf[s + len - 1] === CR) len--;
    // Without a trailing "--" (close delimiter) the line may be an exact
    // match. Unlike Dovecot 2.3's boundary_line_find we still accept a
    // boundary that itself ends in "--" (RFC 2046 §5.1.1's own example,
    // boundary="---- main boundary ----").
    const closeLen = len > 2 && buf[s + len - 1] === DASH && buf[s + len - 2] === DASH ? len - 2 : len;
    let best = -1;
    let bestLen = -1;
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const b = this.stack[i]!.boundary;
      if (b === null || b.length > len || b.length <= bestLen) continue;
      if (buf.compare(b, 0, b.length, s, s + b.length) !== 0) continue;
      best = i;
      bestLen = b.length;
      if (bestLen === len || bestLen === closeLen) break;
    }
    return best;
  }

  private boundaryLine(lineStart: number, lineEnd: number): void {
    const k = this.matchBoundary(lineStart);
    if (k === -1) return;
    const buf = this.buf;
    // The CRLF before the boundary line belongs to the delimiter.
    const endPos = lineStart >= 2 && buf[lineStart - 2] === CR ? lineStart - 2 : Math.max(0, lineStart - 1);
    const endLine: LineRef = lineStart > 0 ? { at: lineStart, minus: 1 } : { at: 0, minus: 0 };
    let end = { pos: endPos, line: endLine };
    while (this.stack.length - 1 > k) end = this.closeTop(end.pos, end.line);
    const frame = this.stack[k]!;
    const b = frame.boundary!;
    const afterB = lineStart + 2 + b.length;
    this.pos = lineEnd;
    if (buf[afterB] === DASH && buf[afterB + 1] === DASH) {
      // close-delimiter: the rest is epilogue (RFC 2046 §5.1.1)
      frame.boundary = null;
      return;
    }
    if (this.partCount >= MAX_PARTS) {
      if (!this.limitReported) {
        this.problems.push(`more than ${MAX_PARTS} MIME parts; the rest is kept unparsed`);
        this.limitReported = true;
      }
      for (const f of this.stack) f.boundary = null;
      return;
    }
    frame.childCount++;
    const id = (frame.part.partId ? frame.part.partId + '.' : '') + frame.childCount;
    const child = this.openPart(id, lineEnd, frame.depth + 1, true, frame.isDigest);
    frame.part.children.push(child);
  }

  /** Parse a part's header at `start`, push its frame, and descend into encapsulated messages. */
  private openPart(partId: string, start: number, depth: number, parentIsMultipart: boolean, parentIsDigest: boolean): MimePart {
    const buf = this.buf;
    this.partCount++;
    const stopper = this.stack.some((f) => f.boundary !== null) ? (ls: number) => this.matchBoundary(ls) !== -1 : undefined;
    const hdr = parseHeaderBlock(buf, start, buf.length, this.problems, stopper);
    this.pos = hdr.next;
    const meta = buildPartMeta(buf, hdr.fields, parentIsMultipart, parentIsDigest);
    const part = this.makePart(partId, start, hdr.end, meta);
    this.meta.set(part, meta);
    const frame: Frame = {
      part,
      depth,
      bodyStartLine: { at: hdr.next, minus: hdr.next === hdr.end ? 0 : 1 },
      boundary: null,
      isDigest: false,
      childCount: 0,
    };
    this.stack.push(frame);
    if (hdr.next !== hdr.end) return part; // cut by a boundary: empty body
    if (part.type === 'multipart' && meta.isMime) {
      // Dovecot flags every MIME multipart/* as multipart; without a usable
      // boundary it has no children and BODYSTRUCTURE shows an empty part.
      meta.container = true;
      // the boundary as Dovecot reads it (strict parameter syntax)
      const boundary = meta.contentType?.raw.find(([k]) => k.toLowerCase() === 'boundary')?.[1] ?? meta.contentType?.decoded['boundary'];
      if (!boundary) {
        this.problems.push(`multipart without boundary at offset ${start}`);
      } else if (depth >= MAX_NESTING_DEPTH) {
        this.depthProblem(start);
      } else {
        frame.boundary = Buffer.from(boundary, 'utf8');
        frame.isDigest = part.subtype === 'digest';
      }
    } else if (part.type === 'message' && part.subtype === 'rfc822') {
      if (depth >= MAX_NESTING_DEPTH) {
        this.depthProblem(start);
      } else if (this.partCount >= MAX_PARTS) {
        // leave as a leaf
      } else {
        // RFC 3501 §6.4.5 numbering: the encapsulated message is addressed
        // through this part's number; a part that is itself a message root
        // (not multipart) is number 1 of that message ("1", or "N.1").
        const isRoot = !parentIsMultipart;
        const messageId = !isRoot ? partId : partId === '' ? '1' : `${partId}.1`;
        part.message = this.openPart(messageId, hdr.end, depth + 1, false, false);
      }
    }
    return part;
  }

  /** Line number of `to` less that of `from`. */
  private linesBetween(from: LineRef, to: LineRef): number {
    const lfs = to.at >= from.at ? countLf(this.buf, from.at, to.at) : -countLf(this.buf, to.at, from.at);
    return lfs - to.minus + from.minus;
  }

  private depthProblem(offset: number): void {
    this.problems.push(`MIME nesting deeper than ${MAX_NESTING_DEPTH} at offset ${offset}; kept as a leaf`);
  }

  /**
   * Ends the innermost open part at endPos. A part cannot end before its
   * body starts: when a boundary follows an empty header directly, the CRLF
   * before it already ended the header, so the part (and its enclosing parts,
   * which are closed next with the returned position) end at its body start.
   */
  private closeTop(endPos: number, endLine: LineRef): { pos: number; line: LineRef } {
    const frame = this.stack.pop()!;
    const part = frame.part;
    if (endPos <= part.bodyStart) {
      part.bodyEnd = part.bodyStart;
      part.lines = 0;
      endPos = part.bodyStart;
      endLine = frame.bodyStartLine;
    } else {
      part.bodyEnd = endPos;
      part.lines = showsLines(part) ? Math.max(0, this.linesBetween(frame.bodyStartLine, endLine)) : 0;
    }
    if (frame.boundary !== null && part.children.length > 0) {
      this.problems.push(`multipart ${part.partId || 'root'} has no closing boundary`);
    } else if (part.type === 'multipart' && frame.boundary !== null) {
      this.problems.push(`boundary of multipart ${part.partId || 'root'} never found`);
    }
    return { pos: endPos, line: endLine };
  }

  private makePart(partId: string, headerStart: number, headerEnd: number, meta: PartMeta): MimePart {
    const { type, subtype } = lowerType(meta);
    const disp = meta.disposition;
    return {
      partId,
      headerStart,
      headerEnd,
      bodyStart: headerEnd,
      bodyEnd: headerEnd,
      type,
      subtype,
      params: meta.contentType ? { ...meta.contentType.decoded } : {},
      encoding: meta.encoding ?? '7bit',
      id: unfoldedOrNull(meta.id),
      description: meta.description === null ? null : decodeEncodedWords(meta.description).trim(),
      md5: unfoldedOrNull(meta.md5),
      location: unfoldedOrNull(meta.location),
      language: meta.language,
      disposition: disp ? { type: disp.type!.toLowerCase(), params: { ...disp.decoded } } : null,
      lines: 0,
      children: [],
    };
  }
}

export function buildTree(buf: Buffer): MimeTree {
  const b = new TreeBuilder(buf);
  const root = b.build();
  return { root, meta: b.meta, problems: b.problems };
}

export type { HeaderField };
