/**
 * parseMessage(): everything the archive stores about a message, computed
 * once at archive time from its CRLF form. Never throws: an internal error
 * still yields a usable record (the whole message as one text/plain part)
 * with the error in `problems`.
 */
import { formatAddrs, toAddrs } from './address.js';
import { writeBodyStructure } from './bodystructure.js';
import { parseMailDateZone } from './date.js';
import { collectEnvelope, EnvelopeData, writeEnvelope } from './envelope.js';
import { extract } from './extract.js';
import { lastField, rawValue, binaryToText } from './header.js';
import type { PartMeta } from './part-meta.js';
import { decodeEncodedWords } from './rfc2047.js';
import { baseSubject } from './subject.js';
import { buildTree } from './tree.js';
import type { MessageFields, MimePart, ParsedMessage } from './types.js';

/** msg-id tokens "<...>" (RFC 5322 §3.6.4), tolerant of missing brackets. */
function msgIds(value: string): string[] {
  const out: string[] = [];
  let pos = 0;
  for (;;) {
    const lt = value.indexOf('<', pos);
    if (lt === -1) break;
    const gt = value.indexOf('>', lt + 1);
    if (gt === -1) break;
    const id = value.slice(lt, gt + 1).replace(/\s+/g, '');
    if (id.length > 2) out.push(id);
    pos = gt + 1;
  }
  if (out.length === 0) {
    for (const t of value.split(/[\s,]+/)) if (t) out.push(t);
  }
  return out;
}

function firstMsgId(value: string | null): string | null {
  if (value === null) return null;
  const ids = msgIds(value);
  return ids[0] ?? null;
}

/** Decoded fields for display and search; the same occurrence as ENVELOPE uses. */
function buildFields(buf: Buffer, env: EnvelopeData, rootMeta: PartMeta): MessageFields {
  const refs = lastField(rootMeta.fields, 'references');
  const sent = parseMailDateZone(env.date);
  return {
    subject: env.subject === null ? '' : decodeEncodedWords(env.subject).replace(/\s+/g, ' ').trim(),
    baseSubject: env.subject === null ? '' : baseSubject(env.subject),
    from: formatAddrs(toAddrs(env.from)),
    to: formatAddrs(toAddrs(env.to)),
    cc: formatAddrs(toAddrs(env.cc)),
    bcc: formatAddrs(toAddrs(env.bcc)),
    replyTo: formatAddrs(toAddrs(env.replyTo)),
    messageId: firstMsgId(env.messageId),
    inReplyTo: firstMsgId(env.inReplyTo),
    references: refs ? msgIds(binaryToText(rawValue(buf, refs))) : [],
    date: sent?.ms ?? null,
    dateZoneMinutes: sent?.zoneMinutes ?? null,
  };
}

/** NUL bytes anywhere, and raw 8-bit bytes in any header block (RFC 5322 §2.2 wants US-ASCII). */
function checkBytes(buf: Buffer, metas: Map<MimePart, PartMeta>, problems: string[]): void {
  const nul = buf.indexOf(0);
  if (nul !== -1 && !problems.some((x) => x.startsWith('NUL byte'))) problems.push(`NUL byte at offset ${nul}`);
  for (const part of metas.keys()) {
    for (let i = part.headerStart; i < part.headerEnd; i++) {
      if (buf[i]! >= 0x80) {
        problems.push(`8-bit characters in header of part ${part.partId || 'root'}`);
        break;
      }
    }
  }
}

function parseUnsafe(buf: Buffer): ParsedMessage {
  const tree = buildTree(buf);
  const root = tree.root;
  const problems = [...tree.problems];
  const rootMeta = tree.meta.get(root)!;
  const env = collectEnvelope(buf, rootMeta.fields);
  checkBytes(buf, tree.meta, problems);
  const ex = extract(buf, root);
  problems.push(...ex.problems);
  return {
    root,
    size: buf.length,
    envelope: writeEnvelope(env),
    bodyStructure: writeBodyStructure(buf, root, tree.meta, true),
    body: writeBodyStructure(buf, root, tree.meta, false),
    fields: buildFields(buf, env, rootMeta),
    addresses: {
      from: toAddrs(env.from),
      to: toAddrs(env.to),
      cc: toAddrs(env.cc),
      bcc: toAddrs(env.bcc),
      sender: toAddrs(env.sender),
      replyTo: toAddrs(env.replyTo),
    },
    text: ex.text,
    attachmentText: ex.attachmentText,
    attachments: ex.attachments,
    hasAttachments: ex.attachments.some((a) => !a.inline),
    problems,
  };
}

/** Fallback when the parser itself failed: one text/plain part, no header. */
function fallback(buf: Buffer, err: unknown): ParsedMessage {
  const root: MimePart = {
    partId: '', headerStart: 0, headerEnd: 0, bodyStart: 0, bodyEnd: buf.length,
    type: 'text', subtype: 'plain', params: {}, encoding: '7bit', id: null, description: null, md5: null,
    location: null, language: null, disposition: null, lines: 0, children: [],
  };
  for (let p = buf.indexOf(0x0a); p !== -1; p = buf.indexOf(0x0a, p + 1)) root.lines++;
  const none = '(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)';
  const body = `("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" ${buf.length} ${root.lines}`;
  return {
    root,
    size: buf.length,
    envelope: none,
    bodyStructure: `${body} NIL NIL NIL NIL)`,
    body: `${body})`,
    fields: { subject: '', baseSubject: '', from: '', to: '', cc: '', bcc: '', replyTo: '', messageId: null, inReplyTo: null, references: [], date: null, dateZoneMinutes: null },
    addresses: { from: [], to: [], cc: [], bcc: [], sender: [], replyTo: [] },
    text: '',
    attachmentText: '',
    attachments: [],
    hasAttachments: false,
    problems: [`parser error: ${err instanceof Error ? err.message : String(err)}`],
  };
}

export function parseMessage(crlfMessage: Buffer): ParsedMessage {
  try {
    return parseUnsafe(crlfMessage);
  } catch (err) {
    return fallback(crlfMessage, err);
  }
}
