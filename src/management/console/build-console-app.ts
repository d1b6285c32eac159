/**
 * The Management Console (DESIGN.md §1, port 8470): server-rendered HTML over HTTPS, no client
 * script. `buildConsoleApp` builds the fastify app (no listening); the Management Server role
 * listens and closes it.
 *
 * Security: sessions in memory (cookie `coffer_console`: HttpOnly, Secure, SameSite=Strict, id
 * rotated at logon, 30 min idle and 12 h absolute timeout enforced on the server); a CSRF token on
 * every POST and cross-origin POSTs refused; CSP without any script, frame-ancestors 'none', HSTS,
 * nosniff, no referrer; `Cache-Control: no-store` on every page (secrets are shown on some).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import fastifyHelmet from '@fastify/helmet';
import fastifySession from '@fastify/session';
import type { Logger } from '../../common/logger.js';
import type { AdminService } from '../admins.js';
import { FailureTracker, type BackoffOptions } from '../api/basic-auth.js';
import { type ConsoleContext, type ConsoleInvoke, sendHtml } from './context.js';
import { ConsoleError } from './errors.js';
import { registerAdministratorRoutes } from './routes/administrators.js';
import { registerInstanceRoutes } from './routes/instances.js';
import { registerLoginRoutes } from './routes/login.js';
import { registerMfaRoutes } from './routes/mfa.js';
import { ConsoleSessionStore, assertCsrf } from './session.js';
import { CONSOLE_CSS, CONSOLE_CSS_VERSION } from './styles.js';
import { errorPage } from './views/error.js';

export const CONSOLE_COOKIE_NAME = 'coffer_console';
const DEFAULT_IDLE_TIMEOUT_MS = 30 * 60_000;
const DEFAULT_ABSOLUTE_TIMEOUT_MS = 12 * 3600_000;
/** Forms only: a few fields each. */
const BODY_LIMIT_BYTES = 64 * 1024;
/** Paths anyone may reach; everything else needs a finished logon. */
const PUBLIC_PATHS = new Set(['/', '/login', '/login/code', '/logout']);

export interface ConsoleOptions {
  readonly admins: AdminService;
  readonly invoke: ConsoleInvoke;
  readonly logger: Logger;
  /** HTTPS key and certificate (PEM): the Management Server's role certificate. */
  readonly tls: { readonly key: string | Buffer; readonly cert: string | Buffer };
  /** A session unused this long ends (default 30 minutes). */
  readonly idleTimeoutMs?: number;
  /** A session ends this long after logon whatever happens (default 12 hours). */
  readonly absoluteTimeoutMs?: number;
  /** Back-off of failed passwords and codes (default: the Management API's, 250 ms doubling to 8 s). */
  readonly backoff?: BackoffOptions;
  /**
   * Signs the session cookie, at least 32 characters. Default: random per process; sessions live
   * in memory and end with the process anyway.
   */
  readonly sessionSecret?: string;
}

function validateOptions(options: ConsoleOptions): void {
  for (const key of ['idleTimeoutMs', 'absoluteTimeoutMs'] as const) {
    const value = options[key];
    if (value !== undefined && (!Number.isInteger(value) || value < 1000)) throw new Error(`management console: ${key} must be an integer of at least 1000`);
  }
  if (options.sessionSecret !== undefined && options.sessionSecret.length < 32) throw new Error('management console: sessionSecret must be at least 32 characters');
}

