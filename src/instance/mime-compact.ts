/**
 * The MIME tree kept per message for BODY[section] resolution, in a compact form: offsets and
 * types only (everything else is already in the pre-serialised BODYSTRUCTURE).
 */
import type { MimePart } from '../common/mime/index.js';

export interface CompactPart { h: number; b: number; e: number; t: string; c?: CompactPart[]; m?: CompactPart }

export function compactMime(p: MimePart): CompactPart {
  const out: CompactPart = { h: p.headerStart, b: p.bodyStart, e: p.bodyEnd, t: `${p.type}/${p.subtype}` };
  if (p.children.length) out.c = p.children.map(compactMime);
  if (p.message) out.m = compactMime(p.message);
  return out;
}

/** Rebuilds enough of a MimePart for section resolution. */
export function expandMime(c: CompactPart, partId = ''): MimePart {
  const [type, subtype] = c.t.split('/') as [string, string];
  const part: MimePart = {
    partId, headerStart: c.h, headerEnd: c.b, bodyStart: c.b, bodyEnd: c.e, type, subtype: subtype ?? '',
    params: {}, encoding: '7bit', id: null, description: null, md5: null, location: null, language: null, disposition: null, lines: 0,
    children: (c.c ?? []).map((child, i) => expandMime(child, partId ? `${partId}.${i + 1}` : String(i + 1))),
  };
  if (c.m) part.message = expandMime(c.m, partId);
  return part;
}
