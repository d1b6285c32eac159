/**
 * BODY[section] resolution (RFC 3501 §6.4.5) on the stored tree, following
 * Dovecot's imap_msgpart_find / imap_msgpart_open:
 * - a part number walks into multipart children; a non-multipart part only
 *   has part 1 (itself), so BODY[1] of a single-part message is its body;
 * - after a message/rfc822 part, further numbers address the encapsulated
 *   message (BODY[2.1] is the first part of the message in part 2);
 * - N.HEADER / N.TEXT (and HEADER.FIELDS) need N to be message/rfc822;
 *   Dovecot answers an empty string otherwise, so we return an empty range;
 * - N.MIME is the part's own MIME header block.
 * A part that does not exist gives null. (Dovecot sends an empty string for
 * it; the FETCH code decides what to send.)
 */
import type { MimePart } from './types.js';

export type SectionKind = '' | 'HEADER' | 'TEXT' | 'MIME' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT';

export interface ByteRange {
  start: number;
  end: number;
}

function isContainer(part: MimePart): boolean {
  return part.type === 'multipart' && part.children.length > 0;
}

/** Walks the part numbers; null when the part does not exist. */
export function findPart(root: MimePart, path: number[]): MimePart | null {
  let part: MimePart | null = root;
  for (let i = 0; i < path.length && part !== null; i++) {
    const num = path[i]!;
    const more = i < path.length - 1;
    if (!Number.isInteger(num) || num < 1) return null;
    if (isContainer(part)) {
      part = part.children[num - 1] ?? null;
    } else if (num !== 1 || (more && !part.message)) {
      part = null;
    }
    if (part !== null && part.message && more) part = part.message;
  }
  return part;
}

export function resolveSection(root: MimePart, section: { part: number[]; kind: SectionKind }): ByteRange | null {
  const { part: path, kind } = section;
  if (path.length === 0) {
    switch (kind) {
      case '':
        return { start: 0, end: root.bodyEnd };
      case 'HEADER':
      case 'HEADER.FIELDS':
      case 'HEADER.FIELDS.NOT':
        return { start: root.headerStart, end: root.headerEnd };
      case 'TEXT':
        return { start: root.bodyStart, end: root.bodyEnd };
      default:
        return null; // MIME needs a part number (RFC 3501 §6.4.5)
    }
  }
  const part = findPart(root, path);
  if (part === null) return null;
  switch (kind) {
    case '':
      return { start: part.bodyStart, end: part.bodyEnd };
    case 'MIME':
      return { start: part.headerStart, end: part.headerEnd };
    case 'HEADER':
    case 'HEADER.FIELDS':
    case 'HEADER.FIELDS.NOT': {
      const m = part.message;
      return m ? { start: m.headerStart, end: m.headerEnd } : { start: part.bodyStart, end: part.bodyStart };
    }
    case 'TEXT': {
      const m = part.message;
      return m ? { start: m.bodyStart, end: m.bodyEnd } : { start: part.bodyStart, end: part.bodyStart };
    }
    default:
      return null;
  }
}

/**
 * HEADER.FIELDS / HEADER.FIELDS.NOT: keep (or drop) whole fields, with their
 * continuation lines, by case-insensitive name; the result always ends with
 * the empty line, as Dovecot sends it.
 */
export function filterHeaderFields(headerBlock: Buffer, names: string[], not: boolean): Buffer {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const out: Buffer[] = [];
  let pos = 0;
  let keep = false;
  const len = headerBlock.length;
  while (pos < len) {
    let lf = headerBlock.indexOf(0x0a, pos);
    if (lf === -1) lf = len - 1;
    const lineEnd = lf + 1;
    const first = headerBlock[pos];
    const isBlank = (first === 0x0d && headerBlock[pos + 1] === 0x0a) || first === 0x0a;
    if (isBlank) break;
    if (first !== 0x20 && first !== 0x09) {
      const line = headerBlock.subarray(pos, lineEnd);
      let colon = line.indexOf(0x3a);
      if (colon === -1) colon = line.length;
      const name = line.toString('latin1', 0, colon).trim().toLowerCase();
      keep = wanted.has(name) !== not;
    }
    if (keep) {
      const line = headerBlock.subarray(pos, lineEnd);
      out.push(line);
      // a last line without CRLF must not glue onto the terminating empty line
      if (line[line.length - 1] !== 0x0a) out.push(Buffer.from('\r\n'));
    }
    pos = lineEnd;
  }
  out.push(Buffer.from('\r\n'));
  return Buffer.concat(out);
}
