/**
 * IMAP SEARCH criteria as one SQL condition over a store's message rows, when every key can be
 * answered without reading a message: flags, sizes, dates, UIDs, MODSEQ, and string keys the
 * full-text index answers exactly (a single word or word part, see fts-query.ts). Then SEARCH is
 * one indexed query instead of a scan; anything else returns null and imap-search.ts tests rows.
 * Each fragment is 0 or 1, never NULL, so NOT stays the complement.
 */
import type { SearchCriterion } from '../api.js';
import type { ArchiveStore } from '../store/store.js';
import { substringCandidatesQuery, type Columns } from './fts-query.js';

/**
 * A WHERE fragment over `messages`; `index`: the index a query made of this condition alone should
 * scan (SQLite, without statistics, picks any index starting with folder_id, and a FROM test read
 * from `messages_folder_from` needs no row until it matches: a third faster at 100,000 messages).
 */
export interface SqlCondition {
  sql: string;
  params: (string | number)[];
  index?: 'messages_folder_from';
  /** Set when the condition is exactly "the index matches this expression": the caller may ask the index alone. */
  fts?: string;
}

/** Keys whose index columns hold exactly the text the key searches (FROM/TO/CC/BCC share one column, so FROM is checked against its row value). */
const STRING_COLUMNS: Record<'text' | 'body' | 'subject', Columns | null> = { text: null, body: ['body'], subject: ['subject'] };

/** Calendar day of a millisecond timestamp shifted by a zone, as SQLite's 'YYYY-MM-DD'. */
const day = (ms: string, zone = '0') => `date((${ms} + ${zone} * 60000) / 1000.0, 'unixepoch')`;
const OPS = { before: '<', on: '=', since: '>=' } as const;
/** More UID ranges than this are tested row by row (SQLite allows 32,766 parameters a statement). */
const MAX_UID_RANGES = 1000;
const clampInt = (n: number) => Math.max(0, Math.min(Number.MAX_SAFE_INTEGER, Math.floor(n)));
/** The flags column of a message with `\Seen` alone, as stored. */
const SEEN_ONLY = JSON.stringify(['\\Seen']);

/**
 * With `below` set, the condition is only used for messages with ids up to it, which the index
 * vocabulary describes completely (vocabulary.ts); newer ones are tested row by row by the caller.
 */
export function searchCondition(n: SearchCriterion, store: ArchiveStore, below: number | null = null): SqlCondition | null {
  const covered = (q: { newerThan: number | null }) => q.newerThan === null || (below !== null && below <= q.newerThan);
  switch (n.key) {
    case 'all': return { sql: '1', params: [] };
    case 'not': {
      const c = searchCondition(n.of, store, below);
      return c && { sql: `NOT (${c.sql})`, params: c.params };
    }
    case 'or': case 'and': {
      const parts = n.key === 'or' ? [n.a, n.b] : n.of;
      const out: SqlCondition[] = [];
      for (const p of parts) { const c = searchCondition(p, store, below); if (!c) return null; out.push(c); }
      if (out.length === 0) return { sql: '1', params: [] };
      if (out.length === 1) return out[0]!;
      return { sql: out.map((c) => `(${c.sql})`).join(n.key === 'or' ? ' OR ' : ' AND '), params: out.flatMap((c) => c.params) };
    }
    case 'uid':
      if (n.ranges.length === 0) return { sql: '0', params: [] };
      // A long scattered set would become a statement too big to prepare; rows are tested then.
      if (n.ranges.length > MAX_UID_RANGES) return null;
      return { sql: n.ranges.map(() => '(uid BETWEEN ? AND ?)').join(' OR '), params: n.ranges.flatMap(([a, b]) => [clampInt(Math.min(a, b)), clampInt(Math.max(a, b))]) };
    case 'flag':
      // Nearly every archived message has the flags `["\\Seen"]` or none: those rows are answered
      // by comparing the column's text, the rest by looking inside the JSON list.
      return {
        sql: `(CASE flags WHEN '[]' THEN 0 WHEN ? THEN ? ELSE EXISTS (SELECT 1 FROM json_each(flags) WHERE lower(value) = ?) END) = ?`,
        params: [SEEN_ONLY, n.flag.toLowerCase() === '\\seen' ? 1 : 0, n.flag.toLowerCase(), n.set ? 1 : 0],
      };
    case 'larger': return { sql: 'size > ?', params: [n.size] };
    case 'smaller': return { sql: 'size < ?', params: [n.size] };
    case 'modseq': return { sql: 'modseq >= ?', params: [n.modseq] };
    case 'before': case 'on': case 'since':
      return n.which === 'internal'
        ? { sql: `${day('internal_date')} ${OPS[n.key]} ?`, params: [n.date] }
        : { sql: `(sent_date IS NOT NULL AND ${day('sent_date', 'sent_zone')} ${OPS[n.key]} ?)`, params: [n.date] };
    // An empty value has its own rules (header presence): rows decide.
    case 'from': return n.value === '' ? null : rowStringCondition(store, 'from_', ['addresses'], n.value, below);
    case 'subject': {
      if (n.value === '') return null;
      const q = substringCandidatesQuery(store.index, n.value, STRING_COLUMNS.subject);
      return q !== null && q.exact && covered(q) ? indexMatch(q.expr) : rowStringCondition(store, 'subject', ['subject'], n.value, below);
    }
    case 'to': case 'cc': case 'bcc': case 'header': return null;
    case 'text': case 'body': {
      // A phrase or punctuation needs the message read.
      if (n.value === '') return null;
      const q = substringCandidatesQuery(store.index, n.value, STRING_COLUMNS[n.key]);
      // Newer mail than the vocabulary copy needs reading: the row path does that.
      if (q === null || !q.exact || !covered(q)) return null;
      return indexMatch(q.expr);
    }
  }
}

const indexMatch = (expr: string): SqlCondition => ({ sql: 'id IN (SELECT rowid FROM idx.fts WHERE fts MATCH ?)', params: [expr], fts: expr });

/**
 * A key whose decoded value is kept in the row (SUBJECT, FROM): the index narrows when it can,
 * and `coffer_contains` decides with JavaScript's own lower-casing, exactly as the row-by-row
 * path does (SQLite's lower() only folds ASCII).
 */
function rowStringCondition(store: ArchiveStore, column: 'subject' | 'from_', cols: Columns, value: string, below: number | null): SqlCondition {
  registerFunctions(store.db);
  const needle = value.toLowerCase();
  const q = substringCandidatesQuery(store.index, value, cols);
  const index = column === 'from_' ? { index: 'messages_folder_from' as const } : {};
  if (q === null) return { sql: `coffer_contains(${column}, ?)`, params: [needle], ...index };
  // Messages newer than the vocabulary copy are not narrowed by it (vocabulary.ts).
  const whole = q.newerThan === null || (below !== null && below <= q.newerThan);
  const narrowed = whole ? 'id IN (SELECT rowid FROM idx.fts WHERE fts MATCH ?)' : '(id IN (SELECT rowid FROM idx.fts WHERE fts MATCH ?) OR id > ?)';
  return { sql: `${narrowed} AND coffer_contains(${column}, ?)`, params: whole ? [q.expr, needle] : [q.expr, q.newerThan!, needle], ...index };
}

const registered = new WeakSet<object>();
function registerFunctions(db: ArchiveStore['db']): void {
  if (registered.has(db)) return;
  db.function('coffer_contains', { deterministic: true }, (haystack: unknown, needle: unknown) => (String(haystack ?? '').toLowerCase().includes(String(needle)) ? 1 : 0));
  registered.add(db);
}
