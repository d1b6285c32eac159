/**
 * IMAP SEARCH over one folder with RFC 3501 semantics: flags, dates, sizes and UIDs from the
 * metadata rows; strings as case-insensitive substrings, narrowed by the full-text index and
 * verified against the decoded message so answers equal a full scan's (what Dovecot does).
 */
import type { SearchCriterion } from '../api.js';
import type { Archive } from '../archive.js';
import { MESSAGE_COLUMNS, rowToMessage, type ArchiveStore, type StoredMessage } from '../store/store.js';
import { statement } from '../store/statements.js';
import { searchCondition } from './imap-search-sql.js';
import { MAX_REMEMBERED_FOLDER, uidsOfRows } from './folder-ids.js';
import { vocabularyNewerThan } from './vocabulary.js';
import { decodeHeaderValue, parseMessage } from '../../common/mime/index.js';
import { ftsRowids, substringCandidatesQuery, type Columns } from './fts-query.js';

interface Candidate { store: ArchiveStore; msg: StoredMessage; index: number }

/** Lazily decoded text of one message, shared by all keys of one search. */
class DecodedMessage {
  private raw?: Buffer;
  private parsed?: ReturnType<typeof parseMessage>;
  private headers?: string;
  private body?: string;
  constructor(private c: Candidate) {}
  private rawBytes(): Buffer { return (this.raw ??= this.c.store.readRaw(this.c.msg.sha256)); }
  headerBlock(): string {
    if (this.headers === undefined) {
      const parsed = this.parse();
      this.headers = decodeHeaderValue(this.rawBytes().subarray(parsed.root.headerStart, parsed.root.bodyStart)).toLowerCase();
      this.body = parsed.text.toLowerCase();
    }
    return this.headers;
  }
  private parse(): ReturnType<typeof parseMessage> { return (this.parsed ??= parseMessage(this.rawBytes())); }
  bodyText(): string { this.headerBlock(); return this.body!; }
  /** Values of one header field, unfolded and decoded. */
  headerField(name: string): string[] {
    const raw = this.rawBytes();
    const parsed = this.parse();
    const block = raw.subarray(parsed.root.headerStart, parsed.root.bodyStart).toString('latin1');
    const out: string[] = [];
    const re = /^([^:\r\n]+):([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)/gm;
    for (const m of block.matchAll(re)) if (m[1]!.trim().toLowerCase() === name) out.push(decodeHeaderValue(Buffer.from(m[2]!, 'latin1')).toLowerCase());
    return out;
  }
}

function dayOf(ms: number): string { return new Date(ms).toISOString().slice(0, 10); }

/** RFC 3501 compares calendar days "disregarding time and timezone": the day as written in the message's own zone. */
function compareDay(ms: number | null, day: string, op: 'before' | 'on' | 'since', zoneMinutes = 0): boolean {
  if (ms === null) return false;
  const d = dayOf(ms + zoneMinutes * 60_000);
  return op === 'before' ? d < day : op === 'on' ? d === day : d >= day;
}

const FIELD_COLUMNS: Record<'text' | 'body' | 'subject' | 'from' | 'to' | 'cc' | 'bcc', Columns | null> = {
  text: null, body: ['body'], subject: ['subject'], from: ['addresses'], to: ['addresses'], cc: ['addresses'], bcc: ['addresses'],
};

export class ImapSearch {
  private candidates = new Map<string, Map<ArchiveStore, { ids: Set<number>; exact: boolean; newerThan: number | null } | null>>();
  private decoded: { index: number; message: DecodedMessage } | null = null;

  constructor(private archive: Archive) {}

  /** UIDs of the candidates that satisfy `criteria`, testing each in full. */
  run(messages: Candidate[], criteria: SearchCriterion): number[] {
    return messages.filter((c) => this.test(criteria, c)).map((c) => c.msg.uid);
  }

