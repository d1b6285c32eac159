/**
 * Building FTS5 queries whose results are a superset of RFC 3501 substring matches, so that a
 * verification pass can answer exactly (IMAP) while words, prefixes and phrases answer directly (web).
 * Tokens follow FTS5's unicode61 rules: runs of letters and digits, case-folded.
 */
import type { Db } from '../store/store-db.js';
import { termsContaining } from './vocabulary.js';

const TOKEN_RE = /[\p{L}\p{N}\p{M}]+/gu;
/** More vocabulary terms than this for one infix makes the index no better than a scan. */
export const MAX_INFIX_TERMS = 2000;

export function tokenize(s: string): string[] {
  return (s.toLowerCase().match(TOKEN_RE) ?? []);
}

export function quoteTerm(t: string): string { return `"${t.replace(/"/g, '""')}"`; }

export type Columns = readonly ('subject' | 'addresses' | 'body' | 'attachment_names' | 'attachment_text' | 'headers')[];

function withColumns(cols: Columns | null, expr: string): string {
  return cols ? `{${cols.join(' ')}} : (${expr})` : `(${expr})`;
}

export interface CandidateQuery {
  expr: string;
  /**
   * True when every document the expression matches certainly contains the needle: the needle is
   * one run of letters/digits, and each matching vocabulary term contains it, so a document that
   * holds the term holds the needle. Then no document needs to be read to confirm — up to
   * `newerThan`, when it is set: newer documents must be read either way.
   */
  exact: boolean;
  /**
   * Documents with a higher id may hold the needle without matching `expr` (the vocabulary copy
   * does not describe them yet, see vocabulary.ts): include them as candidates. Null: none.
   */
  newerThan: number | null;
}

/**
 * FTS5 expression matching every document that may contain `needle` as a substring, or null
 * when the index cannot narrow it down (no letters/digits, or an infix too common): scan then.
 */
export function substringCandidatesQuery(index: Db, needle: string, cols: Columns | null): CandidateQuery | null {
  const lower = needle.toLowerCase();
  const tokens = tokenize(lower);
  if (tokens.length === 0) return null;
  const exact = tokens.length === 1 && tokens[0] === lower;
  const first = tokens[0]!;
  const last = tokens[tokens.length - 1]!;
  const startsInside = /^[\p{L}\p{N}\p{M}]/u.test(lower);
  const endsInside = /[\p{L}\p{N}\p{M}]$/u.test(lower);
  const parts: string[] = [];
  if (tokens.length === 1) {
    if (!startsInside) parts.push(endsInside ? `${quoteTerm(first)} *` : quoteTerm(first));
    else {
      // An infix of some word: find the words in the vocabulary that contain it.
      const found = termsContaining(index, first, MAX_INFIX_TERMS, !endsInside);
      if (found === null) return null;
      const newerThan = found.newerThan;
      if (found.terms.length === 0) return { expr: withColumns(cols, quoteTerm(first)), exact, newerThan };
      return { expr: withColumns(cols, `(${found.terms.map(quoteTerm).join(' OR ')})`), exact, newerThan };
    }
  } else {
    // Middle words are whole tokens; the last may be a prefix; the first may be a word's tail (skipped: superset).
    if (!startsInside) parts.push(quoteTerm(first));
    for (const t of tokens.slice(1, -1)) parts.push(quoteTerm(t));
    parts.push(endsInside ? `${quoteTerm(last)} *` : quoteTerm(last));
  }
  return { expr: withColumns(cols, parts.join(' AND ')), exact, newerThan: null };
}

/** Ids of a store's messages matching a candidate query (`index`), with the newer ones it cannot vouch for (`db`, the message rows). */
export function ftsRowids(index: Db, db: Db, q: CandidateQuery): Set<number> {
  const ids = new Set(index.prepare('SELECT rowid FROM fts WHERE fts MATCH ?').pluck().all(q.expr) as number[]);
  if (q.newerThan !== null) for (const id of db.prepare('SELECT id FROM messages WHERE id > ?').pluck().all(q.newerThan) as number[]) ids.add(id);
  return ids;
}
