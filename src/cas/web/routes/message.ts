/**
 * One message: view, sandboxed HTML body, attachments, .eml download (the stored bytes, streamed),
 * raw headers and print view. Every read is an instance call with the user's session, so a forged
 * folder id or UID is answered "not found" by the instance.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { InstanceClient } from '../../../instance/client.js';
import type { ArchiveHit } from '../../../instance/api.js';
import { base, pageContext, requireLogin, sendPage } from '../context.js';
import { mailShell } from '../views/mail.js';
import { messageView, printView } from '../views/message.js';
import { contentDisposition, partById, renderMessage } from '../message-render.js';
import { highlightTerms } from '../format.js';
import { safeReturn } from '../cursor.js';
import { WebError } from '../errors.js';
import { decodePartBody, htmlToText, partText } from '../../../common/mime/index.js';
import { selectBodies } from '../message-render.js';
import { trusted } from '../html.js';

const idParams = {
  type: 'object', additionalProperties: false, required: ['folderId', 'uid'],
  properties: { inst: { type: 'string' }, folderId: { type: 'integer', minimum: 1, maximum: 2 ** 31 }, uid: { type: 'integer', minimum: 1, maximum: 2 ** 32 }, partId: { type: 'string', maxLength: 100 } },
} as const;
const viewQuery = {
  type: 'object', additionalProperties: false,
  properties: { ret: { type: 'string', maxLength: 2000 }, remote: { type: 'string', enum: ['1'] }, raw: { type: 'string', enum: ['1'] }, hl: { type: 'string', maxLength: 500 }, lang: { type: 'string', maxLength: 5 } },
} as const;

type Ids = { folderId: number; uid: number };
type ViewQuery = { ret?: string; remote?: '1'; raw?: '1'; hl?: string; lang?: string };

/** The sandboxed body document may load nothing but inline data: images (and remote ones once allowed). */
function bodyCsp(allowRemote: boolean): string {
  return [
    "default-src 'none'", `img-src data:${allowRemote ? ' https: http:' : ''}`, "style-src 'unsafe-inline'", 'font-src data:',
    "frame-ancestors 'self'", "base-uri 'none'", "form-action 'none'", 'sandbox allow-popups allow-popups-to-escape-sandbox',
  ].join('; ');
}

/** Downloads: never rendered by the browser as a page of ours (RFC 6266 attachment + nosniff + sandbox). */
const DOWNLOAD_CSP = "default-src 'none'; sandbox";

/** Raw header block for display: UTF-8 when it is valid UTF-8 (RFC 6532 headers), else Latin-1 byte for byte. */
function headerText(b: Buffer): string {
  try { return new TextDecoder('utf-8', { fatal: true }).decode(b); } catch { return b.toString('latin1'); }
}