export async function buildConsoleApp(options: ConsoleOptions): Promise<FastifyInstance> {
  validateOptions(options);
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const absoluteTimeoutMs = options.absoluteTimeoutMs ?? DEFAULT_ABSOLUTE_TIMEOUT_MS;
  const app = Fastify({
    loggerInstance: options.logger,
    https: { key: options.tls.key, cert: options.tls.cert },
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: () => randomUUID(),
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;

  await app.register(fastifyCookie);
  await app.register(fastifyFormbody);
  await app.register(fastifySession, {
    secret: options.sessionSecret ?? randomBytes(32).toString('base64url'),
    cookieName: CONSOLE_COOKIE_NAME,
    store: new ConsoleSessionStore(absoluteTimeoutMs),
    saveUninitialized: false,
    // A browser-session cookie: timeouts are enforced on the server, where they cannot be edited.
    cookie: { httpOnly: true, secure: true, sameSite: 'strict', path: '/' },
  });
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"], scriptSrc: ["'none'"], styleSrc: ["'self'"], imgSrc: ["'self'", 'data:'],
        formAction: ["'self'"], frameAncestors: ["'none'"], baseUri: ["'none'"], objectSrc: ["'none'"],
      },
    },
    hsts: { maxAge: 31_536_000, includeSubDomains: true },
    referrerPolicy: { policy: 'no-referrer' },
    frameguard: { action: 'deny' },
    crossOriginEmbedderPolicy: false,
  });

  // Session timeouts, and a login whose account was deleted ends at once.
  app.addHook('preValidation', async (request) => {
    const login = request.session.consoleLogin;
    if (!login) return;
    const now = Date.now();
    const isExpired = now - login.lastSeenMs > idleTimeoutMs || now - login.loginAtMs > absoluteTimeoutMs;
    if (isExpired || !options.admins.get(login.userName)) {
      request.log.info({ user: login.userName, isExpired }, 'console: session ended');
      request.session.consoleLogin = undefined;
      request.session.consoleExpired = true;
      return;
    }
    request.session.consoleLogin = { ...login, lastSeenMs: now };
  });

  // Every POST carries the session's CSRF token; a cross-site Origin is refused even with one.
  app.addHook('preValidation', async (request) => {
    if (request.method === 'GET' || request.method === 'HEAD') return;
    const origin = request.headers.origin;
    if (origin && origin !== 'null' && safeHost(origin) !== request.headers.host) throw new ConsoleError('CSRF', 'cross-origin POST');
    assertCsrf(request);
  });

  // The guard: only the logon pages and the stylesheet are open.
  app.addHook('preValidation', async (request, reply) => {
    if (request.session.consoleLogin || isPublic(request)) return;
    const target = request.session.consoleExpired ? '/login?expired=1' : '/login';
    request.session.consoleExpired = undefined;
    return reply.redirect(target, 303);
  });

  app.addHook('onSend', async (request, reply) => {
    if (!request.url.startsWith('/static/')) reply.header('Cache-Control', 'no-store');
  });

  app.get(`/static/console-${CONSOLE_CSS_VERSION}.css`, async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('Cache-Control', 'public, max-age=31536000, immutable').send(CONSOLE_CSS));

  const ctx: ConsoleContext = { admins: options.admins, invoke: options.invoke, failures: new FailureTracker(options.backoff), log: options.logger };
  registerLoginRoutes(app, ctx);
  registerMfaRoutes(app, ctx);
  registerAdministratorRoutes(app, ctx);
  registerInstanceRoutes(app, ctx);

  app.setNotFoundHandler(async (request, reply) =>
    sendHtml(reply, errorPage('Page not found', 'There is no such page in the Management Console.', !!request.session?.consoleLogin), 404));
  app.setErrorHandler(async (error: FastifyError | ConsoleError | Error, request, reply) => renderError(error, request, reply));
  return app;
}

function isPublic(request: FastifyRequest): boolean {
  const path = request.url.split('?')[0] ?? '';
  return PUBLIC_PATHS.has(path) || path.startsWith('/static/');
}

function safeHost(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}

/** One place for failures: expected ones get their message and status, bugs a reference only. */
function renderError(error: FastifyError | ConsoleError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const isLoggedOn = !!request.session?.consoleLogin;
  if (error instanceof ConsoleError) {
    if (error.code === 'CSRF') {
      request.log.warn({ remote: request.ip, reason: error.message }, 'console: request refused (CSRF)');
      return sendHtml(reply, errorPage('Request refused', 'The form was out of date or came from another site. Go back, reload the page and try again.', isLoggedOn), 403);
    }
    return sendHtml(reply, errorPage(error.code === 'NOT_FOUND' ? 'Not found' : 'Bad request', error.message, isLoggedOn), error.statusCode);
  }
  const statusCode = (error as FastifyError).statusCode;
  if (statusCode !== undefined && statusCode >= 400 && statusCode < 500) {
    return sendHtml(reply, errorPage('Bad request', 'The request could not be read.', isLoggedOn), statusCode);
  }
  request.log.error({ err: error }, 'console: request failed');
  return sendHtml(reply, errorPage('Something went wrong', `The console could not answer (reference ${request.id}).`, isLoggedOn), 500);
}
