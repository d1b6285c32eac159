/**
 * Export (privilege `export`): selected messages, a whole folder or a search result, as a ZIP of
 * .eml files or one MBOX, streamed message by message with backpressure — nothing is collected in
 * memory, so a folder of any size can be exported. The stored bytes go into the .eml files unchanged.
 *
 * An export of `exportProgressFromMessages` messages or more (default 200) is a job: the form
 * leads to a progress page whose script fetches the file and polls how far the stream has come
 * (percent of messages written); smaller exports are answered with the file at once.
 */
import { PassThrough } from 'node:stream';
import { once } from 'node:events';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ArchiveQuery } from '../../../instance/api.js';
import type { InstanceClient } from '../../../instance/client.js';
import { base, pageContext, requireLogin, requirePrivilege, sendPage, type WebLogin } from '../context.js';
import { WebError, NOT_FOUND_RPC_CODES } from '../errors.js';
import { RpcError } from '../../../common/rpc/peer.js';
import { ZipWriter } from '../zip-writer.js';
import { mboxEntry } from '../mbox.js';
import { contentDisposition } from '../message-render.js';
import { searchFieldSchema, toArchiveQuery, SEARCH_FIELDS, type SearchParams } from '../search-query.js';
import { ExportJobs, MAX_OPEN_EXPORTS_PER_LOGIN, type ExportFormat, type ExportItem, type ExportJob } from '../export-jobs.js';
import { exportProgressPage } from '../views/export.js';
import type { Translate } from '../i18n.js';

/** One selection form carries at most this many message ids (a page is 50; select-all of several pages). */
const MAX_SELECTED = 5000;
/** Page size when walking a folder or a search result (the instance allows up to 500). */
const WALK_PAGE = 200;

/** Exports of at least this many messages get a progress page (WebAccessOptions.exportProgressFromMessages). */
export const DEFAULT_EXPORT_PROGRESS_FROM_MESSAGES = 200;
const JOB_ID = { type: 'object', properties: { inst: { type: 'string' }, id: { type: 'string', pattern: '^[A-Za-z0-9_-]{24}$' } }, required: ['id'], additionalProperties: false } as const;