  /** Ids of `store` documents the index says may contain `value` in the key's fields; null: it cannot tell. */
  indexIds(store: ArchiveStore, key: keyof typeof FIELD_COLUMNS, value: string): Set<number> | null {
    const hit = this.indexHits(store, key, value);
    return hit === null ? null : hit.ids;
  }

  private indexHits(store: ArchiveStore, key: keyof typeof FIELD_COLUMNS, value: string): { ids: Set<number>; exact: boolean; newerThan: number | null } | null {
    const ck = `${key}\u0000${value}`;
    let perStore = this.candidates.get(ck);
    if (!perStore) { perStore = new Map(); this.candidates.set(ck, perStore); }
    if (!perStore.has(store)) {
      const q = substringCandidatesQuery(store.index, value, FIELD_COLUMNS[key]);
      perStore.set(store, q === null ? null : { ids: ftsRowids(store.index, store.db, q), exact: q.exact, newerThan: q.newerThan });
    }
    return perStore.get(store)!;
  }

  /** Keys are tested one message at a time, so only the current message's decoded text is kept (a scan of 100,000 must not hold them all). */
  private dec(c: Candidate): DecodedMessage {
    if (this.decoded?.index !== c.index) this.decoded = { index: c.index, message: new DecodedMessage(c) };
    return this.decoded.message;
  }

  /** Index pre-filter: 'no' certainly no match, 'yes' certainly a match, 'maybe' read the message to tell. */
  private indexAnswer(c: Candidate, key: keyof typeof FIELD_COLUMNS, value: string): 'no' | 'yes' | 'maybe' {
    const hit = this.indexHits(c.store, key, value);
    if (hit === null) return 'maybe';
    if (!hit.ids.has(c.msg.id)) return 'no';
    // Documents newer than the vocabulary copy are candidates only (vocabulary.ts): they are read.
    return hit.exact && (hit.newerThan === null || c.msg.id <= hit.newerThan) ? 'yes' : 'maybe';
  }

  private test(n: SearchCriterion, c: Candidate): boolean {
    const m = c.msg;
    switch (n.key) {
      case 'all': return true;
      case 'not': return !this.test(n.of, c);
      case 'or': return this.test(n.a, c) || this.test(n.b, c);
      case 'and': return n.of.every((x) => this.test(x, c));
      case 'uid': return n.ranges.some(([a, b]) => m.uid >= a && m.uid <= b);
      case 'flag': return m.flags.some((f) => f.toLowerCase() === n.flag.toLowerCase()) === n.set;
      case 'larger': return m.size > n.size;
      case 'smaller': return m.size < n.size;
      case 'modseq': return m.modseq >= n.modseq;
      case 'before': case 'on': case 'since':
        return n.which === 'internal' ? compareDay(m.internalDate, n.date, n.key) : compareDay(m.sentDate, n.date, n.key, m.sentZone);
      case 'subject': case 'from': case 'to': case 'cc': case 'bcc': {
        // Decoded header values are kept in the row at archive time, so these keys never touch content.
        const v = n.value.toLowerCase();
        if (n.key === 'subject' || n.key === 'from') {
          const field = n.key === 'subject' ? m.subject : m.from;
          if (v === '') return field !== '' || this.headerPresent(c, n.key);
          return field.toLowerCase().includes(v);
        }
        if (v === '') return this.headerPresent(c, n.key);
        if (this.indexAnswer(c, n.key, v) === 'no') return false;
        const meta = this.archive.imapMeta(c.store, m.id);
        return (n.key === 'to' ? meta.to : n.key === 'cc' ? meta.cc : meta.bcc).toLowerCase().includes(v);
      }
      case 'header': {
        const v = n.value.toLowerCase();
        const values = this.dec(c).headerField(n.name.toLowerCase());
        return v === '' ? values.length > 0 : values.some((h) => h.includes(v));
      }
      case 'body': case 'text': {
        const v = n.value.toLowerCase();
        if (v === '') return true;
        const answer = this.indexAnswer(c, n.key, v);
        if (answer !== 'maybe') return answer === 'yes';
        const d = this.dec(c);
        return d.bodyText().includes(v) || (n.key === 'text' && d.headerBlock().includes(v));
      }
    }
  }

