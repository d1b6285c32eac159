/** Keyset paging cursors in URLs: `<date>.<key>` of the last row of the previous page (validated). */
import { WebError } from './errors.js';

export function encodeCursor(c: { date: number; key: string }): string { return `${c.date}.${c.key}`; }

export function decodeCursor(s: string | undefined): { date: number; key: string } | null {
  if (!s) return null;
  const m = /^(-?\d{1,16})\.(\d{1,6}-\d{1,15})$/.exec(s);
  if (!m) throw new WebError('BAD_REQUEST', 'bad paging cursor');
  return { date: Number(m[1]), key: m[2]! };
}

/** A `ret` (return-to) link must be a list page of this instance, never another site. */
export function safeReturn(base: string, ret: string | undefined, fallback: string): string {
  if (!ret || ret.length > 2000) return fallback;
  if (!ret.startsWith(`${base}/folder/`) && !ret.startsWith(`${base}/search`) && ret !== `${base}/folders`) return fallback;
  if (/[\s\\]|\/\//.test(ret)) return fallback;
  return ret;
}
