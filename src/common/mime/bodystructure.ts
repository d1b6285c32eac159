/**
 * BODY and BODYSTRUCTURE (RFC 3501 §7.4.2), serialised like Dovecot's
 * imap-bodystructure.c: type, subtype and parameters as sent; text/* gets a
 * default ("charset" "us-ascii"); sizes are of the CRLF body; text and
 * message/rfc822 carry the body's line count; message/rfc822 carries the
 * encapsulated ENVELOPE and structure; a multipart with no parts is written
 * as an empty text/plain part.
 */
import { collectEnvelope, writeEnvelopeInner } from './envelope.js';
import { imapNStringNoLf, imapString } from './imap-string.js';
import type { PartMeta } from './part-meta.js';
import type { ParamList } from './rfc2231.js';
import type { MimePart } from './types.js';

const EMPTY_BODY = '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0)';
const EMPTY_BODYSTRUCTURE = '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL)';

function writeParams(params: ParamList, defaultCharset: boolean): string {
  if (!defaultCharset && params.length === 0) return 'NIL';
  const items: string[] = [];
  let seenCharset = false;
  for (const [k, v] of params) {
    if (k.toLowerCase() === 'charset') seenCharset = true;
    items.push(imapString(k), imapString(v));
  }
  if (defaultCharset && !seenCharset) items.push('"charset"', '"us-ascii"');
  return `(${items.join(' ')})`;
}

function writeExtension(meta: PartMeta): string {
  const d = meta.disposition;
  const disposition = d ? `(${imapString(d.type!)} ${writeParams(d.raw, false)})` : 'NIL';
  const language = meta.language ? `(${meta.language.map(imapString).join(' ')})` : 'NIL';
  return `${disposition} ${language} ${imapNStringNoLf(meta.location)}`;
}

class Writer {
  constructor(
    private readonly buf: Buffer,
    private readonly metas: Map<MimePart, PartMeta>,
    private readonly extended: boolean,
  ) {}

  /** One part's contents, without its surrounding parentheses. */
  part(part: MimePart): string {
    const meta = this.metas.get(part)!;
    return meta.container ? this.multipart(part, meta) : this.leaf(part, meta);
  }

  private multipart(part: MimePart, meta: PartMeta): string {
    let out = '';
    if (part.children.length === 0) out += this.extended ? EMPTY_BODYSTRUCTURE : EMPTY_BODY;
    for (const child of part.children) out += `(${this.part(child)})`;
    out += ' ' + (meta.contentType ? imapString(meta.contentType.subtype) : '"x-unknown"');
    if (!this.extended) return out;
    return `${out} ${writeParams(meta.contentType?.raw ?? [], false)} ${writeExtension(meta)}`;
  }

  private leaf(part: MimePart, meta: PartMeta): string {
    const ct = meta.contentType;
    let out: string;
    let text: boolean;
    if (part.message && part.subtype === 'rfc822') {
      out = '"message" "rfc822"';
      text = false;
    } else if (!ct) {
      out = '"text" "plain"';
      text = !part.message;
      if (part.message) out = '"message" "rfc822"';
    } else {
      out = `${imapString(ct.type!)} ${imapString(ct.subtype)}`;
      text = ct.type!.toLowerCase() === 'text';
    }
    out += ' ' + writeParams(ct?.raw ?? [], text);
    out += ` ${imapNStringNoLf(meta.id)} ${imapNStringNoLf(meta.description)}`;
    out += ' ' + (meta.encoding !== null ? imapString(meta.encoding) : '"7bit"');
    out += ' ' + (part.bodyEnd - part.bodyStart);
    if (text) {
      out += ' ' + part.lines;
    } else if (part.message) {
      const child = part.message;
      const env = collectEnvelope(this.buf, this.metas.get(child)!.fields);
      out += ` (${writeEnvelopeInner(env)}) (${this.part(child)}) ${part.lines}`;
    }
    if (!this.extended) return out;
    return `${out} ${imapNStringNoLf(meta.md5)} ${writeExtension(meta)}`;
  }
}

export function writeBodyStructure(buf: Buffer, root: MimePart, metas: Map<MimePart, PartMeta>, extended: boolean): string {
  return `(${new Writer(buf, metas, extended).part(root)})`;
}
