/**
 * Web Access session stores. The default keeps sessions in memory, bounded (lru-cache); several
 * CASes behind one name share a Redis store (redis-session-store.ts) with the same three methods.
 * `buildWebApp` takes either a store or a factory (`WebSessionStoreFactory`) that it calls with the
 * idle lifetime it needs and a way to end the instance session of a login that expired unseen.
 */
import { LRUCache } from 'lru-cache';
import type { Session } from 'fastify';
import type { Logger } from '../../common/logger.js';

export interface WebSessionStore {
  get(sessionId: string, callback: (err: unknown, session?: Session | null) => void): void;
  set(sessionId: string, session: Session, callback: (err?: unknown) => void): void;
  destroy(sessionId: string, callback: (err?: unknown) => void): void;
}

/** The instance session behind a web login: enough to end it. */
export interface DroppedLogin { instanceId: string; token: string }

/** What `buildWebApp` hands a store it creates through a factory. */
export interface SessionStoreBinding {
  /** Keep a session this long after its last read or write (the app asks for twice its idle timeout). */
  idleTtlMs: number;
  /** A session with this login expired or was pushed out unseen: end its instance session. */
  endLogin(login: DroppedLogin): void;
  log: Logger;
}

export type ClosableSessionStore = WebSessionStore & { close?(): void | Promise<void> };
export type WebSessionStoreFactory = (binding: SessionStoreBinding) => ClosableSessionStore;

/**
 * The shared store cannot be reached or did not answer in time. Requests get the branded 503
 * "sessions unavailable" page (app.ts), never a 500 or a hang.
 */
export class SessionStoreUnavailableError extends Error {
  readonly code = 'SESSION_STORE_UNAVAILABLE';
  readonly statusCode = 503;
}

/** How often expired sessions are swept, so their instance sessions are ended soon after. */
const PURGE_INTERVAL_MS = 60_000;

export class MemorySessionStore implements WebSessionStore {
  private readonly cache: LRUCache<string, Session>;
  private readonly timer: NodeJS.Timeout;

  /**
   * `maxSessions` bounds memory: the least recently used session is dropped first. `idleTtlMs`:
   * a session not read for this long expires (every request reads it). `onDrop` hears about
   * sessions that expired or were pushed out, so their instance session can be ended too.
   */
  constructor(opts: { maxSessions?: number; idleTtlMs: number; onDrop?: (session: Session) => void }) {
    this.cache = new LRUCache<string, Session>({
      max: opts.maxSessions ?? 50_000, ttl: opts.idleTtlMs, updateAgeOnGet: true,
      dispose: (value, _key, reason) => { if (opts.onDrop && (reason === 'evict' || reason === 'expire')) opts.onDrop(value); },
    });
    this.timer = setInterval(() => this.cache.purgeStale(), PURGE_INTERVAL_MS);
    this.timer.unref();
  }

  close(): void { clearInterval(this.timer); }

  get(id: string, cb: (err: unknown, s?: Session | null) => void): void { cb(null, this.cache.get(id) ?? null); }
  set(id: string, s: Session, cb: (err?: unknown) => void): void { this.cache.set(id, s); cb(); }
  destroy(id: string, cb: (err?: unknown) => void): void { this.cache.delete(id); cb(); }
  get size(): number { return this.cache.size; }
}

/** The default factory: a memory store whose dropped logins end their instance sessions. */
export const memorySessionStore: WebSessionStoreFactory = (b) => new MemorySessionStore({
  idleTtlMs: b.idleTtlMs,
  onDrop: (session) => { const l = session.login; if (l) b.endLogin({ instanceId: l.instanceId, token: l.token }); },
});
