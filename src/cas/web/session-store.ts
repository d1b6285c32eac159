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
