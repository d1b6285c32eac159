/** Search: quick box and advanced fields, `*`/`?` wildcards (the instance expands them), count, highlighting. */
import type { FastifyInstance } from 'fastify';
import { RpcError } from '../../../common/rpc/peer.js';
import { base, pageContext, requireLogin, sendPage } from '../context.js';
import { mailShell, messageList, rowsFromHits } from '../views/mail.js';
import { searchForm } from '../views/search.js';
import { html } from '../html.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { highlightTerms } from '../format.js';
import { compactParams, hasCriteria, highlightSource, searchFieldSchema, toArchiveQuery, type SearchParams } from '../search-query.js';
import { PAGE_SIZE } from './mail.js';

export async function searchRoutes(app: FastifyInstance): Promise<void> {
  const { branding } = app.web.options;
  app.get<{ Querystring: SearchParams & { after?: string; advanced?: string; lang?: string } }>('/search', {
    schema: {
      querystring: {
        type: 'object', additionalProperties: false,
        properties: { ...searchFieldSchema(), after: { type: 'string', maxLength: 60 }, advanced: { type: 'string', enum: ['1'] }, lang: { type: 'string', maxLength: 5 } },
      },
    },
  }, async (request, reply) => {
    const login = requireLogin(request);
    const client = request.instance!.client;
    const folders = await client.listFolders({ session: login.token });
    const params = compactParams(request.query);
    const ctx = pageContext(request, branding, app.web.assets.version, { query: params.q ?? '' });
    const { t } = ctx;
    const b = base(request);
    const form = searchForm(ctx, params, folders, request.query.advanced === '1' || Object.keys(params).some((k) => k !== 'q'));
    if (!hasCriteria(params)) {
      return sendPage(reply, mailShell(ctx, { title: t('search.title'), pane: 'list', folders, list: html`<h1>${t('search.title')}</h1>${form}` }));
    }
    let r;
    try {
      r = await client.searchArchive({ session: login.token, query: { ...toArchiveQuery(params), limit: PAGE_SIZE, after: decodeCursor(request.query.after) } });
    } catch (e) {
      if (e instanceof RpcError && e.code === 'INVALID_ARGUMENT') {
        return sendPage(reply, mailShell(ctx, { title: t('search.title'), pane: 'list', folders, list: html`<h1>${t('search.title')}</h1>${form}<p class="error" role="alert">${t('search.invalid', { message: e.message })}</p>` }), 400);
      }
      throw e;
    }
    const qs = new URLSearchParams(params).toString();
    const hl = highlightSource(params);
    const canExport = login.isAdmin || login.privileges.includes('export');
    const ret = request.url;
    const list = messageList(ctx, {
      heading: t('search.title'), total: r.total, rows: rowsFromHits(r.hits), countKey: 'search.results',
      nextHref: r.next ? `${b}/search?${qs}&after=${encodeURIComponent(encodeCursor(r.next))}` : null,
      firstHref: request.query.after ? `${b}/search?${qs}` : null, backHref: `${b}/folders`, ret, highlight: highlightTerms(hl),
      canExport, canRestore: canExport && !!login.emailAddress && !!app.web.options.restore, exportScope: { kind: 'search', params }, hlQuery: hl, showFolder: true,
    });
    return sendPage(reply, mailShell(ctx, { title: t('search.title'), pane: 'list', folders, list: html`${form}${list}` }));
  });
}
