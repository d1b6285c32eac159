/**
 * Prepared statements kept per database connection: preparing costs more than running the small
 * lookups of the read path (one per FETCH body, per STATUS, per SEARCH), so each SQL text is
 * prepared once per connection.
 */
import type Database from 'better-sqlite3';
import type { Db } from './store-db.js';

type Statement = Database.Statement<unknown[], unknown>;

const perDb = new WeakMap<Db, Map<string, Statement>>();

export function statement(db: Db, sql: string): Statement {
  let m = perDb.get(db);
  if (!m) { m = new Map(); perDb.set(db, m); }
  let s = m.get(sql);
  if (!s) { s = db.prepare<unknown[], unknown>(sql); m.set(sql, s); }
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
