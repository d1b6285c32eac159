/**
 * Turns one stored message into what the message view shows. HTML mail is hostile input: it is
 * sanitised here with an allow-list (sanitize-html), remote images are removed until the user
 * allows them for this message, `cid:` images become data: URIs (so the sandboxed frame needs no
 * cookies or requests), and the result is shown in a sandboxed iframe under its own strict CSP.
 */
import sanitizeHtml from 'sanitize-html';
import { findPart, decodePartBody, partText, parseMessage, type MimePart, type ParsedMessage, type AttachmentInfo } from '../../common/mime/index.js';
import { highlightEscaped } from './format.js';
import type { Highlighter } from './format.js';

/** Limits with their reasons. */
export const RENDER_LIMITS = {
  /** One inline image above this is left out rather than inlined into the page as data:. */
  maxInlineImageBytes: 3 * 1024 * 1024,
  /** All inline images of one message together. */
  maxInlineTotalBytes: 12 * 1024 * 1024,
  /** Text shown in the page; the .eml download has the rest. */
  maxBodyChars: 2_000_000,
} as const;

function isAttachmentPart(p: MimePart): boolean {
  return p.disposition?.type === 'attachment' || !!(p.disposition?.params['filename'] ?? p.params['name']);
}

/** First text/plain and text/html that are bodies (not attachments), in document order. */
export function selectBodies(root: MimePart): { plain: MimePart | null; html: MimePart | null } {
  let plain: MimePart | null = null;
  let htmlPart: MimePart | null = null;
  const walk = (p: MimePart): void => {
    if (p.type === 'multipart') { for (const c of p.children) walk(c); return; }
    if (p.type !== 'text' || isAttachmentPart(p)) return;
    if (p.subtype === 'plain' && !plain) plain = p;
    else if (p.subtype === 'html' && !htmlPart) htmlPart = p;
  };
  walk(root);
  return { plain, html: htmlPart };
}

export function partById(parsed: ParsedMessage, partId: string): MimePart | null {
  if (!/^\d{1,4}(\.\d{1,4}){0,20}$/.test(partId)) return null;
  return findPart(parsed.root, partId.split('.').map(Number));
}

function cidKey(s: string): string { return s.trim().replace(/^<|>$/g, '').toLowerCase(); }

