/**
 * Web Access and Mobile Web Access of the Client Access Server (DESIGN.md §1, §3): `https://cas/`
 * is the provider's landing page, `https://cas/<instance or alias>/` an instance's Web Access.
 * `buildWebApp` builds the fastify app (no listening); `listenWebAccess` runs it over TLS.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyError } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import fastifyFormbody from '@fastify/formbody';
import fastifyHelmet from '@fastify/helmet';
import type { Logger } from '../../common/logger.js';
import type { InstanceClient } from '../../instance/client.js';
import type { AuditAction, SessionToken } from '../../instance/api.js';
import { RpcError } from '../../common/rpc/peer.js';
import type { BrandingStore } from './branding.js';
import { memorySessionStore, SessionStoreUnavailableError, type DroppedLogin, type WebSessionStore, type WebSessionStoreFactory } from './session-store.js';
import { loadStaticAssets, type StaticAssets } from './assets.js';
import { isLocale, pickLocale, translator } from './i18n.js';
import { WebError, UNAVAILABLE_RPC_CODES, NOT_FOUND_RPC_CODES } from './errors.js';
import { base, checkCsrf, currentLogin, pageContext, sendPage } from './context.js';
import { errorPage } from './views/layout.js';
import { LoginBackoff } from './login-backoff.js';
import { loginRoutes } from './routes/login.js';
import { mailRoutes } from './routes/mail.js';
import { messageRoutes } from './routes/message.js';
import { searchRoutes } from './routes/search.js';
import { exportRoutes } from './routes/export.js';
import { accountRoutes, type AccountService } from './routes/account.js';
import { restoreRoutes, type RestoreService } from './routes/restore.js';

export type ResolveInstanceResult =
  | { ok: true; instanceId: string; client: InstanceClient }
  | { ok: false; reason: 'unknown' | 'unavailable'; message: string };

/** Audit actions written to the instance's audit log; the names live with the instance (`AUDIT_ACTIONS`), which decides what it writes. */
export type { AuditAction } from '../../instance/api.js';

/**
 * Writes one audit entry. `session` is the user's instance session token, or null for a failed
 * login (details then carry user, address, user agent). Until the instance offers an `audit`
 * RPC the default writes a pino line with `audit: true`.
 */
export type AuditFn = (instanceId: string, session: SessionToken | null, action: AuditAction, details: Record<string, unknown>) => Promise<void> | void;

export interface WebAccessOptions {
  /** Routing: instance id or alias from the URL → a connected client, or why not. */
  resolveInstance(idOrAlias: string): Promise<ResolveInstanceResult>;
  branding: BrandingStore;
  /** Signs the session cookie; at least 32 characters (checked at boot). An array rotates secrets. */
  cookieSecret: string | string[];
  logger: Logger;
  /**
   * Default: in-memory, bounded (lru-cache). Several CASes serving one name share a Redis store:
   * pass a factory (`(binding) => new RedisSessionStore({ url, ...binding })`), which the app calls
   * with the idle lifetime it needs and closes with the app; a store object given as is stays the caller's.
   */
  sessionStore?: WebSessionStore | WebSessionStoreFactory;
  audit?: AuditFn;
  /** Self-service account functions (change password, MFA); default: the instance's own RPCs. A service given here replaces them (functions it leaves out are shown as unavailable). */
  account?: AccountService;
  /** Outgoing SMTP of each instance (its `SetSmtpSettings`), for "restore to mailbox"; absent: not offered. */
  restore?: RestoreService;
  /** A session unused this long ends (default 30 minutes). */
  idleTimeoutMs?: number;
  /** A session ends this long after login whatever happens (default 12 hours). */
  absoluteTimeoutMs?: number;
  /** Directory of app.js and app.css (default: public/web at the repository root). */
  publicDir?: string;
  /** Exports of at least this many messages get a progress page (default 200); smaller ones are sent at once. */
  exportProgressFromMessages?: number;
  /** Behind a reverse proxy: trust X-Forwarded-For for the client address (fastify trustProxy). */
  trustProxy?: boolean | string | string[];
}

