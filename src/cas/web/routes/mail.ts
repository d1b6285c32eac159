/**
 * Folder tree and message list. Every order pages by keyset, so page N costs what page 1 costs at
 * 100,000+ messages: date, sender, subject and size through the instance's sorted listing (value,
 * key; an index per order in every store), "archived" by UID.
 * Everything comes from instance calls made with the user's session: a forged folder id finds nothing.
 */
import type { FastifyInstance } from 'fastify';
import type { ListSort } from '../../../instance/api.js';
import { base, pageContext, requireLogin, sendPage } from '../context.js';
import { mailShell, messageList, rowsFromHits, type ListRow } from '../views/mail.js';
import { decodeSortCursor, encodeSortCursor, MAX_SORT_CURSOR_CHARS } from '../cursor.js';
import { html } from '../html.js';
import { WebError } from '../errors.js';

/** Rows per page: a screenful on a desktop; the next page is one link (keyset) away. */
export const PAGE_SIZE = 50;
type Sort = 'archived' | ListSort;
type Direction = 'asc' | 'desc';
const SORTS: readonly Sort[] = ['date', 'archived', 'from', 'subject', 'size'];
/** What a sort link means before the user reverses it: newest first, names A to Z, sizes largest first. */
const DEFAULT_DIRECTION: Record<ListSort, Direction> = { date: 'desc', from: 'asc', subject: 'asc', size: 'desc' };
const isListSort = (s: Sort): s is ListSort => s !== 'archived';

export async function mailRoutes(app: FastifyInstance): Promise<void> {
  const { branding } = app.web.options;

  app.get('/folders', async (request, reply) => {
    const login = requireLogin(request);
    const folders = await request.instance!.client.listFolders({ session: login.token });
    const ctx = pageContext(request, branding, app.web.assets.version);
    return sendPage(reply, mailShell(ctx, { title: ctx.t('nav.folders'), pane: 'tree', folders }));
  });

  app.get<{ Params: { folderId: number }; Querystring: { before?: number; at?: string; sort?: Sort; dir?: Direction; lang?: string } }>('/folder/:folderId', {
    schema: {
      params: { type: 'object', properties: { inst: { type: 'string' }, folderId: { type: 'integer', minimum: 1, maximum: 2 ** 31 } }, required: ['folderId'], additionalProperties: false },
      querystring: {
        type: 'object', additionalProperties: false,
        properties: {
          before: { type: 'integer', minimum: 1 }, at: { type: 'string', maxLength: MAX_SORT_CURSOR_CHARS },
          sort: { type: 'string', enum: SORTS }, dir: { type: 'string', enum: ['asc', 'desc'] }, lang: { type: 'string', maxLength: 5 },
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
    const sort: Sort = request.query.sort ?? 'date';
    const dir: Direction = isListSort(sort) ? request.query.dir ?? DEFAULT_DIRECTION[sort] : 'desc';
    const b = base(request);
    const ctx = pageContext(request, branding, app.web.assets.version);
    const { t } = ctx;
    let rows: ListRow[];
    let total: number;
    let nextHref: string | null = null;
    if (isListSort(sort)) {
      const r = await client.listFolderSorted({ session: login.token, folderId, sort, descending: dir === 'desc', limit: PAGE_SIZE, after: decodeSortCursor(request.query.at, sort) });
      rows = rowsFromHits(r.rows);
      total = r.total;
      if (r.next) nextHref = `${b}/folder/${folderId}?sort=${sort}&dir=${dir}&at=${encodeSortCursor(r.next)}`;
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
    const isFirst = !request.query.before && !request.query.at;
    const sortHref = (s: Sort, d?: Direction) => {
      const q = new URLSearchParams();
      if (s !== 'date') q.set('sort', s);
      if (d && isListSort(s) && d !== DEFAULT_DIRECTION[s]) q.set('dir', d);
      return `${b}/folder/${folderId}${q.size ? `?${q}` : ''}`;
    };
    const dirLabel = (s: ListSort, d: Direction) => t(s === 'date' ? (d === 'desc' ? 'list.dir.newest' : 'list.dir.oldest')
      : s === 'size' ? (d === 'desc' ? 'list.dir.largest' : 'list.dir.smallest') : d === 'asc' ? 'list.dir.az' : 'list.dir.za');
    // The current order links to its reverse; the others start in their usual direction.
    const sortLinks = html`<nav class="sort" aria-label="${t('list.sort')}">${SORTS.map((s) => s === sort
      ? html`<span aria-current="true">${t(`list.sort.${s}`)}${isListSort(s) ? html` (${dirLabel(s, dir)})` : ''}</span>${isListSort(s)
        ? html` <a href="${sortHref(s, dir === 'asc' ? 'desc' : 'asc')}" data-sort="${s}" data-dir="${dir === 'asc' ? 'desc' : 'asc'}" class="reverse">${dirLabel(s, dir === 'asc' ? 'desc' : 'asc')}</a>` : ''}`
      : html`<a href="${sortHref(s)}" data-sort="${s}">${t(`list.sort.${s}`)}</a>`)}</nav>`;
    const canExport = login.isAdmin || login.privileges.includes('export');
    const name = folder.path.split('/').slice(1).join('/') || (folder.archive.toLowerCase() === login.userName.toLowerCase() ? t('tree.myArchive') : t('tree.archiveOf', { name: folder.archive }));
    const list = messageList(ctx, {
      heading: name, total, rows, nextHref, firstHref: isFirst ? null : sortHref(sort, dir),
      // "Older"/"Newest" fit newest-first lists; other orders have plain next/first pages.
      pagerLabels: (sort === 'date' && dir === 'desc') || sort === 'archived' ? undefined : { next: t('list.nextPage'), first: t('list.firstPage') },
      backHref: `${b}/folders`, ret: request.url, canExport, canRestore: canExport && !!login.emailAddress && !!app.web.options.restore, exportScope: { kind: 'folder', folderId }, sortLinks,
    });
    return sendPage(reply, mailShell(ctx, { title: name, pane: 'list', folders, currentFolderId: folderId, list }));
  });
}
