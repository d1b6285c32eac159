/**
 * What IMAP FETCH reads of every message (row id, UID, MODSEQ, flags, INTERNALDATE, size and
 * where the content is), remembered by pages of 256 UIDs of a folder. A client that downloads a
 * folder asks for the same rows twice (metadata, then bodies) and every later device or
 * re-sync asks again; without the pages each ask was an SQL range scan joined to the blob map,
 * half of the instance's work for a warm download of small messages.
 *
 * A page is valid while nothing was written: the owner clears all pages when the instance
 * database changes (Reader), and `pagesFor` clears them when any open store's database has
 * changed (ingest, CompactStore moving blobs) or the set of open stores is another.
 * Pages hold numbers in typed arrays, about 100 bytes a message.
 */
import { LRUCache } from 'lru-cache';
import type { ArchiveStore } from './store/store.js';
import type { BlobLocation } from './store/content-pack.js';
import { statement, uidRuns } from './store/statements.js';

export const PAGE_UIDS = 256;
/** 1,024 pages: up to 262,144 messages, about 25 MB. */
const MAX_PAGES = 1024;
/**
 * A request that wants fewer UIDs of a page not remembered yet reads just those rows and keeps
 * nothing: a scattered FETCH (the hits of a SEARCH) would otherwise read 256 rows for each.
 */
const MIN_UIDS_TO_READ_PAGE = 16;

/** The rows of one folder whose UIDs fall in [first, first + PAGE_UIDS). */
export class FolderPage {
  /** Row index by `uid - first`, -1 where the folder has no such UID. */
  private readonly slot = new Int16Array(PAGE_UIDS).fill(-1);
  readonly length: number;
  readonly id: Float64Array;
  readonly modseq: Float64Array;
  readonly internalDate: Float64Array;
  readonly size: Float64Array;
  readonly flags: string[];
  readonly store: ArchiveStore[];
  /**
   * pack, offset, length, start, rawSize per row, read when content is first asked for: a header
   * sync needs none of it, and the join to the blob map is most of a cold page's cost.
   */
  private loc: Float64Array | null = null;

  /**
   * `ranges`: the UID ranges the rows were read for (the whole page, or the few UIDs a scattered
   * request wanted); locations are read for the same ranges.
   */
  constructor(private readonly folderId: number, readonly first: number, private readonly ranges: readonly [number, number][], rows: { store: ArchiveStore; r: unknown[] }[]) {
    const n = rows.length;
    this.length = n;
    this.id = new Float64Array(n);
    this.modseq = new Float64Array(n);
    this.internalDate = new Float64Array(n);
    this.size = new Float64Array(n);
    this.flags = new Array<string>(n);
    this.store = new Array<ArchiveStore>(n);
    rows.forEach(({ store, r }, i) => {
      const [id, uid, modseq, internalDate, size, flags] = r as [number, number, number, number, number, string];
      this.slot[uid - first] = i;
      this.id[i] = id;
      this.modseq[i] = modseq;
      this.internalDate[i] = internalDate;
      this.size[i] = size;
      this.flags[i] = flags;
      this.store[i] = store;
    });
  }

  /** The row of `uid`, or -1. */
  rowOf(uid: number): number {
    const k = uid - this.first;
    return k >= 0 && k < PAGE_UIDS ? this.slot[k]! : -1;
  }

  location(i: number): BlobLocation {
    const l = this.loc ?? this.loadLocations();
    const at = i * 5;
    return { pack: l[at]!, offset: l[at + 1]!, length: l[at + 2]!, start: l[at + 3]!, rawSize: l[at + 4]! };
  }

  private loadLocations(): Float64Array {
    const loc = new Float64Array(this.length * 5);
    for (const store of new Set(this.store)) {
      for (const [a, b] of this.ranges) {
        for (const r of statement(store.db, LOCATION_SQL, 'raw').all(this.folderId, a, b) as number[][]) {
          const i = this.rowOf(r[0]!);
          // Only rows of this store: a UID lives in one store, and a row another store holds keeps its own.
          if (i >= 0 && this.store[i] === store) loc.set(r.slice(1, 6), i * 5);
        }
      }
    }
    this.loc = loc;
    return loc;
  }
}

/** The covering index messages_folder_sync answers this without reading table rows. */
const PAGE_SQL = 'SELECT id, uid, modseq, internal_date, size, flags FROM messages WHERE folder_id = ? AND uid BETWEEN ? AND ?';
const LOCATION_SQL = `SELECT m.uid, b.pack, b.offset, b.length, b.start, b.raw_size
  FROM messages m JOIN blobs b ON b.sha256 = m.sha256 WHERE m.folder_id = ? AND m.uid BETWEEN ? AND ?`;

export class FolderPages {
  private readonly pages = new LRUCache<string, FolderPage>({ max: MAX_PAGES });
  private stores: ArchiveStore[] = [];
  private changes: number[] = [];

  clear(): void { this.pages.clear(); }

  /**
   * A lookup for the given UIDs of a folder, reading the pages it lacks. `stores` are the open
   * stores (every one may hold messages of the folder).
   */
  pagesFor(stores: ArchiveStore[], folderId: number, uids: Iterable<number>): (uid: number) => { page: FolderPage; row: number } | null {
    this.dropIfChanged(stores);
    const wanted = new Map<number, number[]>();
    for (const uid of uids) {
      if (!Number.isSafeInteger(uid) || uid <= 0) continue;
      const first = uid - (uid % PAGE_UIDS);
      const list = wanted.get(first);
      if (list) list.push(uid);
      else wanted.set(first, [uid]);
    }
    const byFirst = new Map<number, FolderPage>();
    for (const [first, list] of wanted) {
      const key = `${folderId}:${first}`;
      let page = this.pages.get(key);
      if (!page && list.length < MIN_UIDS_TO_READ_PAGE) page = this.load(stores, folderId, first, uidRuns(list));
      else if (!page) {
        page = this.load(stores, folderId, first, [[first, first + PAGE_UIDS - 1]]);
        this.pages.set(key, page);
      }
      byFirst.set(first, page);
    }
    return (uid) => {
      const page = byFirst.get(uid - (uid % PAGE_UIDS));
      if (!page) return null;
      const row = page.rowOf(uid);
      return row < 0 ? null : { page, row };
    };
  }

  private load(stores: ArchiveStore[], folderId: number, first: number, ranges: [number, number][]): FolderPage {
    const rows: { store: ArchiveStore; r: unknown[] }[] = [];
    for (const store of stores) {
      for (const [a, b] of ranges) {
        for (const r of statement(store.db, PAGE_SQL, 'raw').all(folderId, a, b) as unknown[][]) rows.push({ store, r });
      }
    }
    return new FolderPage(folderId, first, ranges, rows);
  }

  /** Forgets every page when a store was written (by this process: the stores' only writer) or the open stores changed. */
  private dropIfChanged(stores: ArchiveStore[]): void {
    const changes = stores.map((s) => s.writes());
    const same = stores.length === this.stores.length && stores.every((s, i) => s === this.stores[i] && changes[i] === this.changes[i]);
    if (same) return;
    this.pages.clear();
    this.stores = stores;
    this.changes = changes;
  }
}
