/**
 * Default session store: in memory, bounded (lru-cache), entries expire after the absolute
 * session lifetime. Several CASes behind one name need a shared store (Redis) with the same
 * three methods; pass it as `sessionStore` to `buildWebApp`.
 */
import { LRUCache } from 'lru-cache';
import type { Session } from 'fastify';

export interface WebSessionStore {
  get(sessionId: string, callback: (err: unknown, session?: Session | null) => void): void;
  set(sessionId: string, session: Session, callback: (err?: unknown) => void): void;
  destroy(sessionId: string, callback: (err?: unknown) => void): void;
}

export class MemorySessionStore implements WebSessionStore {
  private readonly cache: LRUCache<string, Session>;

  /** `maxSessions` bounds memory: the least recently used session is dropped first. */
  constructor(opts: { maxSessions?: number; ttlMs: number }) {
    this.cache = new LRUCache<string, Session>({ max: opts.maxSessions ?? 50_000, ttl: opts.ttlMs, updateAgeOnGet: false });
  }

  get(id: string, cb: (err: unknown, s?: Session | null) => void): void { cb(null, this.cache.get(id) ?? null); }
  set(id: string, s: Session, cb: (err?: unknown) => void): void { this.cache.set(id, s); cb(); }
  destroy(id: string, cb: (err?: unknown) => void): void { this.cache.delete(id); cb(); }
  get size(): number { return this.cache.size; }
}