const SAFE_STYLE_VALUE = [/^(?!.*(url\s*\(|expression\s*\(|javascript:|@import|\\))[^;{}<>]*$/i];
const STYLE_PROPS = ['color', 'background-color', 'font', 'font-family', 'font-size', 'font-weight', 'font-style', 'text-align', 'text-decoration', 'text-transform',
  'line-height', 'letter-spacing', 'white-space', 'vertical-align', 'margin', 'margin-top', 'margin-bottom', 'margin-left', 'margin-right', 'padding', 'padding-top',
  'padding-bottom', 'padding-left', 'padding-right', 'border', 'border-top', 'border-bottom', 'border-left', 'border-right', 'border-collapse', 'border-color',
  'border-width', 'border-style', 'border-radius', 'width', 'max-width', 'min-width', 'height', 'max-height', 'display', 'direction', 'list-style-type', 'table-layout'];

export interface SanitizedHtml { html: string; remoteBlocked: number }

/**
 * Allow-list sanitising. No scripts, event handlers, forms, frames, objects, `<style>`/`<link>`
 * (remote styles), `url()` in styles, `background=` attributes; links open outside the frame.
 */
export function sanitizeMailHtml(dirty: string, p: { allowRemote: boolean; cidUrl: (cid: string) => string | null; highlight: Highlighter | null }): SanitizedHtml {
  let remoteBlocked = 0;
  const out = sanitizeHtml(dirty, {
    allowedTags: [...sanitizeHtml.defaults.allowedTags, 'img', 'font', 'center', 'span', 'div', 'u', 's', 'strike', 'small', 'big', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'br'],
    allowedAttributes: {
      '*': ['style', 'align', 'valign', 'width', 'height', 'bgcolor', 'color', 'dir', 'lang', 'title'],
      a: ['href', 'name', 'target', 'rel'],
      img: ['src', 'alt', 'width', 'height', 'border', 'data-blocked'],
      font: ['face', 'size', 'color'],
      td: ['colspan', 'rowspan', 'nowrap'], th: ['colspan', 'rowspan', 'nowrap'],
      table: ['border', 'cellpadding', 'cellspacing'],
      ol: ['start', 'type'],
    },
    allowedSchemes: ['http', 'https', 'mailto'],
    allowedSchemesByTag: { img: ['http', 'https', 'data'] },
    allowedSchemesAppliedToAttributes: ['href', 'src'],
    allowProtocolRelative: false,
    allowedStyles: { '*': Object.fromEntries(STYLE_PROPS.map((k) => [k, SAFE_STYLE_VALUE])) },
    disallowedTagsMode: 'discard',
    transformTags: {
      a: (tagName, attribs) => ({ tagName, attribs: { ...attribs, target: '_blank', rel: 'noopener noreferrer' } }),
      img: (tagName, attribs) => {
        const src = (attribs.src ?? '').trim();
        const a: Record<string, string> = { ...attribs };
        if (/^cid:/i.test(src)) {
          const url = p.cidUrl(src.slice(4));
          if (url) a.src = url; else delete a.src;
        } else if (/^https?:/i.test(src) || src.startsWith('//')) {
          if (!p.allowRemote) { remoteBlocked++; delete a.src; a['data-blocked'] = '1'; }
        } else if (!/^data:image\/(png|gif|jpeg|webp|bmp);/i.test(src)) {
          delete a.src;
        }
        return { tagName, attribs: a };
      },
    },
    textFilter: (text) => highlightEscaped(text, p.highlight),
  });
  return { html: out, remoteBlocked };
}

export interface RenderedMessage {
  parsed: ParsedMessage;
  text: string | null;
  html: SanitizedHtml | null;
  attachments: AttachmentInfo[];
}

/** Parses and prepares one message (CRLF bytes as stored). Never throws on broken MIME. */
export function renderMessage(raw: Buffer, p: { allowRemote: boolean; highlight: Highlighter | null; withHtml: boolean }): RenderedMessage {
  const parsed = parseMessage(raw);
  const bodies = selectBodies(parsed.root);
  const text = bodies.plain ? partText(raw, bodies.plain).slice(0, RENDER_LIMITS.maxBodyChars) : null;
  let htmlOut: SanitizedHtml | null = null;
  const shownInline = new Set<string>();
  if (bodies.html && p.withHtml) {
    const cids = new Map<string, MimePart>();
    const collect = (part: MimePart): void => { if (part.id) cids.set(cidKey(part.id), part); for (const c of part.children) collect(c); };
    collect(parsed.root);
    let inlined = 0;
    const cidUrl = (cid: string): string | null => {
      const part = cids.get(cidKey(decodeURIComponent(cid)));
      if (!part || part.type !== 'image' || !/^(png|gif|jpeg|jpg|webp|bmp)$/.test(part.subtype)) return null;
      const bytes = decodePartBody(raw, part);
      if (bytes.length > RENDER_LIMITS.maxInlineImageBytes || inlined + bytes.length > RENDER_LIMITS.maxInlineTotalBytes) return null;
      inlined += bytes.length;
      shownInline.add(part.partId);
      return `data:image/${part.subtype === 'jpg' ? 'jpeg' : part.subtype};base64,${bytes.toString('base64')}`;
    };
    htmlOut = sanitizeMailHtml(partText(raw, bodies.html).slice(0, RENDER_LIMITS.maxBodyChars), { allowRemote: p.allowRemote, cidUrl, highlight: p.highlight });
  }
  // Images shown in the body are not listed again as attachments.
  return { parsed, text, html: htmlOut, attachments: parsed.attachments.filter((a) => !(a.inline && shownInline.has(a.partId))) };
}

/** RFC 6266 Content-Disposition with an ASCII fallback and the UTF-8 name (RFC 8187). */
export function contentDisposition(kind: 'attachment' | 'inline', filename: string): string {
  const clean = filename.replace(/[\u0000-\u001f\u007f"\\/]/g, '_').slice(0, 200) || 'download';
  const ascii = clean.replace(/[^\x20-\x7e]/g, '_');
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(clean).replace(/['()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())}`;
}
