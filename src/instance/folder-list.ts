/**
 * A folder's messages in Web Access list order by date, sender, subject or size, either direction,
 * paged by keyset over every open store: each page is an index range scan (store-db.ts
 * LIST_ORDER_KEYS), so page 2,000 of a 100,000-message folder costs what page 1 costs.
 * The caller has checked that the session may read the folder (Reader.folderStatus).
 */
import type { ArchiveHit, FolderListPage, FolderListQuery, ListSort } from './api.js';
import type { Archive } from './archive.js';
import { InstanceError } from './errors.js';
import { LIST_ORDER_KEYS } from './store/store-db.js';
import { statement } from './store/statements.js';

export const LIST_SORTS: readonly ListSort[] = ['date', 'from', 'subject', 'size'];
const isNumeric = (s: ListSort) => s === 'date' || s === 'size';
/** Rows per call at most: a few screens; the CAS asks for one page. */
const MAX_LIST_PAGE = 500;
/** Longest sort value a cursor may carry (a subject or sender as stored; longer ones are not ours). */
const MAX_CURSOR_TEXT = 4000;
/** Keys are `<store>-<row id>`; one number orders them across stores (as archive-search.ts does). */
const STORE_KEY_FACTOR = 1e12;

interface Row { id: number; folder_id: number; uid: number; sent_date: number | null; internal_date: number; from_: string; subject: string; size: number; has_attachments: number; k: string | number }

/** Validates what came over the wire; a bad value is INVALID_ARGUMENT with the field named. */
function checkQuery(q: FolderListQuery): { sort: ListSort; descending: boolean; limit: number; after: { value: string | number; sk: number } | null } {
  if (!LIST_SORTS.includes(q.sort)) throw new InstanceError('INVALID_ARGUMENT', `sort: expected one of ${LIST_SORTS.join(', ')}`);
  if (typeof q.descending !== 'boolean') throw new InstanceError('INVALID_ARGUMENT', 'descending: expected true or false');
  const limit = q.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_PAGE) throw new InstanceError('INVALID_ARGUMENT', `limit: expected an integer from 1 to ${MAX_LIST_PAGE}`);
  let after: { value: string | number; sk: number } | null = null;
  if (q.after) {
    const m = /^(\d{1,6})-(\d{1,15})$/.exec(String(q.after.key));
    if (!m) throw new InstanceError('INVALID_ARGUMENT', 'after.key: not a key from a previous page');
    const v = q.after.value;
    const okValue = isNumeric(q.sort) ? Number.isSafeInteger(v) : typeof v === 'string' && v.length <= MAX_CURSOR_TEXT;
    if (!okValue) throw new InstanceError('INVALID_ARGUMENT', `after.value: expected ${isNumeric(q.sort) ? 'an integer' : 'a text'} from a previous page`);
    after = { value: v, sk: Number(m[1]) * STORE_KEY_FACTOR + Number(m[2]) };
  }
  return { sort: q.sort, descending: q.descending, limit, after };
}

/**
 * SQLite NOCASE order in JavaScript, to merge pages of several stores: ASCII letters folded, then
 * UTF-8 bytes (memcmp), which is what NOCASE compares.
 */
function compareNoCase(a: string, b: string): number {
  const fold = (s: string) => Buffer.from(s.replace(/[A-Z]+/g, (x) => x.toLowerCase()), 'utf8');
  return Buffer.compare(fold(a), fold(b));
}

/** One store's page: parameters @folder, and with a cursor @v (sort value) and @id (row id bound). */
export function sortedPageSql(sort: ListSort, descending: boolean, hasCursor: boolean, limit: number): string {
  const key = LIST_ORDER_KEYS[sort];
  const dir = descending ? 'DESC' : 'ASC';
  const cmp = descending ? '<' : '>';
  // `k >= v` is a range on the index; the OR breaks ties by row id (a row value would not use the expression index).
  const page = hasCursor ? ` AND ${key} ${cmp}= @v AND (${key} ${cmp} @v OR id ${cmp} @id)` : '';
  return `SELECT id, folder_id, uid, sent_date, internal_date, from_, subject, size, has_attachments, ${key} AS k FROM messages
    WHERE folder_id = @folder${page} ORDER BY ${key} ${dir}, id ${dir} LIMIT ${limit}`;
}

export function listFolderSorted(archive: Archive, folder: { id: number; path: string; messages: number }, query: FolderListQuery): FolderListPage {
  const q = checkQuery(query);
  const sql = sortedPageSql(q.sort, q.descending, q.after !== null, q.limit);
  const all: (ArchiveHit & { k: string | number; sk: number })[] = [];
  for (const store of archive.openStoresList()) {
    const params: Record<string, unknown> = { folder: folder.id };
    if (q.after) {
      const afterStore = Math.floor(q.after.sk / STORE_KEY_FACTOR);
      params.v = q.after.value;
      // Rows with the cursor's sort value continue after its key: in its own store after its row id;
      // in a store ordered after it (by key) all of them, in one ordered before it none.
      const tiesFollow = q.descending ? store.id < afterStore : store.id > afterStore;
      const letAll = q.descending ? Number.MAX_SAFE_INTEGER : 0;
      const letNone = q.descending ? 0 : Number.MAX_SAFE_INTEGER;
      params.id = afterStore === store.id ? q.after.sk % STORE_KEY_FACTOR : tiesFollow ? letAll : letNone;
    }
    for (const r of statement(store.db, sql).all(params) as Row[]) {
      all.push({
        key: `${store.id}-${r.id}`, sk: store.id * STORE_KEY_FACTOR + r.id, k: r.k, folderId: r.folder_id, folderPath: folder.path, uid: r.uid,
        date: r.sent_date ?? r.internal_date, from: r.from_, subject: r.subject, size: r.size, hasAttachments: r.has_attachments === 1,
      });
    }
  }
  const sign = q.descending ? -1 : 1;
  all.sort((a, b) => sign * ((typeof a.k === 'number' ? (a.k as number) - (b.k as number) : compareNoCase(a.k as string, String(b.k))) || a.sk - b.sk));
  const rows = all.slice(0, q.limit);
  const last = rows[rows.length - 1];
  return {
    rows: rows.map(({ k: _k, sk: _sk, ...hit }) => hit),
    total: folder.messages,
    next: rows.length === q.limit && last ? { value: last.k, key: last.key } : null,
  };
}