export interface WebAppState {
  options: Required<Pick<WebAccessOptions, 'idleTimeoutMs' | 'absoluteTimeoutMs'>> & WebAccessOptions;
  assets: StaticAssets;
  backoff: LoginBackoff;
  audit: AuditFn;
}

declare module 'fastify' {
  interface FastifyInstance { web: WebAppState }
}

/** URL segment of an instance id or alias: what routing can possibly know. */
const INSTANCE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const DEFAULT_IDLE_MS = 30 * 60_000;
const DEFAULT_ABSOLUTE_MS = 12 * 3600_000;
/** Routes open to a session that still has to enrol in MFA the instance requires. */
const ENROLMENT_ROUTES = new Set(['/:inst/account', '/:inst/account/mfa/start', '/:inst/account/mfa/confirm', '/:inst/logout']);
/** Paths of the provider routes (no instance, no session). */
const PROVIDER_PATH = /^\/(?:about|static\/[^/]*|branding\/[^/]*|favicon\.ico)?$/;
const SESSION_COOKIE = 'coffer_session';
/** How stale a session's last-seen time may get before a request writes it back to the store. */
const LAST_SEEN_WRITE_MS = 60_000;
/** Form posts are small: login fields, a list of selected messages for export. */
const BODY_LIMIT_BYTES = 256 * 1024;

function validateOptions(o: WebAccessOptions): void {
  const secrets = Array.isArray(o.cookieSecret) ? o.cookieSecret : [o.cookieSecret];
  if (!secrets.length || secrets.some((s) => typeof s !== 'string' || s.length < 32)) throw new Error('web access: cookieSecret must be at least 32 characters');
  if (typeof o.resolveInstance !== 'function') throw new Error('web access: resolveInstance is required');
  if (!o.branding) throw new Error('web access: branding is required');
  if (o.exportProgressFromMessages !== undefined && (!Number.isInteger(o.exportProgressFromMessages) || o.exportProgressFromMessages < 1)) throw new Error('web access: exportProgressFromMessages must be a positive integer');
  for (const k of ['idleTimeoutMs', 'absoluteTimeoutMs'] as const) {
    const v = o[k];
    if (v !== undefined && (!Number.isInteger(v) || v < 1000)) throw new Error(`web access: ${k} must be an integer of at least 1000`);
  }
}

