/**
 * Row ids and UIDs of one folder in one store, ascending by id, kept between searches. A SEARCH
 * that the full-text index answers exactly (BODY or TEXT of one word) yields row ids of the whole
 * store; matching them to the folder here costs a merge, where SQL (`id IN (SELECT rowid ...)`
 * tested against every row of the folder) took about twice the index lookup itself.
 *
 * Message rows are only ever added to an open store (a recovered store is a new object), so a
 * store whose database changed adds the rows above the highest id known; ids grow with every
 * insert.
 */
import { LRUCache } from 'lru-cache';
import type { ArchiveStore } from '../store/store.js';
import { statement } from '../store/statements.js';

interface FolderIds { changes: number; ids: number[]; uids: number[] }

/** Two numbers a message: 32 MB is two million messages of searched folders. */
const REMEMBERED_BYTES = 32 * 1024 * 1024;
/** Larger folders are matched in SQL: reading their ids at every search would cost more. */
export const MAX_REMEMBERED_FOLDER = 1_000_000;
const remembered = new LRUCache<string, FolderIds>({ maxSize: REMEMBERED_BYTES, sizeCalculation: (e) => 64 + e.ids.length * 16 });
function folderIds(store: ArchiveStore, folderId: number): FolderIds {
  // A store reopened (recovered) has a new generation and starts with nothing remembered.
  const key = `${store.generation}:${folderId}`;
  const changes = store.writes();
  let entry = remembered.get(key);
  if (entry && entry.changes === changes) return entry;
  const above = entry && entry.ids.length > 0 ? entry.ids[entry.ids.length - 1]! : 0;
  // Two plucked columns in the same (UID) order: rows as arrays cost twice as much at 100,000.
  const newIds = statement(store.db, 'SELECT id FROM messages WHERE folder_id = ? AND id > ? ORDER BY uid', 'pluck').all(folderId, above) as number[];
  const newUids = statement(store.db, 'SELECT uid FROM messages WHERE folder_id = ? AND id > ? ORDER BY uid', 'pluck').all(folderId, above) as number[];
  const order = newIds.map((_, i) => i);
  // Ids grow with UIDs when mail is archived in order; a recovered store may differ.
  if (!newIds.every((id, i) => i === 0 || newIds[i - 1]! < id)) order.sort((a, b) => newIds[a]! - newIds[b]!);
  entry ??= { changes, ids: [], uids: [] };
  for (const i of order) { entry.ids.push(newIds[i]!); entry.uids.push(newUids[i]!); }
  entry.changes = changes;
  remembered.set(key, entry); // again: its size has grown
  return entry;
}

/** UIDs of the folder's messages among `rowIds` (any order), up to row id `upTo` when it is set. */
export function uidsOfRows(store: ArchiveStore, folderId: number, rowIds: number[], upTo: number | null): number[] {
  const { ids, uids } = folderIds(store, folderId);
  const sorted = rowIds.every((id, i) => i === 0 || rowIds[i - 1]! < id) ? rowIds : [...rowIds].sort((a, b) => a - b);
  const out: number[] = [];
  let k = 0;
  for (const id of sorted) {
    if (upTo !== null && id > upTo) break;
    while (k < ids.length && ids[k]! < id) k++;
    if (k === ids.length) break;
    if (ids[k] === id) out.push(uids[k]!);
  }
  return out;
}
