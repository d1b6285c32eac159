/**
 * HTTP Basic authentication of the Management API (RFC 7617), as SPE does it.
 *
 * A request without credentials gets `401` and a `WWW-Authenticate: Basic realm=...` challenge and
 * is not counted as a failure: mssapi (urllib's HTTPBasicAuthHandler) and the PowerShell library
 * (.NET `Credentials`) send credentials only after that challenge. Wrong credentials get 401 too.
 *
 * Repeated failures from one address, or for one user name, slow the next attempts down (the
 * delay doubles per failure up to a bound) and are logged with address and user name, never the
 * password. A success clears the count for that address and user.
 *
 * A user name containing ':' cannot be carried: Basic auth joins `user:password` and the receiver
 * splits at the first colon, so `a:b` with password `c` arrives as user `a`, password `b:c`. SPE
 * documents the same limit ("Your MFA Settings"); Coffer refuses such names for system
 * administrators at creation.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { LRUCache } from 'lru-cache';

export const DEFAULT_REALM = 'MailStore Service Provider Edition Management API';

export interface Credentials {
  readonly user: string;
  readonly password: string;
}

export interface BackoffOptions {
  /** Delay before the attempt that follows the first failure; doubles with each further one. */
  readonly baseDelayMs?: number;
  /** Bound on the delay, so a locked-out operator waits seconds, not hours. */
  readonly maxDelayMs?: number;
  /** Failures older than this are forgotten. */
  readonly forgetAfterMs?: number;
  /** Bound on remembered addresses and user names (memory under a spray of names). */
  readonly maxTracked?: number;
}

const BACKOFF_DEFAULTS: Required<BackoffOptions> = {
  baseDelayMs: 250,
  maxDelayMs: 8_000,
  forgetAfterMs: 15 * 60_000,
  maxTracked: 10_000,
};

/** Credentials from an Authorization header; null when absent or not Basic; 'malformed' otherwise. */
export function parseBasicAuthorization(header: string | undefined): Credentials | null | 'malformed' {
  if (!header) return null;
  const match = /^Basic[ \t]+([A-Za-z0-9+/=_-]*)[ \t]*$/i.exec(header);
  if (!match) return /^Basic\b/i.test(header) ? 'malformed' : null;
  const decoded = Buffer.from(match[1] ?? '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return 'malformed';
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Counts failures per address and per user name and says how long the next attempt waits. */
export class FailureTracker {
  readonly #options: Required<BackoffOptions>;
  readonly #byAddress: LRUCache<string, number>;
  readonly #byUser: LRUCache<string, number>;
  /** Attempts in progress per `a:<address>` / `u:<user>`; bounded by open connections. */
  readonly #waiting = new Map<string, number>();

  constructor(options: BackoffOptions = {}) {
    this.#options = { ...BACKOFF_DEFAULTS, ...options };
    const cacheOptions = { max: this.#options.maxTracked, ttl: this.#options.forgetAfterMs };
    this.#byAddress = new LRUCache<string, number>(cacheOptions);
    this.#byUser = new LRUCache<string, number>(cacheOptions);
  }

  failuresFor(address: string, user: string): number {
    return Math.max(this.#byAddress.get(address) ?? 0, this.#byUser.get(userKey(user)) ?? 0);
  }

  /**
   * How long the next attempt waits. Attempts already waiting for the same address or user count
   * as failures-to-be, so firing many guesses in parallel does not dodge the growing delay.
   */
  delayMsFor(address: string, user: string): number {
    const failures = this.failuresFor(address, user);
    if (failures === 0) return 0;
    const waiting = Math.max(this.#waiting.get(`a:${address}`) ?? 0, this.#waiting.get(`u:${userKey(user)}`) ?? 0);
    const exponent = Math.min(failures - 1 + waiting, 30);
    return Math.min(this.#options.baseDelayMs * 2 ** exponent, this.#options.maxDelayMs);
  }

  /** Marks an attempt as in progress until the returned function is called. */
  beginAttempt(address: string, user: string): () => void {
    const keys = [`a:${address}`, `u:${userKey(user)}`];
    for (const key of keys) this.#waiting.set(key, (this.#waiting.get(key) ?? 0) + 1);
    return () => {
      for (const key of keys) {
        const count = (this.#waiting.get(key) ?? 1) - 1;
        if (count <= 0) this.#waiting.delete(key);
        else this.#waiting.set(key, count);
      }
    };
  }

  recordFailure(address: string, user: string): number {
    const byAddress = (this.#byAddress.get(address) ?? 0) + 1;
    const byUser = (this.#byUser.get(userKey(user)) ?? 0) + 1;
    this.#byAddress.set(address, byAddress);
    this.#byUser.set(userKey(user), byUser);
    return Math.max(byAddress, byUser);
  }

  recordSuccess(address: string, user: string): void {
    this.#byAddress.delete(address);
    this.#byUser.delete(userKey(user));
  }
}

function userKey(user: string): string {
  return user.toLowerCase();
}

export interface BasicAuthOptions<A> {
  authenticate(user: string, password: string, remote: string): Promise<A | null>;
  readonly realm?: string;
  readonly backoff?: BackoffOptions;
}

/**
 * An onRequest hook: authenticated requests get their admin stored via `remember`; all others
 * are answered 401 here and never reach body parsing or a handler.
 */
export function createBasicAuthHook<A>(options: BasicAuthOptions<A>, remember: (request: FastifyRequest, admin: A) => void) {
  const tracker = new FailureTracker(options.backoff);
  const challenge = `Basic realm="${(options.realm ?? DEFAULT_REALM).replace(/["\\]/g, '')}", charset="UTF-8"`;

  const refuse = (reply: FastifyReply, message: string) =>
    reply.code(401).header('WWW-Authenticate', challenge).header('Content-Type', 'text/plain; charset=utf-8').send(message);

  const hook = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const credentials = parseBasicAuthorization(request.headers.authorization);
    if (credentials === null) {
      await refuse(reply, 'Authentication required.\n');
      return reply;
    }
    const remote = request.ip;
    if (credentials === 'malformed') {
      const failures = tracker.recordFailure(remote, '');
      request.log.warn({ remote, failures }, 'management API: malformed Basic credentials');
      await refuse(reply, 'Authentication failed.\n');
      return reply;
    }
    const delayMs = tracker.delayMsFor(remote, credentials.user);
    const endAttempt = tracker.beginAttempt(remote, credentials.user);
    let admin: A | null;
    try {
      if (delayMs > 0) await sleep(delayMs);
      admin = await options.authenticate(credentials.user, credentials.password, remote);
    } catch (error) {
      // A broken credential store must not look like a wrong password, nor leak its details.
      request.log.error({ err: error, remote, user: credentials.user }, 'management API: authenticate threw');
      admin = null;
    } finally {
      endAttempt();
    }
    if (admin === null) {
      const failures = tracker.recordFailure(remote, credentials.user);
      request.log.warn({ remote, user: credentials.user, failures, delayMs }, 'management API: authentication failed');
      await refuse(reply, 'Authentication failed.\n');
      return reply;
    }
    tracker.recordSuccess(remote, credentials.user);
    remember(request, admin);
  };
  return { hook, tracker };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
