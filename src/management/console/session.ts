/**
 * Console sessions: what a session holds, the in-memory store, CSRF tokens and the login guard.
 *
 * Field names carry a `console` prefix because fastify's `Session` interface is one per program
 * and Web Access (`src/cas/web/context.ts`) declares its own fields there.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, Session } from 'fastify';
import type {} from '@fastify/session'; // its declaration of request.session
import { LRUCache } from 'lru-cache';
import { ConsoleError } from './errors.js';

/** A finished login. */
export interface ConsoleLogin {
  readonly userName: string;
  readonly loginAtMs: number;
  readonly lastSeenMs: number;
}

/** The password was right; the TOTP code (`code`) or the MFA enrolment (`enrol`) is still due. */
export interface ConsolePendingLogin {
  readonly userName: string;
  readonly step: 'code' | 'enrol';
  readonly sinceMs: number;
  readonly wrongCodes: number;
}

/** One message for the next page (Post/Redirect/Get). */
export interface ConsoleFlash {
  readonly kind: 'ok' | 'error';
  readonly text: string;
}

declare module 'fastify' {
  interface Session {
    consoleCsrf?: string;
    consoleLogin?: ConsoleLogin;
    consolePending?: ConsolePendingLogin;
    consoleFlash?: ConsoleFlash;
    /** The last login ended by a timeout: the login page says so once. */
    consoleExpired?: boolean;
  }
}

/**
 * Bounds memory: the least recently used session goes first. Sessions of finished logons are kept
 * apart from anonymous ones (a logon page visit stores its CSRF token), so a flood of logon page
 * requests can evict only other anonymous sessions, never an administrator's.
 */
const DEFAULT_MAX_SESSIONS_EACH = 10_000;

export class ConsoleSessionStore {
  readonly #loggedOn: LRUCache<string, Session>;
  readonly #anonymous: LRUCache<string, Session>;

  constructor(ttlMs: number, maxSessionsEach = DEFAULT_MAX_SESSIONS_EACH) {
    this.#loggedOn = new LRUCache<string, Session>({ max: maxSessionsEach, ttl: ttlMs });
    this.#anonymous = new LRUCache<string, Session>({ max: maxSessionsEach, ttl: ttlMs });
  }

  get(id: string, callback: (error: unknown, session?: Session | null) => void): void {
    callback(null, this.#loggedOn.get(id) ?? this.#anonymous.get(id) ?? null);
  }

  set(id: string, session: Session, callback: (error?: unknown) => void): void {
    const [home, other] = session.consoleLogin ? [this.#loggedOn, this.#anonymous] : [this.#anonymous, this.#loggedOn];
    other.delete(id);
    home.set(id, session);
    callback();
  }

  destroy(id: string, callback: (error?: unknown) => void): void {
    this.#loggedOn.delete(id);
    this.#anonymous.delete(id);
    callback();
  }
}

export function csrfToken(request: FastifyRequest): string {
  if (!request.session.consoleCsrf) request.session.consoleCsrf = randomBytes(24).toString('base64url');
  return request.session.consoleCsrf;
}

export function assertCsrf(request: FastifyRequest): void {
  const expected = request.session.consoleCsrf;
  const sent = (request.body as Record<string, unknown> | undefined)?._csrf;
  if (typeof sent !== 'string' || !expected) throw new ConsoleError('CSRF', 'missing CSRF token');
  const a = Buffer.from(sent);
  const b = Buffer.from(expected);
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw new ConsoleError('CSRF', 'wrong CSRF token');
}

export function takeFlash(request: FastifyRequest): ConsoleFlash | undefined {
  const flash = request.session.consoleFlash;
  if (flash) request.session.consoleFlash = undefined;
  return flash;
}

export function redirectWith(request: FastifyRequest, reply: FastifyReply, to: string, flash?: ConsoleFlash): FastifyReply {
  if (flash) request.session.consoleFlash = flash;
  return reply.redirect(to, 303);
}

/** The logged-on administrator's name; the guard of the authenticated routes guarantees it. */
export function currentUserName(request: FastifyRequest): string {
  const login = request.session.consoleLogin;
  if (!login) throw new Error('console: authenticated route reached without a login');
  return login.userName;
}
