/**
 * Decoded IMAP metadata (ENVELOPE, BODYSTRUCTURE, MIME offsets) of recently read messages.
 * Each row's metadata is brotli-compressed on disk, and opening a decompressor costs ~20 µs, more
 * than everything else a header sync does per message; clients re-sync the same folders often
 * (every reconnect, every device), so the decoded form is kept, bounded by bytes.
 * Keys carry the store object's generation: a store that is reopened (recovered, re-attached)
 * starts with no entries, and message ids are never reused inside one open store.
 */
import { LRUCache } from 'lru-cache';
import type { ArchiveStore } from './store/store.js';
import type { ImapMeta } from './prepare.js';

/** Budget of the cache; about 30,000 typical messages. */
export const META_CACHE_BYTES = 64 * 1024 * 1024;

interface Entry { meta: ImapMeta; size: number }

export class MetaCache {
  private readonly lru: LRUCache<string, Entry>;

  constructor(maxBytes = META_CACHE_BYTES) {
    this.lru = new LRUCache<string, Entry>({ maxSize: maxBytes, sizeCalculation: (e) => e.size });
  }

  /** The cached metadata of a message row, or what `load` decodes (its JSON length in bytes beside it). */
  get(store: ArchiveStore, id: number, load: () => { meta: ImapMeta; bytes: number }): ImapMeta {
    const key = `${store.generation}:${id}`;
    const hit = this.lru.get(key);
    if (hit) return hit.meta;
    const { meta, bytes } = load();
    // V8 strings take up to two bytes a character, plus object overhead.
    this.lru.set(key, { meta, size: bytes * 2 + 200 });
    return meta;
  }

  clear(): void { this.lru.clear(); }
}