function entryName(item: ExportItem): string {
  const day = item.date && item.date > 0 ? new Date(item.date).toISOString().slice(0, 10) : 'undated';
  const subject = item.subject.replace(/[\u0000-\u001f\u007f<>:"/\\|?*]+/g, ' ').trim().slice(0, 60) || 'message';
  return `${day} ${subject}.eml`;
}

export async function exportRoutes(app: FastifyInstance): Promise<void> {
  const jobs = new ExportJobs();
  app.addHook('onClose', async () => jobs.close());
  // Exports still streaming when the server closes end now: a client that stopped reading would
  // otherwise hold the shutdown open for as long as it likes.
  const streaming = new Set<PassThrough>();
  app.addHook('preClose', async () => { for (const s of streaming) s.destroy(new Error('Web Access is shutting down')); });
  const progressFrom = app.web.options.exportProgressFromMessages ?? DEFAULT_EXPORT_PROGRESS_FROM_MESSAGES;
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

    // The list of messages is produced lazily, page by page; `total` is known before the first byte.
    let items: AsyncIterable<ExportItem>;
    let total: number;
    if (body.scope === 'selected') {
      const sel = (Array.isArray(body.m) ? body.m : body.m ? [body.m] : []).map((s) => s.split(':').map(Number) as [number, number]);
      if (!sel.length) throw new WebError('BAD_REQUEST', 'nothing selected');
      total = sel.length;
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
      total = first.total;
      items = (async function* () {
        let page = first;
        for (;;) {
          for (const h of page.hits) yield { folderId: h.folderId, uid: h.uid, date: h.date, subject: h.subject };
          if (!page.next) return;
          page = await client.searchArchive({ session, query: { ...query, limit: WALK_PAGE, after: page.next } });
        }
      })();
    }

    const format: ExportFormat = body.format;
    const fileName = `export-${new Date().toISOString().slice(0, 10)}.${format}`;
    if (total >= progressFrom) {
      if (jobs.openCount(login.instanceId, session) >= MAX_OPEN_EXPORTS_PER_LOGIN) {
        const ctx = pageContext(request, app.web.options.branding, app.web.assets.version);
        return sendPage(reply, exportProgressPage(ctx, null, { back: backHref(request, body), text: ctx.t('export.busy', { count: MAX_OPEN_EXPORTS_PER_LOGIN }) }), 429);
      }
      const job = jobs.create({ instanceId: login.instanceId, session, userName: login.userName, format, scope: body.scope, fileName, items, total });
      return reply.redirect(`${base(request)}/export/${job.id}${body.scope === 'folder' ? `?folderId=${Number(body.folderId)}` : ''}`, 303);
    }
    return streamExport(request, reply, login, client, { format, fileName, scope: body.scope, items });
  });

  app.get<{ Params: { id: string }; Querystring: { folderId?: number; lang?: string } }>('/export/:id', {
    schema: { params: JOB_ID, querystring: { type: 'object', properties: { folderId: { type: 'integer', minimum: 1 }, lang: { type: 'string', maxLength: 5 } }, additionalProperties: false } },
  }, async (request, reply) => {
    const { job } = ownJob(request);
    const ctx = pageContext(request, app.web.options.branding, app.web.assets.version);
    const b = base(request);
    return sendPage(reply, exportProgressPage(ctx, {
      statusHref: `${b}/export/${job.id}/status`, downloadHref: `${b}/export/${job.id}/download`, percent: ExportJobs.percent(job), format: job.format, total: job.total, state: job.state,
    }, { back: request.query.folderId ? `${b}/folder/${request.query.folderId}` : `${b}/folders`, text: statusText(ctx.t, request.locale, job) }));
  });

  app.get<{ Params: { id: string } }>('/export/:id/status', { schema: { params: JOB_ID } }, async (request, reply) => {
    const { job } = ownJob(request);
    const t = pageContext(request, app.web.options.branding, app.web.assets.version).t;
    return reply.header('cache-control', 'no-store').send({ state: job.state, done: job.done, total: job.total, percent: ExportJobs.percent(job), text: statusText(t, request.locale, job) });
  });

  app.get<{ Params: { id: string } }>('/export/:id/download', { schema: { params: JOB_ID } }, async (request, reply) => {
    const { login, job } = ownJob(request);
    // The stream of messages is read once: a second fetch would export nothing.
    if (job.state !== 'waiting') {
      const ctx = pageContext(request, app.web.options.branding, app.web.assets.version);
      return sendPage(reply, exportProgressPage(ctx, null, { back: `${base(request)}/folders`, text: ctx.t('export.gone') }), 409);
    }
    job.state = 'running';
    return streamExport(request, reply, login, request.instance!.client, job, job);
  });

  function ownJob(request: FastifyRequest): { login: WebLogin; job: ExportJob } {
    const login = requireLogin(request);
    requirePrivilege(login, 'export');
    const job = jobs.get((request.params as { id: string }).id, login.instanceId, login.token);
    if (!job) throw new WebError('NOT_FOUND');
    return { login, job };
  }

  function backHref(request: FastifyRequest, body: { scope: string; folderId?: string }): string {
    return body.scope === 'folder' && body.folderId ? `${base(request)}/folder/${Number(body.folderId)}` : `${base(request)}/folders`;
  }

  /** Streams the file as the response; `job` (when given) learns each message written and how it ended. */
  function streamExport(request: FastifyRequest, reply: FastifyReply, login: WebLogin, client: InstanceClient,
    e: { format: ExportFormat; fileName: string; scope: string; items: AsyncIterable<ExportItem> }, job?: ExportJob): FastifyReply {
    const session = login.token;
    const out = new PassThrough({ highWaterMark: 1024 * 1024 });
    streaming.add(out);
    out.on('close', () => streaming.delete(out));
    const write = async (b: Buffer) => {
      if (!out.write(b)) {
        // Wait for drain or close, then remove the other listener (one per write would pile up).
        const ac = new AbortController();
        const waits = [once(out, 'drain', { signal: ac.signal }), once(out, 'close', { signal: ac.signal })];
        for (const w of waits) w.catch(() => {});
        try { await Promise.race(waits); } finally { ac.abort(); }
      }
      if (out.destroyed) throw new Error('client went away');
    };
    reply.type(e.format === 'zip' ? 'application/zip' : 'application/mbox')
      .header('content-disposition', contentDisposition('attachment', e.fileName))
      .header('x-content-type-options', 'nosniff').header('cache-control', 'no-store');
    const log = request.log;
    void (async () => {
      let count = 0;
      try {
        const zip = e.format === 'zip' ? new ZipWriter(write) : null;
        for await (const item of e.items) {
          const raw = await client.readMessageBuffer({ session, folderId: item.folderId, uid: item.uid });
          if (zip) await zip.addFile(zip.uniqueName(entryName(item)), raw, item.date && item.date > 0 ? new Date(item.date) : new Date());
          else await write(mboxEntry(raw, null, item.date));
          count++;
          if (job) { job.done = count; if (count > job.total) job.total = count; }
        }
        if (zip) await zip.finish();
        out.end();
        await once(out, 'end').catch(() => {});
        if (job) jobs.finish(job, 'done');
        await app.web.audit(login.instanceId, session, 'MessageExport', { user: login.userName, format: e.format, scope: e.scope, messages: count });
      } catch (err) {
        if (job) jobs.finish(job, 'failed');
        log.warn({ err, exported: count }, 'export stopped');
        out.destroy(err as Error);
      }
    })();
    return reply.send(out);
  }
}

function statusText(t: Translate, locale: string, job: ExportJob): string {
  const n = (x: number) => x.toLocaleString(locale);
  switch (job.state) {
    case 'waiting': return t('export.waiting', { total: n(job.total) });
    case 'running': return t('export.running', { percent: ExportJobs.percent(job), done: n(job.done), total: n(job.total) });
    case 'done': return t('export.done', { done: n(job.done) });
    default: return t('export.failed', { done: n(job.done) });
  }
}
