/**
 * One archive store: metadata database, content area and full-text index (DESIGN.md §2).
 * Stores are self-contained (single-instance storage by SHA-256 within the store), so they can
 * be detached, moved and attached again.
 */
import { existsSync, rmSync, statSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { ContentArea, type Base64Run, type BlobLocation, type CompressedBlock, type RecoveryRecord } from './content-pack.js';
import { INSERT_FTS_SQL, openIndexDb, openStoreDb, type Db } from './store-db.js';
import { IndexWriter, type IndexRow } from './index-writer.js';
import type { SharedRun } from './shared-runs.js';
import type { Logger } from '../../common/logger.js';
import { statement } from './statements.js';

export type StoreState = 'current' | 'normal' | 'writeProtected' | 'disabled';
export const STORE_STATES: readonly StoreState[] = ['current', 'normal', 'writeProtected', 'disabled'];

export interface StorePaths { databasePath: string; contentPath: string; indexPath: string }

/** A message row as the store keeps it. */
export interface StoredMessage {
  id: number;
  folderId: number;
  uid: number;
  modseq: number;
  sha256: string;
  flags: string[];
  internalDate: number;
  size: number;
  sentDate: number | null;
  /** Minutes east of UTC of the Date: header. */
  sentZone: number;
  subject: string;
  from: string;
  messageId: string | null;
  hasAttachments: boolean;
}

/** What ingest hands the store for one new message row. */
export interface NewMessageRow extends Omit<StoredMessage, 'id'> {
  imap: Buffer;
  folderPath: string;
  uidValidity: number;
  fts: { subject: string; addresses: string; body: string; attachmentNames: string; attachmentText: string; headers: string };
}

interface MessageDbRow {
  id: number; folder_id: number; uid: number; modseq: number; sha256: string; flags: string; internal_date: number; size: number;
  sent_date: number | null; sent_zone: number; subject: string; from_: string; message_id: string | null; has_attachments: number;
}

export function rowToMessage(r: MessageDbRow): StoredMessage {
  return {
    id: r.id, folderId: r.folder_id, uid: r.uid, modseq: r.modseq, sha256: r.sha256, flags: JSON.parse(r.flags) as string[],
    internalDate: r.internal_date, size: r.size, sentDate: r.sent_date, sentZone: r.sent_zone, subject: r.subject, from: r.from_,
    messageId: r.message_id, hasAttachments: r.has_attachments === 1,
  };
}

export const MESSAGE_COLUMNS = 'id, folder_id, uid, modseq, lower(hex(sha256)) AS sha256, flags, internal_date, size, sent_date, sent_zone, subject, from_, message_id, has_attachments';

let nextGeneration = 1;

export class ArchiveStore {
  /**
   * Unique per store object in this process: a store reopened (recovered, re-attached) is a new
   * object with a new generation, so what was remembered of the old one is never used for it.
   */
  readonly generation = nextGeneration++;
  readonly db: Db;
  readonly index: Db;
  readonly content: ContentArea;
  private stmts;
  /** Adds ingested messages to the full-text index off the main thread (index-writer.ts). */
  private indexWriter: IndexWriter;

  constructor(readonly id: number, readonly paths: StorePaths, log: Logger | null = null) {
    this.db = openStoreDb(paths.databasePath);
    this.index = openIndexDb(paths.indexPath);
    this.content = new ContentArea(path.join(paths.contentPath, 'content'), (fingerprint) => this.stmts.findRun.get(fingerprint) as SharedRun | undefined);
    // The index attached to the metadata connection lets one query join full-text hits with rows.
    this.db.prepare('ATTACH DATABASE ? AS idx').run(path.join(paths.indexPath, 'index.db'));
    this.stmts = {
      blob: this.db.prepare('SELECT pack, offset, length, start, raw_size FROM blobs WHERE sha256 = unhex(?)'),
      insertBlob: this.db.prepare('INSERT OR IGNORE INTO blobs (sha256, pack, offset, length, start, raw_size) VALUES (unhex(?), ?, ?, ?, ?, ?)'),
      insertMessage: this.db.prepare(`INSERT INTO messages (folder_id, uid, modseq, sha256, flags, internal_date, size, sent_date, sent_zone, subject, from_, message_id, has_attachments, imap)
        VALUES (@folderId, @uid, @modseq, unhex(@sha256), @flags, @internalDate, @size, @sentDate, @sentZone, @subject, @from, @messageId, @hasAttachments, @imap)`),
      insertFts: this.index.prepare(INSERT_FTS_SQL),
      hasInFolder: this.db.prepare('SELECT 1 FROM messages WHERE folder_id = ? AND sha256 = unhex(?) LIMIT 1'),
      setMeta: this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
      getMeta: this.db.prepare('SELECT value FROM meta WHERE key = ?'),
      findRun: this.db.prepare('SELECT pack, pos, len FROM shared_runs WHERE fingerprint = ?'),
      // The run just stored replaces a row whose bytes did not match (damaged, or another run with the same fingerprint).
      insertRun: this.db.prepare('INSERT INTO shared_runs (fingerprint, pack, pos, len) VALUES (?, ?, ?, ?) ON CONFLICT (fingerprint) DO UPDATE SET pack = excluded.pack, pos = excluded.pos, len = excluded.len'),
    };
    this.indexWriter = new IndexWriter(paths.indexPath, (rows) => this.indexRowsHere(rows), log);
    this.repairContentTail();
  }

  private indexRowsHere(rows: IndexRow[]): void {
    this.index.transaction(() => { for (const r of rows) this.stmts.insertFts.run(r); })();
  }

  /** Resolves when every committed message is in the full-text index (search awaits this). */
  indexSettled(): Promise<void> { return this.indexWriter.settled(); }

  /** Waits (blocking) until the index worker is idle: before the main thread writes to the index itself. */
  drainIndex(): void { this.indexWriter.drainSync(); }

  /** Messages committed and not in the full-text index, after an index failure (indexed at the next start). */
  get indexIncomplete(): boolean { return this.indexWriter.incomplete; }

  /** After a crash mid-append, cut the torn record at the end of the last pack. */
  private repairContentTail(): void {
    const end = this.getMeta('content_end');
    const from = end ? (JSON.parse(end) as { pack: number; offset: number }) : { pack: 0, offset: 0 };
    for (const rec of this.content.scan(from.pack, from.offset)) {
      if (rec.magic === 'corrupt') { this.content.truncatePack(rec.pack, rec.offset); break; }
    }
  }

  getMeta(key: string): string | null {
    const r = this.stmts.getMeta.get(key) as { value: string } | undefined;
    return r ? r.value : null;
  }

  setMeta(key: string, value: string): void { this.stmts.setMeta.run(key, value); }

  /** Rows written through this store's connection, the only writer of its database: a changed count means changed rows. */
  writes(): number { return statement(this.db, 'SELECT total_changes()', 'pluck').get() as number; }

  hasBlob(sha256: string): boolean { return this.stmts.blob.get(sha256) !== undefined; }

  hasMessageInFolder(folderId: number, sha256: string): boolean { return this.stmts.hasInFolder.get(folderId, sha256) !== undefined; }

  /** Queues content for a batch; nothing is visible until `commitBatch`. */
  addBlob(sha256: string, raw: Buffer, runs?: readonly Base64Run[]): { sha256: string; location: () => BlobLocation } {
    return { sha256, ...this.content.addBlob(sha256, raw, runs) };
  }

  addRecovery(rec: RecoveryRecord): void { this.content.addRecovery(rec); }

  /** Content first (written, fsynced), then one metadata transaction, then the index: a crash leaves at most orphans. */
  commitBatch(blobs: { sha256: string; location: () => BlobLocation }[], rows: NewMessageRow[]): number[] {
    this.content.flush();
    return this.writeRows(new Map(blobs.map((b) => [b.sha256, b.location()])), rows);
  }

  /**
   * Ingest's commit, as `commitBatch`: compressed blocks and recovery records first (written,
   * fsynced), then one metadata transaction, then the index.
   */
  commitBlocks(blocks: readonly CompressedBlock[], recovery: readonly RecoveryRecord[], rows: NewMessageRow[]): number[] {
    return this.writeRows(this.content.writeBlocks(blocks, recovery), rows);
  }

  private writeRows(blobs: Map<string, BlobLocation>, rows: NewMessageRow[]): number[] {
    const ids: number[] = [];
    const end = this.content.endPosition();
    const runs = this.content.takeNewRuns();
    this.db.transaction(() => {
      this.recordSharedRuns(runs);
      for (const [sha256, l] of blobs) this.stmts.insertBlob.run(sha256, l.pack, l.offset, l.length, l.start, l.rawSize);
      for (const r of rows) {
        const info = this.stmts.insertMessage.run({
          folderId: r.folderId, uid: r.uid, modseq: r.modseq, sha256: r.sha256, flags: JSON.stringify(r.flags), internalDate: r.internalDate,
          size: r.size, sentDate: r.sentDate, sentZone: r.sentZone, subject: r.subject, from: r.from, messageId: r.messageId,
          hasAttachments: r.hasAttachments ? 1 : 0, imap: r.imap,
        });
        ids.push(Number(info.lastInsertRowid));
      }
      this.stmts.setMeta.run('content_end', JSON.stringify(end));
    })();
    this.indexWriter.add(rows.map((r, i): IndexRow => [ids[i]!, r.fts.subject, r.fts.addresses, r.fts.body, r.fts.attachmentNames, r.fts.attachmentText, r.fts.headers]));
    return ids;
  }

  /** Records stored attachment runs so later repeats refer to them (shared-runs.ts); inside the caller's transaction. */
  recordSharedRuns(runs: readonly { fingerprint: Buffer; run: SharedRun }[]): void {
    for (const { fingerprint, run } of runs) this.stmts.insertRun.run(fingerprint, run.pack, run.pos, run.len);
  }

  /** Raw message bytes (CRLF form) of a blob. */
  readRaw(sha256: string): Buffer {
    const b = this.stmts.blob.get(sha256) as { pack: number; offset: number; length: number; start: number; raw_size: number } | undefined;
    if (!b) throw new Error(`content ${sha256} is not in store ${this.id}`);
    return this.content.readBlob({ pack: b.pack, offset: b.offset, length: b.length, start: b.start, rawSize: b.raw_size });
  }

  messageCount(): number { return (this.db.prepare('SELECT count(*) AS n FROM messages').get() as { n: number }).n; }

  /** Bytes on disk: database, content and index files. */
  diskBytes(): number {
    let n = 0;
    for (const [dir, match] of [[this.paths.databasePath, /^store\.db(-wal|-shm)?$/], [this.paths.indexPath, /^index\.db(-wal|-shm)?$/]] as const) {
      for (const f of readdirSync(dir)) if (match.test(f)) n += statSync(path.join(dir, f)).size;
    }
    return n + this.content.totalBytes();
  }

  checkpoint(): void {
    this.indexWriter.drainSync();
    // Pages freed by index segment merges go back to the file system.
    this.index.pragma('incremental_vacuum');
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.index.pragma('wal_checkpoint(TRUNCATE)');
    this.content.flush();
  }

  close(): void {
    this.indexWriter.close();
    try { this.checkpoint(); } catch { /* closing anyway */ }
    this.db.close();
    this.index.close();
    this.content.close();
  }

  /** Removes the database and index files so that they can be rebuilt from content. */
  static removeMetadata(paths: StorePaths): void {
    for (const f of ['store.db', 'store.db-wal', 'store.db-shm']) { const p = path.join(paths.databasePath, f); if (existsSync(p)) rmSync(p); }
    for (const f of ['index.db', 'index.db-wal', 'index.db-shm']) { const p = path.join(paths.indexPath, f); if (existsSync(p)) rmSync(p); }
  }
}
