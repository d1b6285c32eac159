import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startEngine, type Engine } from './helpers/engine.js';
import type { InstanceClient } from '../src/instance/client.js';
import type { SearchCriterion } from '../src/instance/api.js';

const IMAPTEST = path.resolve(__dirname, '../../shared/corpus/fixtures/dovecot-imaptest');

/** Splits an imaptest mbox on its `From ` separator lines. */
function mboxMessages(file: string): Buffer[] {
  const text = readFileSync(file, 'latin1');
  return text.split(/^From [^\n]*\n/m).filter((m) => m.length > 0).map((m) => Buffer.from(m.replace(/\n$/, ''), 'latin1'));
}

function unquote(s: string): string { return s.startsWith('"') ? s.slice(1, -1).replace(/\\(.)/g, '$1') : s; }

/** Single-key searches of an imaptest script with their expected answers. */
function cases(script: string): { query: string; criteria: SearchCriterion; expected: number[] }[] {
  const lines = readFileSync(path.join(IMAPTEST, '_expected', script), 'utf8').split('\n');
  const out: { query: string; criteria: SearchCriterion; expected: number[] }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^ok search (not )?(text|body|subject|from|to|cc|bcc|header (\S+)) ("[^"]*"|\S+)$/.exec(lines[i]!);
    if (!m) continue;
    const answer = /^\* search( [\d ]+)?$/.exec(lines[i + 1] ?? '');
    if (!answer) continue;
    const value = unquote(m[4]!);
    const key = m[2]!.split(' ')[0]!;
    let criteria: SearchCriterion = key === 'header' ? { key: 'header', name: m[3]!, value } : { key: key as 'text', value };
    if (m[1]) criteria = { key: 'not', of: criteria };
    out.push({ query: lines[i]!.slice(3), criteria, expected: (answer[1] ?? '').trim().split(/\s+/).filter(Boolean).map(Number) });
  }
  return out;
}

describe('IMAP SEARCH semantics of the instance (index narrows, decoded text decides)', () => {
  let engine: Engine;
  let acme: InstanceClient;
  let session: string;
  const folders = new Map<string, number>();

  beforeAll(async () => {
    engine = await startEngine();
    acme = await engine.startInstance('acme');
    await acme.management('CreateUser', { userName: 'jane', privileges: 'login', password: 'pw' });
    for (const script of ['search-body', 'search-header', 'search-addresses', 'search-date']) {
      const msgs = mboxMessages(path.join(IMAPTEST, '_mbox', `${script}.mbox`));
      const r = await acme.ingest('jane', msgs.map((raw, i) => ({ name: `${script}-${i}`, folder: script, raw })));
      expect(r.imported).toBe(msgs.length);
    }
    const auth = await acme.authenticate({ user: 'jane', password: 'pw', channel: 'imap' });
    if (!auth.ok) throw new Error(auth.message);
    session = auth.session;
    for (const f of await acme.listFolders({ session })) folders.set(f.path.split('/').pop()!, f.id);
  });
  afterAll(async () => { await engine?.close(); });

  for (const script of ['search-body', 'search-header', 'search-addresses']) {
    it(`answers the single-key searches of imaptest's ${script} as Dovecot does`, async () => {
      const list = cases(script);
      expect(list.length).toBeGreaterThan(5);
      const wrong: string[] = [];
      for (const c of list) {
        const got = await acme.search({ session, folderId: folders.get(script)!, criteria: c.criteria });
        if (got.join(' ') !== c.expected.join(' ')) wrong.push(`${c.query}: got [${got.join(' ')}], expected [${c.expected.join(' ')}]`);
      }
      expect(wrong).toEqual([]);
    });
  }

  it("answers imaptest's search-date SENT* keys on the day as written in the message's own zone", async () => {
    const lines = readFileSync(path.join(IMAPTEST, '_expected', 'search-date'), 'utf8').split('\n');
    const months = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
    const wrong: string[] = [];
    let checked = 0;
    for (let i = 0; i < lines.length; i++) {
      const m = /^ok search (?:1:(\d+) )?(sentbefore|senton|sentsince) (\d+)-(\w{3})-(\d{4})$/.exec(lines[i]!);
      const answer = /^\* search( [\d ]+)?$/.exec(lines[i + 1] ?? '');
      if (!m || !answer) continue;
      const date = `${m[5]}-${String(months.indexOf(m[4]!.toLowerCase()) + 1).padStart(2, '0')}-${m[3]!.padStart(2, '0')}`;
      let criteria: SearchCriterion = { key: m[2]!.slice(4) as 'before', date, which: 'sent' };
      if (m[1]) criteria = { key: 'and', of: [{ key: 'uid', ranges: [[1, Number(m[1])]] }, criteria] };
      const got = await acme.search({ session, folderId: folders.get('search-date')!, criteria });
      const expected = (answer[1] ?? '').trim().split(/\s+/).filter(Boolean).join(' ');
      if (got.join(' ') !== expected) wrong.push(`${lines[i]}: got [${got.join(' ')}], expected [${expected}]`);
      checked++;
    }
    expect(checked).toBeGreaterThan(10);
    expect(wrong).toEqual([]);
  });

  it('finds words, prefixes and wildcards archive-wide, newest first, with keyset paging', async () => {
    const all = await acme.searchArchive({ session, query: { text: 'hello', limit: 1 } });
    expect(all.total).toBeGreaterThan(1);
    expect(all.hits).toHaveLength(1);
    
    const next = await acme.searchArchive({ session, query: { text: 'hello', limit: 1, after: all.next } });
    expect(next.hits.map((h) => h.key)).not.toContain(all.hits[0]!.key);
    const seen = new Set<string>();
    let page: typeof all | null = { ...all, next: null };
    let after: typeof all.next = null;
    do {
      page = await acme.searchArchive({ session, query: { text: 'hello', limit: 1, after } });
      for (const h of page.hits) { expect(seen.has(h.key)).toBe(false); seen.add(h.key); }
      after = page.next;
    } while (after);
    expect(seen.size).toBe(all.total);
    const dates = (await acme.searchArchive({ session, query: { text: 'hello', limit: 50 } })).hits.map((h) => h.date);
    expect(dates).toEqual([...dates].sort((a, b) => b - a));
    expect((await acme.searchArchive({ session, query: { text: 'hel*' } })).total).toBeGreaterThanOrEqual(all.total);
    expect((await acme.searchArchive({ session, query: { text: 'h?llo' } })).total).toBe(all.total);
    const scoped = await acme.searchArchive({ session, query: { text: 'hello', folderId: folders.get('search-header')! } });
    expect(scoped.hits.every((h) => h.folderPath === 'jane/search-header')).toBe(true);
    await expect(acme.searchArchive({ session, query: { dateFrom: '2020-13-45' } })).rejects.toThrow(/dateFrom/);
  });

  it('finds words inside PDF attachments through "attachment contents", but not through IMAP BODY', async () => {
    const file = path.resolve(__dirname, '../../shared/corpus/fixtures/apache-spamassassin-tdata/spam__extracttext__gtube_pdf.eml');
    await acme.ingest('jane', [{ name: 'gtube', folder: 'pdf', raw: readFileSync(file) }]);
    const hits = await acme.searchArchive({ session, query: { attachmentContents: 'unsolicited' } });
    expect(hits.total).toBe(1);
    expect(hits.hits[0]!.folderPath).toBe('jane/pdf');
    const folder = (await acme.listFolders({ session })).find((f) => f.path === 'jane/pdf')!;
    expect(await acme.search({ session, folderId: folder.id, criteria: { key: 'body', value: 'unsolicited' } })).toEqual([]);
  });
});
