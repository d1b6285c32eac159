/**
 * What the Content-* header fields of one part say (RFC 2045, 2183, 3066,
 * 2557, 1864), kept twice: as sent, for BODYSTRUCTURE (Dovecot passes type,
 * subtype and parameters through unchanged), and normalised, for MimePart.
 */
import { firstField, HeaderField, rawValue, binaryToText, unfold } from './header.js';
import { ContentValue, parseContentType, parseDisposition } from './rfc2231.js';
import { Rfc822Lexer } from './rfc822-lexer.js';

export interface PartMeta {
  fields: HeaderField[];
  /** Dovecot MESSAGE_PART_FLAG_IS_MIME: Content-* fields count. */
  isMime: boolean;
  contentType: ContentValue | null;
  /** Content-Transfer-Encoding token as sent. */
  encoding: string | null;
  disposition: ContentValue | null;
  /** Raw values (folds kept) of Content-ID / -Description / -MD5 / -Location. */
  id: string | null;
  description: string | null;
  md5: string | null;
  location: string | null;
  language: string[] | null;
  /** Defaulted to message/rfc822 because the parent is multipart/digest. */
  digestDefault: boolean;
  /** Parsed as a multipart container (Dovecot MESSAGE_PART_FLAG_MULTIPART):
   * multipart/* with a boundary, within the nesting limit. */
  container: boolean;
}

function fieldValue(buf: Buffer, fields: HeaderField[], key: string): string | null {
  const f = firstField(fields, key);
  return f ? binaryToText(rawValue(buf, f)) : null;
}

/** Content-Language: 1#Language-tag (RFC 3282), read as atoms like Dovecot. */
function parseLanguage(value: string): string[] | null {
  const lx = new Rfc822Lexer(value);
  const out: string[] = [];
  lx.skipCfws();
  for (;;) {
    const atom = lx.atom();
    if (atom === null) break;
    out.push(atom);
    lx.skipCfws();
    if (lx.peek() !== ',') break;
    lx.pos++;
    lx.skipCfws();
  }
  return out.length > 0 ? out : null;
}

export function buildPartMeta(buf: Buffer, fields: HeaderField[], parentIsMultipart: boolean, parentIsDigest: boolean): PartMeta {
  // Dovecot (message-parser.c, non-strict): Content-Type or MIME-Version makes
  // a part MIME; parts inside a multipart always are. Otherwise Content-*
  // fields are ignored (RFC 2045 §4).
  let isMime = parentIsMultipart;
  if (!isMime) {
    for (const f of fields) {
      if (f.key === 'mime-version' || f.key === 'content-type') {
        isMime = true;
        break;
      }
    }
  }
  const meta: PartMeta = {
    fields,
    isMime,
    contentType: null,
    encoding: null,
    disposition: null,
    id: null,
    description: null,
    md5: null,
    location: null,
    language: null,
    digestDefault: false,
    container: false,
  };
  if (isMime) {
    const ct = fieldValue(buf, fields, 'content-type');
    if (ct !== null) {
      const parsed = parseContentType(ct);
      if (parsed.type !== null) meta.contentType = parsed;
    }
    const cte = fieldValue(buf, fields, 'content-transfer-encoding');
    if (cte !== null) {
      const lx = new Rfc822Lexer(cte);
      lx.skipCfws();
      const tok = lx.mimeToken();
      // Dovecot takes the token only when nothing but CFWS follows it.
      if (tok !== null && !lx.skipCfws()) meta.encoding = tok;
    }
    // Dovecot keeps reading Content-Disposition fields while the one it has
    // carries no parameters, so a later field with parameters wins.
    for (const f of fields) {
      if (f.key !== 'content-disposition' || (meta.disposition !== null && meta.disposition.raw.length > 0)) continue;
      const parsed = parseDisposition(binaryToText(rawValue(buf, f)));
      if (parsed.type !== null) meta.disposition = parsed;
    }
    meta.id = fieldValue(buf, fields, 'content-id');
    meta.description = fieldValue(buf, fields, 'content-description');
    meta.md5 = fieldValue(buf, fields, 'content-md5');
    meta.location = fieldValue(buf, fields, 'content-location');
    const lang = fieldValue(buf, fields, 'content-language');
    if (lang !== null) meta.language = parseLanguage(lang);
  }
  if (meta.contentType === null && parentIsDigest) meta.digestDefault = true; // RFC 2046 §5.1.5
  return meta;
}

export function lowerType(meta: PartMeta): { type: string; subtype: string } {
  if (meta.contentType) {
    return { type: meta.contentType.type!.toLowerCase(), subtype: meta.contentType.subtype.toLowerCase() };
  }
  return meta.digestDefault ? { type: 'message', subtype: 'rfc822' } : { type: 'text', subtype: 'plain' };
}

export function unfoldedOrNull(v: string | null): string | null {
  return v === null ? null : unfold(v).trim();
}