  private headerPresent(c: Candidate, name: string): boolean { return this.dec(c).headerField(name).length > 0; }
}

/**
 * Candidate message ids per store that may satisfy `n`, from the full-text index alone, or null
 * when the index cannot narrow it (a key it does not cover, NOT, an infix too common). A superset:
 * every candidate is still tested in full.
 */
function narrow(n: SearchCriterion, store: ArchiveStore, search: ImapSearch): Set<number> | null {
  switch (n.key) {
    case 'and': {
      let out: Set<number> | null = null;
      for (const x of n.of) {
        const c = narrow(x, store, search);
        if (c === null) continue;
        if (out === null) out = c;
        else { const next = new Set<number>(); for (const id of c) if (out.has(id)) next.add(id); out = next; }
      }
      return out;
    }
    case 'or': {
      const a = narrow(n.a, store, search);
      const b = a && narrow(n.b, store, search);
      if (a === null || b === null) return null;
      return new Set([...a, ...b]);
    }
    case 'body': case 'text': case 'subject': case 'from': case 'to': case 'cc': case 'bcc':
      return n.value === '' ? null : search.indexIds(store, n.key, n.value.toLowerCase());
    default: return null;
  }
}

export function searchFolder(archive: Archive, folderId: number, criteria: SearchCriterion): number[] {
  const search = new ImapSearch(archive);
  const candidates: Candidate[] = [];
  const uids: number[] = [];
  for (const store of archive.openStoresList()) {
    // Mail newer than the index vocabulary copy (vocabulary.ts) is tested row by row; the rest in SQL.
    const newer = vocabularyNewerThan(store.index);
    const whole = searchCondition(criteria, store, newer);
    if (whole !== null) {
      // Every key answered by the row or the index: one query, no message is read.
      if (whole.fts !== undefined && (archive.folders.get(folderId)?.messages ?? Infinity) <= MAX_REMEMBERED_FOLDER) {
        // One word the index answers exactly: its row ids, matched to the folder in memory.
        const rowIds = statement(store.db, 'SELECT rowid FROM idx.fts WHERE fts MATCH ?', 'pluck').all(whole.fts) as number[];
        for (const uid of uidsOfRows(store, folderId, rowIds, newer)) uids.push(uid);
      } else {
        const upTo = newer === null ? '' : ` AND id <= ${Number(newer)}`;
        const indexed = whole.index === undefined ? '' : ` INDEXED BY ${whole.index}`;
        for (const uid of store.db.prepare(`SELECT uid FROM messages${indexed} WHERE folder_id = ?${upTo} AND (${whole.sql})`).pluck().all(folderId, ...whole.params) as number[]) uids.push(uid);
      }
      if (newer !== null) {
        for (const r of statement(store.db, `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE folder_id = ? AND id > ?`).all(folderId, newer) as Parameters<typeof rowToMessage>[0][]) candidates.push({ store, msg: rowToMessage(r), index: candidates.length });
      }
      continue;
    }
    const ids = narrow(criteria, store, search);
    const rows = ids === null
      ? statement(store.db, `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE folder_id = ?`).all(folderId)
      : ids.size === 0 ? [] : statement(store.db, `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id IN (SELECT value FROM json_each(?)) AND folder_id = ?`).all(JSON.stringify([...ids]), folderId);
    for (const r of rows as Parameters<typeof rowToMessage>[0][]) candidates.push({ store, msg: rowToMessage(r), index: candidates.length });
  }
  uids.push(...search.run(candidates, criteria));
  return uids.sort((a, b) => a - b);
}
