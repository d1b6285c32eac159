/**
 * Restore to mailbox: selected messages are sent, unchanged, to the user's own address through the
 * instance's SMTP settings (SPE `SetSmtpSettings`). The raw stored bytes go out as they are; only
 * the SMTP envelope names the user, so the copy in the mailbox is the archived message.
 */
import type { FastifyInstance } from 'fastify';
import nodemailer from 'nodemailer';
import { RpcError } from '../../../common/rpc/peer.js';
import { pageContext, requireLogin, requirePrivilege, sendPage, base } from '../context.js';
import { NOT_FOUND_RPC_CODES, WebError } from '../errors.js';
import { html } from '../html.js';
import { layout } from '../views/layout.js';
import { searchFieldSchema } from '../search-query.js';

/** Outgoing mail settings of an instance, as `SetSmtpSettings` stores them. */
export interface SmtpSettings {
  host: string;
  port: number;
  /** Implicit TLS (465); otherwise STARTTLS is used when offered, or required with `requireTls`. */
  secure: boolean;
  requireTls?: boolean;
  user?: string;
  password?: string;
  /** Envelope sender (MAIL FROM). */
  from: string;
  /** Accept a self-signed relay certificate (test relays, internal smarthosts). */
  allowInvalidCertificate?: boolean;
}

export interface RestoreService { smtpSettings(instanceId: string, session: string): Promise<SmtpSettings | null> }

/** One restore request sends at most this many messages (a mailbox is not an export target). */
export const MAX_RESTORE_MESSAGES = 500;
const SMTP_TIMEOUT_MS = 30_000;

export async function restoreRoutes(app: FastifyInstance): Promise<void> {
  const { branding } = app.web.options;
  const service = app.web.options.restore;
  app.post<{ Body: { _csrf: string; m?: string | string[] } & Record<string, unknown> }>('/restore', {
    schema: {
      body: {
        // The export form's other fields come along (same form, other button); only `m` is used here.
        type: 'object', required: ['_csrf'], additionalProperties: false,
        properties: {
          _csrf: { type: 'string', maxLength: 100 }, format: { type: 'string', enum: ['zip', 'mbox'] }, scope: { type: 'string', maxLength: 10 },
          folderId: { type: 'string', pattern: '^\\d{1,10}$' }, ...searchFieldSchema('q_'),
          m: { anyOf: [{ type: 'string', pattern: '^\\d{1,10}:\\d{1,10}$' }, { type: 'array', maxItems: MAX_RESTORE_MESSAGES, items: { type: 'string', pattern: '^\\d{1,10}:\\d{1,10}$' } }] },
        },
      },
    },
  }, async (request, reply) => {
    const login = requireLogin(request);
    requirePrivilege(login, 'export');
    const ctx = pageContext(request, branding, app.web.assets.version);
    const { t } = ctx;
    const page = (text: string, status = 200) => sendPage(reply, layout(ctx, {
      title: t('restore.title'),
      body: html`<section class="card"><h1>${t('restore.title')}</h1><p role="status" data-testid="restore-result">${text}</p><p><a href="${base(request)}/folders">${t('nav.back')}</a></p></section>`,
    }), status);
    const sel = (Array.isArray(request.body.m) ? request.body.m : request.body.m ? [request.body.m] : []).map((s) => s.split(':').map(Number) as [number, number]);
    if (!sel.length) return page(t('export.none'), 400);
    if (!login.emailAddress) return page(t('restore.noAddress'), 409);
    const settings = service ? await service.smtpSettings(login.instanceId, login.token) : null;
    if (!settings) return page(t('restore.notConfigured'), 409);
    const client = request.instance!.client;
    const transport = nodemailer.createTransport({
      host: settings.host, port: settings.port, secure: settings.secure, requireTLS: settings.requireTls ?? false,
      auth: settings.user ? { user: settings.user, pass: settings.password ?? '' } : undefined,
      tls: { rejectUnauthorized: !settings.allowInvalidCertificate },
      connectionTimeout: SMTP_TIMEOUT_MS, socketTimeout: SMTP_TIMEOUT_MS, pool: false,
    });
    let sent = 0;
    try {
      for (const [folderId, uid] of sel) {
        const metas = await client.fetchMeta({ session: login.token, folderId, uids: [uid], fields: ['summary'] })
          .catch((e: unknown) => { if (e instanceof RpcError && NOT_FOUND_RPC_CODES.has(e.code)) return []; throw e; });
        if (!metas.length) continue;
        const raw = await client.readMessageBuffer({ session: login.token, folderId, uid });
        await transport.sendMail({ envelope: { from: settings.from, to: [login.emailAddress] }, raw });
        sent++;
      }
    } catch (e) {
      if (e instanceof WebError || e instanceof RpcError) throw e;
      request.log.warn({ err: e, sent }, 'restore failed');
      return page(t('restore.failed', { count: sent, message: (e as Error).message }), 502);
    } finally {
      transport.close();
      await app.web.audit(login.instanceId, login.token, 'MessageRestore', { user: login.userName, to: login.emailAddress, messages: sent });
    }
    return page(t('restore.done', { count: sent, address: login.emailAddress }));
  });
}
