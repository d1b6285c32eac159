/**
 * Folder tree and message list. Lists page by keyset (date, key) through the instance's archive
 * search, so page N costs what page 1 costs at 100,000+ messages; "archived" order pages by UID.
 * Everything comes from instance calls made with the user's session: a forged folder id finds nothing.
 */
import type { FastifyInstance } from 'fastify';
import type { MessageMeta } from '../../../instance/api.js';
import { base, pageContext, requireLogin, sendPage } from '../context.js';
import { mailShell, messageList, rowsFromHits, type ListRow } from '../views/mail.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { html } from '../html.js';
import { WebError } from '../errors.js';

/** Rows per page: a screenful on a desktop; the next page is one link (keyset) away. */
export const PAGE_SIZE = 50;
/**
 * Sorting by sender, subject or size is done here, over the folder's summaries, because the
 * instance offers keyset order only by date and UID. Above this many messages those sorts are not
 * offered (reading every summary per page would not stay fast); an instance-side sorted listing
 * would lift the limit (see the report).
 */
export const SORT_IN_CAS_MAX_MESSAGES = 5000;
/** fetchMeta batch size when reading summaries for a sort. */
const SUMMARY_BATCH = 1000;
type Sort = 'date' | 'archived' | 'from' | 'subject' | 'size';
const CAS_SORTS = new Set<Sort>(['from', 'subject', 'size']);

export async function mailRoutes(app: FastifyInstance): Promise<void> {
  const { branding } = app.web.options;

  app.get('/folders', async (request, reply) => {
    const login = requireLogin(request);
    const folders = await request.instance!.client.listFolders({ session: login.token });
    const ctx = pageContext(request, branding, app.web.assets.version);
    return sendPage(reply, mailShell(ctx, { title: ctx.t('nav.folders'), pane: 'tree', folders }));
  });

  app.get<{ Params: { folderId: number }; Querystring: { after?: string; before?: number; page?: number; sort?: Sort; lang?: string } }>('/folder/:folderId', {
    schema: {
      params: { type: 'object', properties: { inst: { type: 'string' }, folderId: { type: 'integer', minimum: 1, maximum: 2 ** 31 } }, required: ['folderId'], additionalProperties: false },
      querystring: {
        type: 'object', additionalProperties: false,
        properties: {
          after: { type: 'string', maxLength: 60 }, before: { type: 'integer', minimum: 1 }, page: { type: 'integer', minimum: 1, maximum: 1000 },
          sort: { type: 'string', enum: ['date', 'archived', 'from', 'subject', 'size'] }, lang: { type: 'string', maxLength: 5 },
        },
      },
    },
  }, async (request, reply) => {
    const login = requireLogin(request);
    const client = request.instance!.client;
    const { folderId } = request.params;
    const folders = await client.listFolders({ session: login.token });
    const folder = folders.find((f) => f.id === folderId);
    if (!folder) throw new WebError('NOT_FOUND');
    const casSortable = folder.messages <= SORT_IN_CAS_MAX_MESSAGES;
    let sort: Sort = request.query.sort ?? 'date';
    if (CAS_SORTS.has(sort) && !casSortable) sort = 'date';
    const b = base(request);
    const ctx = pageContext(request, branding, app.web.assets.version);
    const { t } = ctx;
    let rows: ListRow[];
    let total: number;
    let nextHref: string | null = null;
    if (sort === 'date') {
      const r = await client.searchArchive({ session: login.token, query: { folderId, limit: PAGE_SIZE, after: decodeCursor(request.query.after) } });
      rows = rowsFromHits(r.hits);
      total = r.total;
      if (r.next) nextHref = `${b}/folder/${folderId}?after=${encodeURIComponent(encodeCursor(r.next))}`;
    } else if (CAS_SORTS.has(sort)) {
      const { uids } = await client.folderUids({ session: login.token, folderId });
      const metas: MessageMeta[] = [];
      for (let i = 0; i < uids.length; i += SUMMARY_BATCH) metas.push(...await client.fetchMeta({ session: login.token, folderId, uids: uids.slice(i, i + SUMMARY_BATCH), fields: ['summary'] }));
      const collator = new Intl.Collator(request.locale, { sensitivity: 'base', numeric: true });
      const key = (m: (typeof metas)[number]) => (sort === 'from' ? m.from ?? '' : m.subject ?? '').replace(/^\s*((re|aw|fwd?|wg)\s*:\s*)+/i, '');
      // Size: largest first (what one looks for); text: A to Z; ties newest first.
      metas.sort((a, b) => (sort === 'size' ? b.size - a.size : collator.compare(key(a), key(b))) || b.uid - a.uid);
      const page = request.query.page ?? 1;
      rows = metas.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE).map((m) => ({
        folderId, uid: m.uid, from: m.from ?? '', subject: m.subject ?? '', date: m.date ?? m.internalDate, size: m.size, hasAttachments: !!m.hasAttachments,
      }));
      total = uids.length;
      if (page * PAGE_SIZE < metas.length) nextHref = `${b}/folder/${folderId}?sort=${sort}&page=${page + 1}`;
    } else {
      // Archived order: newest UID first. UIDs come as one array (4 bytes a message on the wire, cheap at 100,000).
      const { uids } = await client.folderUids({ session: login.token, folderId });
      const before = request.query.before ?? Infinity;
      let end = uids.length;
      while (end > 0 && uids[end - 1]! >= before) end--;
      const pageUids = uids.slice(Math.max(0, end - PAGE_SIZE), end).reverse();
      const meta = pageUids.length ? await client.fetchMeta({ session: login.token, folderId, uids: pageUids, fields: ['summary'] }) : [];
      const byUid = new Map(meta.map((m) => [m.uid, m]));
      rows = pageUids.map((uid) => byUid.get(uid)).filter((m) => m !== undefined).map((m) => ({
        folderId, uid: m.uid, from: m.from ?? '', subject: m.subject ?? '', date: m.date ?? m.internalDate, size: m.size, hasAttachments: !!m.hasAttachments,
      }));
      total = uids.length;
      if (end - PAGE_SIZE > 0) nextHref = `${b}/folder/${folderId}?sort=archived&before=${pageUids[pageUids.length - 1]}`;
    }
    const isFirst = !request.query.after && !request.query.before && (request.query.page ?? 1) === 1;
    const offered: Sort[] = casSortable ? ['date', 'archived', 'from', 'subject', 'size'] : ['date', 'archived'];
    const sortHref = (s: Sort) => `${b}/folder/${folderId}${s === 'date' ? '' : `?sort=${s}`}`;
    const sortLinks = html`<nav class="sort" aria-label="${t('list.sort')}">${offered.map((s) => s === sort
      ? html`<span aria-current="true">${t(`list.sort.${s}`)}</span>`
      : html`<a href="${sortHref(s)}" data-sort="${s}">${t(`list.sort.${s}`)}</a>`)}</nav>`;
    const canExport = login.isAdmin || login.privileges.includes('export');
    const name = folder.path.split('/').slice(1).join('/') || (folder.archive.toLowerCase() === login.userName.toLowerCase() ? t('tree.myArchive') : t('tree.archiveOf', { name: folder.archive }));
    const list = messageList(ctx, {
      heading: name, total, rows, nextHref, firstHref: isFirst ? null : sortHref(sort),
      backHref: `${b}/folders`, ret: request.url, canExport, canRestore: canExport && !!login.emailAddress && !!app.web.options.restore, exportScope: { kind: 'folder', folderId }, sortLinks,
    });
    return sendPage(reply, mailShell(ctx, { title: name, pane: 'list', folders, currentFolderId: folderId, list }));
  });
}
