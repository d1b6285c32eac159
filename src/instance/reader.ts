/**
 * The read side of the instance interface (`ArchiveReader`): every call names a session and is
 * checked against the user's folder privileges here, so a forged folder id finds nothing.
 */
import type { ArchiveReader, AuthResult, FolderInfo, FolderStatus, MessageMeta, MetaField, SearchCriterion, SessionToken, LoginChannel, ArchiveQuery, ArchiveHit } from './api.js';
import type { Archive, ImapMeta } from './archive.js';
import type { Users, UserSession } from './users.js';
import type { FolderRow } from './instance-db.js';
import { InstanceError } from './errors.js';
import { FolderPages } from './folder-pages.js';
import { READ_BATCH_MAX_BYTES, READ_BATCH_MAX_ITEMS } from './api.js';

const EMPTY = Buffer.alloc(0);
import { searchFolder } from './search/imap-search.js';
import { searchArchive } from './search/archive-search.js';

export class Reader implements Omit<ArchiveReader, 'readMessage' | 'readMessages'> {
  /**
   * Privileges, folder rows and UID lists, remembered until the instance database changes:
   * `total_changes()` counts every write of this (the only) connection, so a revoked privilege
   * or a new message is seen by the very next call, and a FETCH of 10,000 bodies checks its
   * folder once instead of 10,000 times.
   */
  private readonly changes: () => number;
  private memoAt = -1;
  private readonly readableMemo = new Map<string, Set<string>>();
  private readonly folderMemo = new Map<number, FolderRow | undefined>();
  private readonly uidsMemo = new Map<number, { uids: number[]; modseqs: number[] }>();
  private readonly pages = new FolderPages();

  constructor(private archive: Archive, private users: Users, private audit: (user: string | null, action: string, details: unknown) => void) {
    const total = archive.db.prepare('SELECT total_changes()').pluck();
    this.changes = () => total.get() as number;
  }

  private fresh(): void {
    const now = this.changes();
    if (now === this.memoAt) return;
    this.memoAt = now;
    this.readableMemo.clear();
    this.folderMemo.clear();
    this.uidsMemo.clear();
    this.pages.clear();
  }

  async authenticate(p: { user: string; password: string; channel: LoginChannel; remote?: string; userAgent?: string }): Promise<AuthResult> {
    const r = await this.users.authenticate(p);
    // Web Access writes its own Login/LoginFailed entries (with the trusted-device detail), so
    // here only the other channels are recorded: one entry per login, never two.
    if (p.channel !== 'web') {
      // The audit entry changes nothing remembered here: memos that were fresh stay fresh (50
      // clients logging in at once would otherwise each reload every folder's UID list).
      const wasFresh = this.memoAt === this.changes();
      this.audit(r.ok ? r.userName : p.user, r.ok ? 'Login' : 'LoginFailed', { channel: p.channel, remote: p.remote ?? null, userAgent: p.userAgent ?? null, ...(r.ok ? {} : { reason: r.reason }) });
      if (wasFresh) this.memoAt = this.changes();
    }
    return r;
  }

  async logout(p: { session: SessionToken }): Promise<void> { this.users.endSession(p.session); }

  private readable(s: UserSession): Set<string> {
    this.fresh();
    let r = this.readableMemo.get(s.userName);
    if (!r) { r = this.users.readableArchives(s.userName); this.readableMemo.set(s.userName, r); }
    return r;
  }

  private folderFor(session: SessionToken, folderId: number): { s: UserSession; f: FolderRow } {
    const s = this.users.session(session);
    this.fresh();
    let f = this.folderMemo.get(folderId);
    if (f === undefined && !this.folderMemo.has(folderId)) { f = this.archive.folders.get(folderId); this.folderMemo.set(folderId, f); }
    // Same answer for "does not exist" and "not yours": nothing leaks about other archives.
    if (!f || !this.readable(s).has(f.path.split('/')[0]!.toLowerCase())) throw new InstanceError('NOT_FOUND', 'no such folder');
    return { s, f };
  }

  async listFolders(p: { session: SessionToken }): Promise<FolderInfo[]> {
    const s = this.users.session(p.session);
    const readable = this.readable(s);
    const rows = this.archive.folders.all().filter((f) => readable.has(f.path.split('/')[0]!.toLowerCase()));
    const parents = new Set(rows.map((f) => f.parent_id).filter((x): x is number => x !== null));
    return rows.map((f) => ({
      id: f.id, path: f.path, archive: f.path.split('/')[0]!, uidValidity: f.uid_validity, uidNext: f.uid_next,
      highestModseq: f.highest_modseq, messages: f.messages, hasChildren: parents.has(f.id),
    }));
  }

  async folderStatus(p: { session: SessionToken; folderId: number }): Promise<FolderStatus> {
    const { f } = this.folderFor(p.session, p.folderId);
    return { id: f.id, path: f.path, uidValidity: f.uid_validity, uidNext: f.uid_next, highestModseq: f.highest_modseq, messages: f.messages, size: f.size };
  }

  async folderUids(p: { session: SessionToken; folderId: number }): Promise<{ uids: number[]; modseqs: number[]; highestModseq: number }> {
    const { f } = this.folderFor(p.session, p.folderId);
    let u = this.uidsMemo.get(f.id);
    if (!u) { u = this.archive.folderUids(f.id); this.uidsMemo.set(f.id, u); }
    return { ...u, highestModseq: f.highest_modseq };
  }

