/** Request-scoped state of Web Access: the instance, the login, the language, CSRF tokens. */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { InstanceClient } from '../../instance/client.js';
import type { GlobalPrivilege } from '../../instance/api.js';
import type { Locale } from './i18n.js';
import { translator } from './i18n.js';
import type { PageContext } from './views/layout.js';
import type { BrandingStore } from './branding.js';
import { WebError } from './errors.js';

/** The login of one browser session to one instance. */
export interface WebLogin {
  instanceId: string;
  /** Instance session token from `authenticate`. */
  token: string;
  userName: string;
  fullName: string;
  isAdmin: boolean;
  privileges: GlobalPrivilege[];
  emailAddress: string | null;
  loginAtMs: number;
  lastSeenMs: number;
  /** The instance requires MFA and the user has none yet: only the enrolment pages are open. */
  mfaEnrolmentRequired?: boolean;
}

declare module 'fastify' {
  interface Session {
    csrf?: string;
    /** Step 1 of the login done: the user name waiting for its password. */
    pendingLogin?: { instanceId: string; user: string; needTotp?: boolean };
    login?: WebLogin;
    /** Flash message key for the next page (e.g. after an expired session). */
    notice?: string;
    /** TOTP secret being enrolled, until the user confirms it with a code. */
    mfaPending?: string;
  }
  interface FastifyRequest {
    locale: Locale;
    /** Set for routes under `/<instance>/`. */
    instance?: { id: string; urlName: string; client: InstanceClient };
  }
}

export function base(request: FastifyRequest): string {
  return request.instance ? `/${encodeURIComponent(request.instance.urlName)}` : '';
}

export function csrfToken(request: FastifyRequest): string {
  if (!request.session.csrf) request.session.csrf = randomBytes(24).toString('base64url');
  return request.session.csrf;
}

export function checkCsrf(request: FastifyRequest, sent: unknown): void {
  const expected = request.session.csrf;
  if (typeof sent !== 'string' || !expected) throw new WebError('CSRF');
  const a = Buffer.from(sent), b = Buffer.from(expected);
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw new WebError('CSRF');
}

export function pageContext(request: FastifyRequest, branding: BrandingStore, assetVersion: string, extra: Partial<PageContext> = {}): PageContext {
  const login = currentLogin(request);
  return {
    t: translator(request.locale),
    locale: request.locale,
    branding: branding.current,
    assetVersion,
    path: request.url,
    base: request.instance ? base(request) : undefined,
    user: login ? { userName: login.userName, fullName: login.fullName } : undefined,
    csrf: login ? csrfToken(request) : undefined,
    ...extra,
  };
}

/** The login for the instance of this request, or undefined. Timeouts are checked in the auth hook. */
export function currentLogin(request: FastifyRequest): WebLogin | undefined {
  const l = request.session?.login;
  return l && request.instance && l.instanceId === request.instance.id ? l : undefined;
}

export function requireLogin(request: FastifyRequest): WebLogin {
  const l = currentLogin(request);
  if (!l) throw new WebError('LOGIN_REQUIRED');
  return l;
}

export function requirePrivilege(login: WebLogin, p: GlobalPrivilege): void {
  if (!login.isAdmin && !login.privileges.includes(p)) throw new WebError('FORBIDDEN');
}

export function sendPage(reply: FastifyReply, markup: { toString(): string }, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(markup.toString());
}