export async function buildWebApp(options: WebAccessOptions, https?: { key: string | Buffer; cert: string | Buffer }): Promise<FastifyInstance> {
  validateOptions(options);
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_MS;
  const absoluteTimeoutMs = options.absoluteTimeoutMs ?? DEFAULT_ABSOLUTE_MS;
  const log = options.logger.child({ role: 'web' });
  const app = Fastify({
    loggerInstance: log,
    ...(https ? { https: { key: https.key, cert: https.cert } } : {}),
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: options.trustProxy ?? false,
    genReqId: () => randomUUID(),
    routerOptions: { maxParamLength: 200 },
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;

  const assets = loadStaticAssets(options.publicDir);
  const audit: AuditFn = options.audit ?? ((instanceId, _session, action, details) => { log.info({ audit: true, instance: instanceId, action, ...details }, 'audit'); });
  app.decorate('web', { options: { ...options, idleTimeoutMs, absoluteTimeoutMs }, assets, backoff: new LoginBackoff(), audit });
  app.decorateRequest('locale', 'en');
  app.decorateRequest('instance', undefined);

  // Sessions that expire unseen end their instance session as well (the instance keeps tokens until logout).
  // The store keeps an idle session twice the idle timeout: the timeout itself is enforced per request
  // (so a returning user is told the session ended); the store only bounds how long it is kept.
  const endLogin = (l: DroppedLogin) => {
    void options.resolveInstance(l.instanceId).then((r) => (r.ok ? r.client.logout({ session: l.token }) : undefined)).catch(() => {});
  };
  const given = options.sessionStore;
  const factory: WebSessionStoreFactory | undefined = typeof given === 'function' ? given : given === undefined ? memorySessionStore : undefined;
  const store = factory ? factory({ idleTtlMs: 2 * idleTimeoutMs, endLogin, log }) : given as WebSessionStore;
  if (factory) app.addHook('onClose', async () => { await (store as ReturnType<WebSessionStoreFactory>).close?.(); });
  await app.register(fastifyCookie);
  await app.register(fastifyFormbody);
  // Language: ?lang= switches and remembers (a cookie, not server state); else the browser's preference.
  // Before the session, so a page about the session store being down is in the user's language too.
  app.addHook('onRequest', async (request, reply) => {
    const q = request.query as Record<string, unknown> | undefined;
    const wanted = q?.lang;
    if (isLocale(wanted)) {
      request.locale = wanted;
      reply.setCookie('lang', wanted, { path: '/', maxAge: 365 * 86400, sameSite: 'lax', secure: true, httpOnly: true });
    } else {
      request.locale = pickLocale(request.cookies.lang, request.headers['accept-language']);
    }
  });

  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'"], imgSrc: ["'self'", 'data:'], fontSrc: ["'self'"],
        connectSrc: ["'self'"], frameSrc: ["'self'"], frameAncestors: ["'self'"], formAction: ["'self'"], objectSrc: ["'none'"], baseUri: ["'none'"],
      },
    },
    hsts: { maxAge: 31_536_000, includeSubDomains: true },
    referrerPolicy: { policy: 'no-referrer' },
    frameguard: { action: 'sameorigin' },
    crossOriginEmbedderPolicy: false,
  });

  // The session comes last, after the language and the security headers, which the 503 page of a
  // store outage needs as well. Provider pages and assets never use the session: they do not ask
  // the store (no round trip to Redis for app.css) and stay up while it is down, so that page keeps its styles.
  app.addHook('onRequest', async (request) => {
    if (PROVIDER_PATH.test(request.url.split('?', 1)[0]!)) delete request.cookies[SESSION_COOKIE];
  });
  await app.register(fastifySession, {
    secret: options.cookieSecret,
    cookieName: SESSION_COOKIE,
    store,
    saveUninitialized: false,
    // Saved when changed, not on every response: a shared store is written only when needed. Reads
    // keep an idle session alive in the store (updateAgeOnGet, GETEX); the cookie has no expiry to roll.
    rolling: false,
    // The cookie lives as long as the browser; idle and absolute timeouts are enforced on the server.
    cookie: { httpOnly: true, secure: true, sameSite: 'lax', path: '/' },
  });

  // CSRF: every state-changing request carries the session's token; a cross-site Origin is refused too.
  app.addHook('preHandler', async (request) => {
    if (request.method === 'GET' || request.method === 'HEAD') return;
    const origin = request.headers.origin;
    if (origin && origin !== 'null') {
      let host: string | null = null;
      try { host = new URL(origin).host; } catch { /* malformed Origin: treated as foreign */ }
      if (host !== request.headers.host) throw new WebError('CSRF');
    }
    checkCsrf(request, (request.body as Record<string, unknown> | undefined)?._csrf);
  });

  app.setErrorHandler(async (err: FastifyError | WebError | RpcError | Error, request, reply) => renderError(app, err, request, reply));
  app.setNotFoundHandler(async (request, reply) => {
    const ctx = pageContext(request, options.branding, assets.version);
    return sendPage(reply, errorPage(ctx, ctx.t('error.pageNotFound.title'), ctx.t('error.pageNotFound.text')), 404);
  });

  registerProviderRoutes(app);
  await app.register(async (inst) => {
    inst.addHook('onRequest', async (request) => {
      const name = (request.params as { inst?: string }).inst ?? '';
      if (!INSTANCE_NAME.test(name)) throw new WebError('UNKNOWN_INSTANCE');
      const r = await options.resolveInstance(name);
      if (!r.ok) throw new WebError(r.reason === 'unknown' ? 'UNKNOWN_INSTANCE' : 'INSTANCE_UNAVAILABLE', r.message);
      request.instance = { id: r.instanceId, urlName: name, client: r.client };
    });
    // Session timeouts: idle and absolute, checked on every request of the instance.
    inst.addHook('preHandler', async (request) => {
      const l = request.session.login;
      if (!l || !request.instance || l.instanceId !== request.instance.id) return;
      const now = Date.now();
      if (now - l.lastSeenMs > idleTimeoutMs || now - l.loginAtMs > absoluteTimeoutMs) {
        request.instance.client.logout({ session: l.token }).catch(() => {});
        request.session.login = undefined;
        request.session.notice = 'login.expired';
        return;
      }
      // Written back at most once a minute (sooner under a short idle timeout, so activity still
      // keeps the session), so reads do not rewrite the session, nor a shared store, on every request.
      if (now - l.lastSeenMs > Math.min(LAST_SEEN_WRITE_MS, idleTimeoutMs / 4)) request.session.login = { ...l, lastSeenMs: now };
    });
    // MFA the instance requires and the user has not set up: only enrolment and logout are open
    // (the instance refuses the session everything else too; this turns that into a way forward).
    inst.addHook('preHandler', async (request, reply) => {
      if (!currentLogin(request)?.mfaEnrolmentRequired) return;
      if (ENROLMENT_ROUTES.has(request.routeOptions.url ?? '')) return;
      if (request.method === 'GET' || request.method === 'HEAD') return reply.redirect(`${base(request)}/account`, 303);
      throw new WebError('FORBIDDEN');
    });
    await inst.register(loginRoutes);
    await inst.register(mailRoutes);
    await inst.register(messageRoutes);
    await inst.register(searchRoutes);
    await inst.register(exportRoutes);
    await inst.register(accountRoutes);
    await inst.register(restoreRoutes);
  }, { prefix: '/:inst' });

  return app;
}

