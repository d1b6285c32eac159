/**
 * Prepared statements kept per database connection: preparing costs more than running the small
 * lookups of the read path (one per FETCH body, per STATUS, per SEARCH), so each SQL text is
 * prepared once per connection.
 */
import type Database from 'better-sqlite3';
import type { Db } from './store-db.js';

type Statement = Database.Statement<unknown[], unknown>;

const perDb = new WeakMap<Db, Map<string, Statement>>();

/**
 * The statement for `sql` on `db`, prepared on first use. The result mode is part of the key:
 * better-sqlite3's pluck()/raw() change a statement for every later user, so a shared statement
 * is never switched after it is handed out.
 */
export function statement(db: Db, sql: string, mode: 'rows' | 'pluck' | 'raw' = 'rows'): Statement {
  let m = perDb.get(db);
  if (!m) { m = new Map(); perDb.set(db, m); }
  const key = `${mode}\u0000${sql}`;
  let s = m.get(key);
  if (!s) {
    s = db.prepare<unknown[], unknown>(sql);
    if (mode === 'pluck') s.pluck();
    else if (mode === 'raw') s.raw();
    m.set(key, s);
  }
  return s;
}

/** Ascending UIDs as runs of consecutive values, so a batch becomes a few `BETWEEN` range scans. */
export function uidRuns(uids: readonly number[]): [number, number][] {
  const sorted = [...new Set(uids)].filter((u) => Number.isSafeInteger(u) && u > 0).sort((a, b) => a - b);
  const runs: [number, number][] = [];
  for (const u of sorted) {
    const last = runs[runs.length - 1];
    if (last && u === last[1] + 1) last[1] = u;
    else runs.push([u, u]);
  }
  return runs;
}
