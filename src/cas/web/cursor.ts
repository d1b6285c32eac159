/** Keyset paging cursors in URLs: search `<date>.<key>`, folder lists base64url `[value, key]` (both validated). */
import { WebError } from './errors.js';

export function encodeCursor(c: { date: number; key: string }): string { return `${c.date}.${c.key}`; }

export function decodeCursor(s: string | undefined): { date: number; key: string } | null {
  if (!s) return null;
  const m = /^(-?\d{1,16})\.(\d{1,6}-\d{1,15})$/.exec(s);
  if (!m) throw new WebError('BAD_REQUEST', 'bad paging cursor');
  return { date: Number(m[1]), key: m[2]! };
}

/** Longest `at` cursor in a URL: a stored subject or sender of up to a few thousand characters, base64url of JSON. */
export const MAX_SORT_CURSOR_CHARS = 8192;

/** Cursor of a folder list (date, sender, subject, size): base64url of `[value, key]` (the value may be any text). */
export function encodeSortCursor(c: { value: string | number; key: string }): string {
  return Buffer.from(JSON.stringify([c.value, c.key])).toString('base64url');
}

export function decodeSortCursor(s: string | undefined, sort: 'date' | 'from' | 'subject' | 'size'): { value: string | number; key: string } | null {
  if (!s) return null;
  let v: unknown;
  try { v = /^[A-Za-z0-9_-]+$/.test(s) ? JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) : null; } catch { v = null; }
  const ok = Array.isArray(v) && v.length === 2 && typeof v[1] === 'string' && /^\d{1,6}-\d{1,15}$/.test(v[1])
    && (sort === 'size' || sort === 'date' ? Number.isSafeInteger(v[0]) : typeof v[0] === 'string');
  if (!ok) throw new WebError('BAD_REQUEST', 'bad paging cursor');
  return { value: (v as [string | number, string])[0], key: (v as [string | number, string])[1] };
}

/** A `ret` (return-to) link must be a list page of this instance, never another site. */
export function safeReturn(base: string, ret: string | undefined, fallback: string): string {
  if (!ret || ret.length > 2000) return fallback;
  if (!ret.startsWith(`${base}/folder/`) && !ret.startsWith(`${base}/search`) && ret !== `${base}/folders`) return fallback;
  if (/[\s\\]|\/\//.test(ret)) return fallback;
  return ret;
}
