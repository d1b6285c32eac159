/** The web search form ↔ the instance's ArchiveQuery (shared by search and export). */
import type { ArchiveQuery } from '../../instance/api.js';
import { WebError } from './errors.js';

export const SEARCH_TEXT_FIELDS = ['q', 'from', 'to', 'cc', 'bcc', 'subject', 'body', 'attachmentNames', 'attachmentContents'] as const;
export const SEARCH_FIELDS = [...SEARCH_TEXT_FIELDS, 'dateFrom', 'dateTo', 'hasAttachments', 'folderId', 'includeSubfolders'] as const;
export type SearchParams = Partial<Record<(typeof SEARCH_FIELDS)[number], string>>;

/** JSON schema properties of the search fields (query string of /search, q_* fields of /export). */
export function searchFieldSchema(prefix = ''): Record<string, object> {
  const props: Record<string, object> = {};
  for (const f of SEARCH_TEXT_FIELDS) props[prefix + f] = { type: 'string', maxLength: 500 };
  props[prefix + 'dateFrom'] = { type: 'string', pattern: '^(\\d{4}-\\d{2}-\\d{2})?$' };
  props[prefix + 'dateTo'] = { type: 'string', pattern: '^(\\d{4}-\\d{2}-\\d{2})?$' };
  props[prefix + 'hasAttachments'] = { type: 'string', enum: ['', '1'] };
  props[prefix + 'folderId'] = { type: 'string', pattern: '^\\d{0,10}$' };
  props[prefix + 'includeSubfolders'] = { type: 'string', enum: ['', '1'] };
  return props;
}

/** Only the fields that carry a value (for links and hidden fields). */
export function compactParams(p: SearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of SEARCH_FIELDS) { const v = p[f]; if (typeof v === 'string' && v.trim() !== '') out[f] = v.trim(); }
  return out;
}

export function hasCriteria(p: SearchParams): boolean {
  return SEARCH_TEXT_FIELDS.some((f) => (p[f] ?? '').trim() !== '') || !!p.dateFrom || !!p.dateTo || p.hasAttachments === '1' || !!p.folderId;
}

export function toArchiveQuery(p: SearchParams): ArchiveQuery {
  const c = compactParams(p);
  const q: ArchiveQuery = {};
  if (c.q) q.text = c.q;
  for (const f of ['from', 'to', 'cc', 'bcc', 'subject', 'body', 'attachmentNames', 'attachmentContents'] as const) if (c[f]) q[f] = c[f];
  if (c.dateFrom) q.dateFrom = c.dateFrom;
  if (c.dateTo) q.dateTo = c.dateTo;
  if (c.dateFrom && c.dateTo && c.dateFrom > c.dateTo) throw new WebError('BAD_REQUEST', 'dateFrom after dateTo');
  if (c.hasAttachments === '1') q.hasAttachments = true;
  if (c.folderId) { q.folderId = Number(c.folderId); q.includeSubfolders = c.includeSubfolders === '1'; }
  return q;
}

/** Words to highlight: free text and the text fields that search message text. */
export function highlightSource(p: SearchParams): string {
  return [p.q, p.subject, p.body].filter((s) => s && s.trim()).join(' ');
}