  async fetchMeta(p: { session: SessionToken; folderId: number; uids: number[]; fields: MetaField[] }): Promise<MessageMeta[]> {
    const { f } = this.folderFor(p.session, p.folderId);
    if (!Array.isArray(p.uids) || p.uids.length > 100_000) throw new InstanceError('INVALID_ARGUMENT', 'uids: expected at most 100,000 UIDs per call');
    const wantImap = p.fields.some((x) => x === 'envelope' || x === 'bodyStructure' || x === 'body' || x === 'mime');
    if (p.fields.includes('summary')) {
      return this.archive.folderMessages(f.id, p.uids).map(({ store, msg }) => {
        const out: MessageMeta = { uid: msg.uid, modseq: msg.modseq, flags: msg.flags, internalDate: msg.internalDate, size: msg.size };
        const m = this.archive.imapMeta(store, msg.id);
        if (wantImap) this.addImap(out, m, p.fields);
        return Object.assign(out, { subject: msg.subject, from: msg.from, to: m.to, date: msg.sentDate, hasAttachments: msg.hasAttachments });
      });
    }
    // The IMAP path: only the columns FETCH needs, from remembered pages (folder-pages.ts).
    const out: MessageMeta[] = [];
    const uids = [...new Set(p.uids.map(Number))];
    const find = this.pages.pagesFor(this.archive.openStoresList(), f.id, uids);
    for (const uid of uids) {
      const at = find(uid);
      if (!at) continue;
      const { page, row } = at;
      const m: MessageMeta = { uid, modseq: page.modseq[row]!, flags: this.flagList(page.flags[row]!), internalDate: page.internalDate[row]!, size: page.size[row]! };
      if (wantImap) this.addImap(m, this.archive.imapMeta(page.store[row]!, page.id[row]!), p.fields);
      out.push(m);
    }
    return out.sort((x, y) => x.uid - y.uid);
  }

  private addImap(out: MessageMeta, m: ImapMeta, fields: MetaField[]): void {
    if (fields.includes('envelope')) out.envelope = m.e;
    if (fields.includes('bodyStructure')) out.bodyStructure = m.s;
    if (fields.includes('body')) out.body = m.b;
    if (fields.includes('mime')) out.mime = m.m;
  }

  /** Flag lists repeat (`["\\Seen"]` on nearly every row), so each distinct one is parsed once. */
  private readonly flagLists = new Map<string, string[]>();
  private flagList(json: string): string[] {
    let l = this.flagLists.get(json);
    if (!l) {
      l = JSON.parse(json) as string[];
      if (this.flagLists.size < 1000) this.flagLists.set(json, l);
    }
    return l;
  }

  /** Raw bytes of one message (CRLF form), optionally a byte range [start, end). */
  readMessage(p: { session: SessionToken; folderId: number; uid: number; start?: number; end?: number }): { size: number; data: Buffer } {
    const { f } = this.folderFor(p.session, p.folderId);
    const raw = this.archive.readRaw(f.id, p.uid);
    const start = Math.max(0, Math.min(raw.length, p.start ?? 0));
    const end = Math.max(start, Math.min(raw.length, p.end ?? raw.length));
    return { size: raw.length, data: raw.subarray(start, end) };
  }

  /** Byte ranges of several messages of one folder; sizes beside them, `-1` for a UID the folder does not have. */
  readMessages(p: { session: SessionToken; folderId: number; ranges: { uid: number; start?: number; end?: number }[] }): { sizes: number[]; data: Buffer[] } {
    const { f } = this.folderFor(p.session, p.folderId);
    if (!Array.isArray(p.ranges) || p.ranges.length > READ_BATCH_MAX_ITEMS) throw new InstanceError('INVALID_ARGUMENT', `ranges: expected at most ${READ_BATCH_MAX_ITEMS} byte ranges per call`);
    const sizes: number[] = [];
    const data: Buffer[] = [];
    const find = this.pages.pagesFor(this.archive.openStoresList(), f.id, p.ranges.map((r) => Number(r?.uid)));
    let total = 0;
    for (const r of p.ranges) {
      const at = find(Number(r?.uid));
      if (!at) { sizes.push(-1); data.push(EMPTY); continue; }
      const raw = at.page.store[at.row]!.content.readBlob(at.page.location(at.row));
      const start = Math.max(0, Math.min(raw.length, Number(r.start ?? 0) || 0));
      const end = Math.max(start, Math.min(raw.length, r.end === undefined ? raw.length : Number(r.end) || 0));
      total += end - start;
      if (total > READ_BATCH_MAX_BYTES) throw new InstanceError('INVALID_ARGUMENT', `ranges: more than ${READ_BATCH_MAX_BYTES} bytes in one batch; read large messages with readMessage`);
      sizes.push(raw.length);
      data.push(raw.subarray(start, end));
    }
    return { sizes, data };
  }

  async search(p: { session: SessionToken; folderId: number; criteria: SearchCriterion }): Promise<number[]> {
    const { f } = this.folderFor(p.session, p.folderId);
    await this.archive.indexSettled();
    return searchFolder(this.archive, f.id, p.criteria);
  }

  async searchArchive(p: { session: SessionToken; query: ArchiveQuery }): Promise<{ hits: ArchiveHit[]; total: number; next: { date: number; key: string } | null }> {
    const s = this.users.session(p.session);
    if (p.query.folderId !== undefined) this.folderFor(p.session, p.query.folderId);
    await this.archive.indexSettled();
    return searchArchive(this.archive, this.readable(s), p.query);
  }
}
