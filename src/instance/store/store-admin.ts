/**
 * The rest of the archive-store functions of the Function Reference: MergeStore,
 * RecreateRecoveryRecords, RepairStoreDatabase, UpgradeStore, MaintainFileSystemDatabases, and
 * MoveFolder (folder paths live in the instance database; recovery records get a rename record so
 * RecoverStore restores the new names).
 */
import type { Archive } from '../archive.js';
import { InstanceError } from '../errors.js';
import { normalizeFolderPath } from '../instance-db.js';
import { MESSAGE_COLUMNS, rowToMessage, type ArchiveStore, type NewMessageRow } from './store.js';
import { indexRows, type Progress } from './maintenance.js';
import { storedRuns } from '../prepare.js';

function checkAbort(signal?: AbortSignal): void {
  if (signal?.aborted) throw new InstanceError('CANCELLED', 'cancelled by request');
}

/** Writes a recovery record for every message of the store (they are appended; older ones stay). */
export function recreateRecoveryRecords(archive: Archive, store: ArchiveStore, progress: Progress, signal?: AbortSignal): { records: number } {
  const rows = store.db.prepare(`SELECT ${MESSAGE_COLUMNS} FROM messages`).all() as Parameters<typeof rowToMessage>[0][];
  let n = 0;
  for (const r of rows) {
    const m = rowToMessage(r);
    const f = archive.folders.get(m.folderId);
    if (!f) continue;
    store.addRecovery({ kind: 'message', sha256: m.sha256, folder: f.path, uid: m.uid, flags: m.flags, internalDate: m.internalDate, archivedAt: Date.now(), uidValidity: f.uid_validity });
    if (++n % 1000 === 0) { checkAbort(signal); progress(Math.round((n / rows.length) * 100), `${n} of ${rows.length} records`); }
  }
  store.content.flush();
  return { records: n };
}

/** Integrity check of both databases, then rebuilt SQL indexes; a damaged database is reported for RecoverStore. */
export function repairStoreDatabase(store: ArchiveStore): { ok: boolean; problems: string[] } {
  const problems: string[] = [];
  store.drainIndex();
  for (const [name, db] of [['metadata', store.db], ['index', store.index]] as const) {
    const rows = db.pragma('integrity_check') as { integrity_check: string }[];
    for (const r of rows) if (r.integrity_check !== 'ok') problems.push(`${name} database: ${r.integrity_check}`);
  }
  store.db.exec('REINDEX');
  store.index.exec(`INSERT INTO fts (fts) VALUES ('integrity-check')`);
  if (problems.length) problems.push('disable the store and run RecoverStore to rebuild it from its content');
  return { ok: problems.length === 0, problems };
}

/** Compacts every store's databases and full-text index (VACUUM, ANALYZE, FTS optimize). */
export function maintainDatabases(archive: Archive, progress: Progress, signal?: AbortSignal): { stores: number } {
  const stores = archive.openStoresList();
  stores.forEach((s, i) => {
    checkAbort(signal);
    s.drainIndex();
    s.index.exec(`INSERT INTO fts (fts) VALUES ('optimize')`);
    s.checkpoint();
    s.db.exec('VACUUM; ANALYZE');
    s.index.exec('VACUUM');
    progress(Math.round(((i + 1) / stores.length) * 100), `store ${s.id} done`);
  });
  archive.db.exec('ANALYZE');
  return { stores: stores.length };
}

/** Moves every message of `source` into `target` (content, rows, index, recovery records), then detaches `source`. */
export async function mergeStore(archive: Archive, targetId: number, sourceId: number, progress: Progress, signal?: AbortSignal): Promise<{ messages: number }> {
  if (targetId === sourceId) throw new InstanceError('INVALID_ARGUMENT', 'sourceId: must differ from id');
  const target = archive.store(targetId);
  const source = archive.store(sourceId);
  const targetRow = archive.storeRows().find((r) => r.id === targetId)!;
  if (targetRow.requested_state === 'writeProtected') throw new InstanceError('INVALID_STATE', `archive store ${targetId} is write-protected`);
  const rows = source.db.prepare(`SELECT ${MESSAGE_COLUMNS}, imap FROM messages ORDER BY id`).all() as (Parameters<typeof rowToMessage>[0] & { imap: Buffer })[];
  let moved = 0;
  for (let i = 0; i < rows.length; i += 500) {
    checkAbort(signal);
    const blobs: ReturnType<ArchiveStore['addBlob']>[] = [];
    const added = new Set<string>();
    const batch: NewMessageRow[] = [];
    for (const r of rows.slice(i, i + 500)) {
      const m = rowToMessage(r);
      const f = archive.folders.get(m.folderId);
      if (!f) continue;
      if (!target.hasBlob(m.sha256) && !added.has(m.sha256)) {
        const raw = Buffer.from(source.readRaw(m.sha256));
        blobs.push(target.addBlob(m.sha256, raw, storedRuns(raw)));
        added.add(m.sha256);
      }
      target.addRecovery({ kind: 'message', sha256: m.sha256, folder: f.path, uid: m.uid, flags: m.flags, internalDate: m.internalDate, archivedAt: Date.now(), uidValidity: f.uid_validity });
      // The index keeps no text of its own (contentless): merged rows are indexed again from content.
      batch.push({ ...m, imap: r.imap, folderPath: f.path, uidValidity: f.uid_validity, fts: { subject: '', addresses: '', body: '', attachmentNames: '', attachmentText: '', headers: '' } });
    }
    const ids = target.commitBatch(blobs, batch);
    await indexRows(target, ids);
    moved += batch.length;
    progress(Math.round((moved / Math.max(1, rows.length)) * 95), `merged ${moved} of ${rows.length} messages`);
  }
  archive.detachStoreForMerge(sourceId, targetId);
  progress(100, `merged ${moved} messages`);
  return { messages: moved };
}


/** Renames a folder and its sub-folders; UIDs, UIDVALIDITY and messages stay. */
export function moveFolder(archive: Archive, from: string, to: string): { moved: number } {
  const src = normalizeFolderPath(from);
  const dst = normalizeFolderPath(to);
  if (!src || !dst) throw new InstanceError('INVALID_ARGUMENT', 'fromFolder and toFolder must name folders');
  const folder = archive.folders.find(src);
  if (!folder) throw new InstanceError('NOT_FOUND', `folder ${JSON.stringify(src)} does not exist`);
  if (dst === src || dst.startsWith(`${src}/`)) throw new InstanceError('INVALID_ARGUMENT', 'toFolder: a folder cannot move into itself');
  if (archive.folders.find(dst)) throw new InstanceError('ALREADY_EXISTS', `folder ${JSON.stringify(dst)} already exists`);
  if (!dst.includes('/')) throw new InstanceError('INVALID_ARGUMENT', 'toFolder: top-level folders are user archives; move into a user archive');
  const parentPath = dst.split('/').slice(0, -1).join('/');
  const parent = archive.folders.ensure(parentPath);
  const affected = archive.folders.all().filter((f) => f.path === src || f.path.startsWith(`${src}/`));
  archive.db.transaction(() => {
    for (const f of affected) archive.db.prepare('UPDATE folders SET path = ? WHERE id = ?').run(dst + f.path.slice(src.length), f.id);
    archive.db.prepare('UPDATE folders SET parent_id = ? WHERE id = ?').run(parent.id, folder.id);
  })();
  // Recovery records name folders by path: a rename record keeps RecoverStore in step.
  for (const s of archive.openStoresList()) { s.addRecovery({ kind: 'rename', sha256: '', folder: src, to: dst, uid: 0 }); s.content.flush(); }
  return { moved: affected.length };
}