function safeFileName(subject: string): string {
  return (subject.replace(/[\u0000-\u001f\u007f<>:"/\\|?*]+/g, ' ').trim().slice(0, 80) || 'message');
}

/** Reply and forward prefixes in the languages our users write in (SPE groups conversations the same way). */
const REPLY_PREFIX = /^\s*((re|aw|antw|sv|vs|wg|fw|fwd|tr|rif|r)\s*(\[\d+\]|\(\d+\))?\s*:\s*)+/i;
/** Conversation candidates asked for; a subject shared by more messages than this shows the newest of them. */
const CONVERSATION_SEARCH_LIMIT = 100;
const CONVERSATION_SHOWN = 30;

export function conversationSubject(subject: string): string {
  return subject.replace(REPLY_PREFIX, '').replace(/\s+/g, ' ').trim().toLowerCase();
}

/**
 * The conversation of a message: readable messages with the same subject once reply/forward
 * prefixes are removed, found through the subject index and then compared exactly.
 */
async function findConversation(client: InstanceClient, session: string, subject: string, self: { folderId: number; uid: number }, href: (h: ArchiveHit) => string) {
  const norm = conversationSubject(subject);
  const words = norm.replace(/[*?"]/g, ' ').trim();
  if (!/[\p{L}\p{N}]/u.test(words)) return [];
  const r = await client.searchArchive({ session, query: { subject: `"${words}"`, limit: CONVERSATION_SEARCH_LIMIT } }).catch(() => null);
  if (!r) return [];
  return r.hits.filter((h) => !(h.folderId === self.folderId && h.uid === self.uid) && conversationSubject(h.subject) === norm)
    .slice(0, CONVERSATION_SHOWN).sort((a, b) => a.date - b.date)
    .map((h) => ({ href: href(h), from: h.from, subject: h.subject, date: h.date, folderPath: h.folderPath }));
}

export async function messageRoutes(app: FastifyInstance): Promise<void> {
  const { branding } = app.web.options;

  async function load(request: FastifyRequest<{ Params: Ids }>) {
    const login = requireLogin(request);
    const { folderId, uid } = request.params;
    const client = request.instance!.client;
    // Asked first through a non-streaming call: a refused stream request currently surfaces as an
    // unhandled stream error in the RPC peer (reported), and "not found" belongs here anyway.
    const [meta] = await client.fetchMeta({ session: login.token, folderId, uids: [uid], fields: ['summary'] });
    if (!meta) throw new WebError('NOT_FOUND');
    const raw = await client.readMessageBuffer({ session: login.token, folderId, uid });
    return { login, raw, meta };
  }
  const prefixOf = (request: FastifyRequest<{ Params: Ids }>) => `${base(request)}/message/${request.params.folderId}/${request.params.uid}`;

  app.get<{ Params: Ids; Querystring: ViewQuery }>('/message/:folderId/:uid', { schema: { params: idParams, querystring: viewQuery } }, async (request, reply) => {
    const { login, raw } = await load(request);
    const client = request.instance!.client;
    const folders = await client.listFolders({ session: login.token });
    const folder = folders.find((f) => f.id === request.params.folderId);
    if (!folder) throw new WebError('NOT_FOUND');
    const hl = request.query.hl ?? '';
    const re = highlightTerms(hl);
    const allowRemote = request.query.remote === '1';
    const msg = renderMessage(raw, { allowRemote, highlight: re, withHtml: true });
    const b = base(request);
    const backHref = safeReturn(b, request.query.ret, `${b}/folder/${folder.id}`);
    const ctx = pageContext(request, branding, app.web.assets.version);
    const rawHeaders = request.query.raw ? headerText(raw.subarray(msg.parsed.root.headerStart, msg.parsed.root.headerEnd)) : null;
    const folderLabel = folder.path;
    const conversation = await findConversation(client, login.token, msg.parsed.fields.subject, request.params, (h) => `${b}/message/${h.folderId}/${h.uid}?ret=${encodeURIComponent(backHref)}`);
    await app.web.audit(login.instanceId, login.token, 'MessageRetrieveContent', { user: login.userName, folder: folder.path, uid: request.params.uid });
    const message = messageView(ctx, { folderId: folder.id, uid: request.params.uid, folderLabel, msg, backHref, allowRemote, highlightQuery: hl, showRaw: !!request.query.raw, rawHeaders, highlight: re, prefix: prefixOf(request), conversation });
    return sendPage(reply, mailShell(ctx, { title: msg.parsed.fields.subject || ctx.t('list.noSubject'), pane: 'message', folders, currentFolderId: folder.id, list: null, message }));
  });

  app.get<{ Params: Ids; Querystring: ViewQuery }>('/message/:folderId/:uid/body', { schema: { params: idParams, querystring: viewQuery } }, async (request, reply) => {
    const { raw } = await load(request);
    const allowRemote = request.query.remote === '1';
    const msg = renderMessage(raw, { allowRemote, highlight: highlightTerms(request.query.hl), withHtml: true });
    const body = msg.html?.html ?? '';
    const doc = `<!doctype html><html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><base target="_blank">`
      + `<style>body{font:15px/1.45 system-ui,sans-serif;margin:12px;overflow-wrap:anywhere;color:#1b1f24;background:#fff}img{max-width:100%;height:auto}img[data-blocked]{display:none}table{max-width:100%}mark{background:#ffe066}pre{white-space:pre-wrap}</style>`
      + `</head><body>${trusted(body).value}</body></html>`;
    return reply.type('text/html; charset=utf-8').header('content-security-policy', bodyCsp(allowRemote)).header('x-content-type-options', 'nosniff')
      .header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').send(doc);
  });

  app.get<{ Params: Ids & { partId: string } }>('/message/:folderId/:uid/part/:partId', { schema: { params: idParams } }, async (request, reply) => {
    const { login, raw } = await load(request);
    const renderedParsed = renderMessage(raw, { allowRemote: false, highlight: null, withHtml: false }).parsed;
    const part = partById(renderedParsed, request.params.partId);
    if (!part) throw new WebError('NOT_FOUND');
    const att = renderedParsed.attachments.find((a) => a.partId === request.params.partId);
    const bytes = decodePartBody(raw, part);
    const declared = `${part.type}/${part.subtype}`;
    const type = /^[a-z0-9][a-z0-9.+-]*\/[a-z0-9][a-z0-9.+-]*$/.test(declared) ? declared : 'application/octet-stream';
    await app.web.audit(login.instanceId, login.token, 'AttachmentDownload', { user: login.userName, folderId: request.params.folderId, uid: request.params.uid, partId: request.params.partId });
    return reply.type(type).header('content-disposition', contentDisposition('attachment', att?.filename ?? `part-${request.params.partId}`))
      .header('x-content-type-options', 'nosniff').header('content-security-policy', DOWNLOAD_CSP).header('cache-control', 'no-store').send(bytes);
  });

  app.get<{ Params: Ids }>('/message/:folderId/:uid/eml', { schema: { params: idParams } }, async (request, reply) => {
    const login = requireLogin(request);
    const { folderId, uid } = request.params;
    const client = request.instance!.client;
    const [meta] = await client.fetchMeta({ session: login.token, folderId, uids: [uid], fields: ['summary'] });
    if (!meta) throw new WebError('NOT_FOUND');
    const { size, stream } = await client.readMessage({ session: login.token, folderId, uid });
    await app.web.audit(login.instanceId, login.token, 'MessageDownload', { user: login.userName, folderId, uid });
    return reply.type('message/rfc822').header('content-length', String(size))
      .header('content-disposition', contentDisposition('attachment', `${safeFileName(meta.subject ?? '')}.eml`))
      .header('x-content-type-options', 'nosniff').header('content-security-policy', DOWNLOAD_CSP).header('cache-control', 'no-store')
      .send(Readable.from(stream));
  });

  app.get<{ Params: Ids; Querystring: ViewQuery }>('/message/:folderId/:uid/print', { schema: { params: idParams, querystring: viewQuery } }, async (request, reply) => {
    const { raw } = await load(request);
    const msg = renderMessage(raw, { allowRemote: false, highlight: null, withHtml: false });
    const bodies = selectBodies(msg.parsed.root);
    const text = msg.text ?? (bodies.html ? htmlToText(partText(raw, bodies.html)) : '');
    const ctx = pageContext(request, branding, app.web.assets.version);
    return sendPage(reply, printView(ctx, msg, text));
  });
}
