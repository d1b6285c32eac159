/**
 * Folder tree and message list. Lists page by keyset (date, key) through the instance's archive
 * search, so page N costs what page 1 costs at 100,000+ messages; "archived" order pages by UID.
 * Everything comes from instance calls made with the user's session: a forged folder id finds nothing.
 */
import type { FastifyInstance } from 'fastify';
import { base, pageContext, requireLogin, sendPage } from '../context.js';
import { mailShell, messageList, rowsFromHits, type ListRow } from '../views/mail.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { html } from '../html.js';
import { WebError } from '../errors.js';

/** Rows per page: a screenful on a desktop; the next page is one link (keyset) away. */
export const PAGE_SIZE = 50;

export async function mailRoutes(app: FastifyInstance): Promise<void> {
  const { branding } = app.web.options;

  app.get('/folders', async (request, reply) => {
    const login = requireLogin(request);
    const folders = await request.instance!.client.listFolders({ session: login.token });
    const ctx = pageContext(request, branding, app.web.assets.version);
    return sendPage(reply, mailShell(ctx, { title: ctx.t('nav.folders'), pane: 'tree', folders }));
  });

  app.get<{ Params: { folderId: number }; Querystring: { after?: string; before?: number; sort?: 'date' | 'archived'; lang?: string } }>('/folder/:folderId', {
    schema: {
      params: { type: 'object', properties: { inst: { type: 'string' }, folderId: { type: 'integer', minimum: 1, maximum: 2 ** 31 } }, required: ['folderId'], additionalProperties: false },
      querystring: {
        type: 'object', additionalProperties: false,
        properties: { after: { type: 'string', maxLength: 60 }, before: { type: 'integer', minimum: 1 }, sort: { type: 'string', enum: ['date', 'archived'] }, lang: { type: 'string', maxLength: 5 } },
      },
    },
  }, async (request, reply) => {
    const login = requireLogin(request);
    const client = request.instance!.client;
    const { folderId } = request.params;
    const sort = request.query.sort ?? 'date';
    const folders = await client.listFolders({ session: login.token });
    const folder = folders.find((f) => f.id === folderId);
    if (!folder) throw new WebError('NOT_FOUND');
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
    const isFirst = !request.query.after && !request.query.before;
    const sortLinks = html`<nav class="sort" aria-label="${t('list.sort')}">${(['date', 'archived'] as const).map((s) => s === sort
      ? html`<span aria-current="true">${t(`list.sort.${s}`)}</span>`
      : html`<a href="${b}/folder/${folderId}${s === 'date' ? '' : '?sort=archived'}">${t(`list.sort.${s}`)}</a>`)}</nav>`;
    const canExport = login.isAdmin || login.privileges.includes('export');
    const name = folder.path.split('/').slice(1).join('/') || (folder.archive.toLowerCase() === login.userName.toLowerCase() ? t('tree.myArchive') : t('tree.archiveOf', { name: folder.archive }));
    const list = messageList(ctx, {
      heading: name, total, rows, nextHref, firstHref: isFirst ? null : `${b}/folder/${folderId}${sort === 'date' ? '' : '?sort=archived'}`,
      backHref: `${b}/folders`, ret: request.url, canExport, exportScope: { kind: 'folder', folderId }, sortLinks,
    });
    return sendPage(reply, mailShell(ctx, { title: name, pane: 'list', folders, currentFolderId: folderId, list }));
  });
}