/** `/`, `/about`, `/static/*`, `/branding/*`: provider pages and assets, no instance. */
function registerProviderRoutes(app: FastifyInstance): void {
  const { branding } = app.web.options;
  const providerPage = (which: 'indexHtml' | 'aboutHtml') => async (_request: FastifyRequest, reply: FastifyReply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(branding.current[which]);
  app.get('/', providerPage('indexHtml'));
  app.get('/about', providerPage('aboutHtml'));

  app.get<{ Params: { file: string } }>('/static/:file', {
    schema: { params: { type: 'object', properties: { file: { type: 'string', maxLength: 40 } }, required: ['file'], additionalProperties: false } },
  }, async (request, reply) => {
    const a = app.web.assets.files.get(request.params.file);
    if (!a) throw new WebError('NOT_FOUND');
    const versioned = (request.query as Record<string, unknown>).v === app.web.assets.version;
    reply.type(a.contentType).header('etag', a.etag).header('vary', 'accept-encoding')
      .header('cache-control', versioned ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (request.headers['if-none-match'] === a.etag) return reply.code(304).send();
    if (/\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''))) return reply.header('content-encoding', 'gzip').send(a.gzip);
    return reply.send(a.body);
  });

  const image = (pick: 'logo' | 'favicon') => async (_request: FastifyRequest, reply: FastifyReply) =>
    reply.type('image/png').header('cache-control', 'public, max-age=300').header('content-security-policy', "default-src 'none'; sandbox").send(branding.current[pick].bytes);
  app.get('/branding/logo.png', image('logo'));
  app.get('/branding/favicon.png', image('favicon'));
  app.get('/favicon.ico', image('favicon'));
  app.get('/branding/theme.css', async (_request, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=300').send(branding.current.themeCss));
}

async function renderError(app: FastifyInstance, err: FastifyError | WebError | RpcError | Error, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const { branding } = app.web.options;
  const ctx = pageContext(request, branding, app.web.assets.version);
  const t = ctx.t ?? translator('en');
  const code = (err as { code?: unknown }).code;
  if (err instanceof WebError && err.code === 'LOGIN_REQUIRED') {
    if (request.method === 'GET' && request.instance) return reply.redirect(`${base(request)}/login`, 303);
    return sendPage(reply, errorPage(ctx, t('login.title'), t('login.expired')), 401);
  }
  if (err instanceof RpcError && code === 'SESSION_INVALID' && request.instance) {
    // The instance restarted or ended the session: sign in again.
    request.session.login = undefined;
    request.session.notice = 'login.expired';
    return reply.redirect(`${base(request)}/login`, 303);
  }
  let status: number, title: string, text: string;
  if (err instanceof SessionStoreUnavailableError) {
    // The shared session store (Redis) is down or slow: nothing can be signed in or checked. The
    // session is left alone (saving it would fail again); the page needs none.
    request.log.warn({ err: { code, message: err.message } }, 'sessions unavailable');
    (request as { session: unknown }).session = null;
    status = 503; title = t('error.sessions.title'); text = t('error.sessions.text');
    reply.header('retry-after', '30');
  } else if ((err instanceof WebError && err.code === 'UNKNOWN_INSTANCE')) {
    status = 404; title = t('error.notFound.title'); text = t('error.notFound.text');
  } else if ((err instanceof WebError && err.code === 'INSTANCE_UNAVAILABLE') || (err instanceof RpcError && UNAVAILABLE_RPC_CODES.has(err.code))) {
    request.log.warn({ err: { code, message: err.message } }, 'instance unavailable');
    status = 503; title = t('error.unavailable.title'); text = t('error.unavailable.text');
    reply.header('retry-after', '60');
  } else if ((err instanceof WebError && err.code === 'NOT_FOUND') || (err instanceof RpcError && NOT_FOUND_RPC_CODES.has(err.code))) {
    status = 404; title = t('error.pageNotFound.title'); text = t('error.pageNotFound.text');
  } else if (err instanceof WebError && (err.code === 'FORBIDDEN' || err.code === 'CSRF')) {
    status = 403; title = t('error.forbidden.title'); text = err.code === 'CSRF' ? t('error.csrf.text') : t('error.forbidden.text');
  } else if ((err instanceof WebError && err.code === 'BAD_REQUEST') || (err as FastifyError).validation || (err instanceof RpcError && err.code === 'INVALID_ARGUMENT')
    || ((err as FastifyError).statusCode !== undefined && (err as FastifyError).statusCode! >= 400 && (err as FastifyError).statusCode! < 500)) {
    // Keep a specific 4xx the framework chose (405, 413, 415, 429…); everything else here is a 400.
    const sc = (err as FastifyError).statusCode;
    status = sc !== undefined && sc >= 400 && sc < 500 && sc !== 401 && sc !== 403 && sc !== 404 ? sc : 400;
    title = t('error.badRequest.title'); text = t('error.badRequest.text');
  } else {
    // A bug: the log gets the detail, the user a reference to quote (never the message or a stack).
    request.log.error({ err }, 'request failed');
    status = 500; title = t('error.internal.title'); text = t('error.internal.text', { ref: String(request.id) });
  }
  if (reply.sent || reply.raw.headersSent) { reply.raw.destroy(); return reply; }
  return sendPage(reply, errorPage(ctx, title, text), status);
}

/** Runs Web Access over TLS (the CAS's certificate) on `port`; returns the app to close on shutdown. */
export async function listenWebAccess(options: WebAccessOptions, listen: { port: number; host?: string; tls: { key: string | Buffer; cert: string | Buffer } }): Promise<{ app: FastifyInstance; port: number; close(): Promise<void> }> {
  const app = await buildWebApp(options, listen.tls);
  await app.listen({ port: listen.port, host: listen.host ?? '0.0.0.0' });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : listen.port;
  return { app, port, close: () => app.close() };
}
