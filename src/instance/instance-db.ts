/**
 * The instance database (`<base>/instance.db`): users, privileges, the folder tree with its IMAP
 * identity (UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ), the list of archive stores, settings and the
 * audit log. Messages live in the stores; folders span stores.
 */
import Database from 'better-sqlite3';
import path from 'node:path';
import { mkdirSync } from 'node:fs';

export type Db = Database.Database;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
  name TEXT PRIMARY KEY COLLATE NOCASE,
  full_name TEXT NOT NULL DEFAULT '',
  distinguished_name TEXT NOT NULL DEFAULT '',
  authentication TEXT NOT NULL DEFAULT 'integrated',
  password_hash TEXT,
  privileges TEXT NOT NULL DEFAULT 'login',
  login_privileges TEXT NOT NULL DEFAULT 'windows,web,outlook,windowsCmd,imap',
  email_addresses TEXT NOT NULL DEFAULT '[]',
  pop3_user_names TEXT NOT NULL DEFAULT '[]',
  mfa_secret TEXT,
  mfa_state TEXT NOT NULL DEFAULT 'disabled'
);
CREATE TABLE IF NOT EXISTS folder_privileges (
  user_name TEXT NOT NULL COLLATE NOCASE,
  archive TEXT NOT NULL COLLATE NOCASE,
  privileges TEXT NOT NULL,
  PRIMARY KEY (user_name, archive)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS folders (
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL UNIQUE,
  parent_id INTEGER,
  uid_validity INTEGER NOT NULL,
  uid_next INTEGER NOT NULL DEFAULT 1,
  highest_modseq INTEGER NOT NULL DEFAULT 1,
  messages INTEGER NOT NULL DEFAULT 0,
  size INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS folders_parent ON folders (parent_id);
CREATE TABLE IF NOT EXISTS stores (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  database_path TEXT NOT NULL,
  content_path TEXT NOT NULL,
  index_path TEXT NOT NULL,
  requested_state TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  user_name TEXT,
  action TEXT NOT NULL,
  details TEXT NOT NULL
);
`;

export function openInstanceDb(baseDir: string): Db {
  mkdirSync(baseDir, { recursive: true });
  const db = new Database(path.join(baseDir, 'instance.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);
  return db;
}

export interface FolderRow {
  id: number; path: string; parent_id: number | null; uid_validity: number; uid_next: number; highest_modseq: number; messages: number; size: number;
}

export class Settings {
  private get;
  private set;
  constructor(db: Db) {
    this.get = db.prepare('SELECT value FROM settings WHERE key = ?');
    this.set = db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
  }
  read<T>(key: string, dflt: T): T {
    const r = this.get.get(key) as { value: string } | undefined;
    return r ? (JSON.parse(r.value) as T) : dflt;
  }
  write(key: string, value: unknown): void { this.set.run(key, JSON.stringify(value)); }
}

/** The folder tree: paths are `/`-delimited, the first segment is the user archive. */
export class FolderTree {
  private byPath;
  private byId;
  private insert;
  private reserve;
  private counts;
  constructor(private db: Db, private settings: Settings) {
    this.byPath = db.prepare('SELECT * FROM folders WHERE path = ?');
    this.byId = db.prepare('SELECT * FROM folders WHERE id = ?');
    this.insert = db.prepare('INSERT INTO folders (path, parent_id, uid_validity) VALUES (?, ?, ?)');
    this.reserve = db.prepare('UPDATE folders SET uid_next = uid_next + ?, highest_modseq = highest_modseq + ? WHERE id = ? RETURNING uid_next, highest_modseq');
    this.counts = db.prepare('UPDATE folders SET messages = messages + ?, size = size + ? WHERE id = ?');
  }

  get(id: number): FolderRow | undefined { return this.byId.get(id) as FolderRow | undefined; }
  find(folderPath: string): FolderRow | undefined { return this.byPath.get(folderPath) as FolderRow | undefined; }
  all(): FolderRow[] { return this.db.prepare('SELECT * FROM folders ORDER BY path').all() as FolderRow[]; }
  children(id: number | null): FolderRow[] {
    return (id === null ? this.db.prepare('SELECT * FROM folders WHERE parent_id IS NULL ORDER BY path').all() : this.db.prepare('SELECT * FROM folders WHERE parent_id = ? ORDER BY path').all(id)) as FolderRow[];
  }

  /** UIDVALIDITY: seconds since epoch at creation, strictly increasing within the instance so a re-created folder never repeats one. */
  private nextUidValidity(): number {
    const last = this.settings.read<number>('lastUidValidity', 0);
    const v = Math.max(Math.floor(Date.now() / 1000), last + 1) >>> 0;
    this.settings.write('lastUidValidity', v);
    return v;
  }

  /** Finds or creates a folder and its parents. */
  ensure(folderPath: string): FolderRow {
    const existing = this.find(folderPath);
    if (existing) return existing;
    return this.db.transaction(() => {
      const parts = folderPath.split('/');
      let parent: FolderRow | undefined;
      for (let i = 1; i <= parts.length; i++) {
        const p = parts.slice(0, i).join('/');
        let row = this.find(p);
        if (!row) {
          const info = this.insert.run(p, parent ? parent.id : null, this.nextUidValidity());
          row = this.get(Number(info.lastInsertRowid))!;
        }
        parent = row;
      }
      return parent!;
    })();
  }

  /** Reserves `count` UIDs and MODSEQs; committed before the messages are, so a crash leaves a gap, never a reuse. */
  reserveUids(folderId: number, count: number): { firstUid: number; firstModseq: number } {
    const r = this.reserve.get(count, count, folderId) as { uid_next: number; highest_modseq: number };
    return { firstUid: r.uid_next - count, firstModseq: r.highest_modseq - count + 1 };
  }

  addCounts(folderId: number, messages: number, size: number): void { this.counts.run(messages, size, folderId); }

  setCounts(folderId: number, messages: number, size: number): void {
    this.db.prepare('UPDATE folders SET messages = ?, size = ? WHERE id = ?').run(messages, size, folderId);
  }
}

/** Splits a folder path into segments, rejecting empty segments and control characters. */
export function normalizeFolderPath(input: string): string {
  const parts = input.split('/').map((s) => s.trim()).filter((s) => s.length > 0);
  for (const p of parts) {
    if (/[\u0000-\u001f\u007f]/.test(p)) throw new Error(`folder name ${JSON.stringify(p)} contains control characters`);
    if (p.length > 255) throw new Error(`folder name is longer than 255 characters`);
  }
  return parts.join('/');
}
