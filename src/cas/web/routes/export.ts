/**
 * Export (privilege `export`): selected messages, a whole folder or a search result, as a ZIP of
 * .eml files or one MBOX, streamed message by message with backpressure — nothing is collected in
 * memory, so a folder of any size can be exported. The stored bytes go into the .eml files unchanged.
 */
import { PassThrough } from 'node:stream';
import { once } from 'node:events';
import type { FastifyInstance } from 'fastify';
import type { ArchiveQuery } from '../../../instance/api.js';
import { requireLogin, requirePrivilege } from '../context.js';
import { WebError, NOT_FOUND_RPC_CODES } from '../errors.js';
import { RpcError } from '../../../common/rpc/peer.js';
import { ZipWriter } from '../zip-writer.js';
import { mboxEntry } from '../mbox.js';
import { contentDisposition } from '../message-render.js';
import { searchFieldSchema, toArchiveQuery, SEARCH_FIELDS, type SearchParams } from '../search-query.js';

/** One selection form carries at most this many message ids (a page is 50; select-all of several pages). */
const MAX_SELECTED = 5000;
/** Page size when walking a folder or a search result (the instance allows up to 500). */
const WALK_PAGE = 200;

interface ExportItem { folderId: number; uid: number; date: number | null; subject: string }

function entryName(item: ExportItem): string {
  const day = item.date && item.date > 0 ? new Date(item.date).toISOString().slice(0, 10) : 'undated';
  const subject = item.subject.replace(/[\u0000-\u001f\u007f<>:"/\\|?*]+/g, ' ').trim().slice(0, 60) || 'message';
  return `${day} ${subject}.eml`;
}

export async function exportRoutes(app: FastifyInstance): Promise<void> {
  app.post<{ Body: { _csrf: string; format: 'zip' | 'mbox'; scope: 'selected' | 'folder' | 'search'; m?: string | string[]; folderId?: string } & Record<string, string> }>('/export', {
    schema: {
      body: {
        type: 'object', additionalProperties: false, required: ['_csrf', 'format', 'scope'],
        properties: {
          _csrf: { type: 'string', maxLength: 100 }, format: { type: 'string', enum: ['zip', 'mbox'] }, scope: { type: 'string', enum: ['selected', 'folder', 'search'] },
          m: { anyOf: [{ type: 'string', pattern: '^\\d{1,10}:\\d{1,10}$' }, { type: 'array', maxItems: MAX_SELECTED, items: { type: 'string', pattern: '^\\d{1,10}:\\d{1,10}$' } }] },
          folderId: { type: 'string', pattern: '^\\d{1,10}$' },
          ...searchFieldSchema('q_'),
        },
      },
    },
  }, async (request, reply) => {
    const login = requireLogin(request);
    requirePrivilege(login, 'export');
    const client = request.instance!.client;
    const body = request.body;
    const session = login.token;

    // The list of messages is produced lazily, page by page.
    let items: AsyncIterable<ExportItem>;
    if (body.scope === 'selected') {
      const sel = (Array.isArray(body.m) ? body.m : body.m ? [body.m] : []).map((s) => s.split(':').map(Number) as [number, number]);
      if (!sel.length) throw new WebError('BAD_REQUEST', 'nothing selected');
      items = (async function* () {
        for (const [folderId, uid] of sel) {
          // A forged or vanished id is skipped, as the instance finds nothing for it.
          const metas = await client.fetchMeta({ session, folderId, uids: [uid], fields: ['summary'] })
            .catch((e: unknown) => { if (e instanceof RpcError && NOT_FOUND_RPC_CODES.has(e.code)) return []; throw e; });
          const meta = metas[0];
          if (meta) yield { folderId, uid, date: meta.date ?? meta.internalDate, subject: meta.subject ?? '' };
        }
      })();
    } else {
      let query: ArchiveQuery;
      if (body.scope === 'folder') {
        if (!body.folderId) throw new WebError('BAD_REQUEST', 'folderId missing');
        query = { folderId: Number(body.folderId) };
      } else {
        const p: SearchParams = {};
        for (const f of SEARCH_FIELDS) if (typeof body[`q_${f}`] === 'string') p[f] = body[`q_${f}`];
        query = toArchiveQuery(p);
      }
      // Ask once before the response starts, so a bad folder or query is a normal error page.
      const first = await client.searchArchive({ session, query: { ...query, limit: WALK_PAGE } });
      items = (async function* () {
        let page = first;
        for (;;) {
          for (const h of page.hits) yield { folderId: h.folderId, uid: h.uid, date: h.date, subject: h.subject };
          if (!page.next) return;
          page = await client.searchArchive({ session, query: { ...query, limit: WALK_PAGE, after: page.next } });
        }
      })();
    }

    const out = new PassThrough({ highWaterMark: 1024 * 1024 });
    const write = async (b: Buffer) => { if (!out.write(b)) await Promise.race([once(out, 'drain'), once(out, 'close')]); if (out.destroyed) throw new Error('client went away'); };
    const stamp = new Date().toISOString().slice(0, 10);
    reply.type(body.format === 'zip' ? 'application/zip' : 'application/mbox')
      .header('content-disposition', contentDisposition('attachment', `export-${stamp}.${body.format === 'zip' ? 'zip' : 'mbox'}`))
      .header('x-content-type-options', 'nosniff').header('cache-control', 'no-store');
    const log = request.log;
    void (async () => {
      let count = 0;
      try {
        const zip = body.format === 'zip' ? new ZipWriter(write) : null;
        for await (const item of items) {
          const raw = await client.readMessageBuffer({ session, folderId: item.folderId, uid: item.uid });
          if (zip) await zip.addFile(zip.uniqueName(entryName(item)), raw, item.date && item.date > 0 ? new Date(item.date) : new Date());
          else await write(mboxEntry(raw, null, item.date));
          count++;
        }
        if (zip) await zip.finish();
        out.end();
        await app.web.audit(login.instanceId, session, 'Export', { user: login.userName, format: body.format, scope: body.scope, messages: count });
      } catch (e) {
        log.warn({ err: e, exported: count }, 'export stopped');
        out.destroy(e as Error);
      }
    })();
    return reply.send(out);
  });
}
