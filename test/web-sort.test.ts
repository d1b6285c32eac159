/**
 * Message lists by date, sender, subject and size, both directions, for folders above 5,000 messages:
 * the instance pages them by keyset over every store (an index per order), Web Access links the
 * pages. Real instance process with two archive stores, real HTTPS.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startEngine, type Engine } from './helpers/engine.js';
import { WebClient } from './helpers/web-client.js';
import { listenTestWebAccess, type TestWebAccess } from './helpers/web-access-server.js';
import type { InstanceClient } from '../src/instance/client.js';
import type { ArchiveHit, ListSort } from '../src/instance/api.js';
import { sortedPageSql } from '../src/instance/folder-list.js';

const PER_STORE = 3100;
const SENDERS = ['anna@example.com', 'Anna@example.com', 'Bob Builder <bob@example.com>', 'zoe@example.com', 'Ärger GmbH <info@aerger.example>', 'émile@example.fr', 'ZED <z@example.com>', ''];
const SUBJECTS = ['Re: Re: Budget {n}', 'AW: Fwd: Angebot {n}', 'Fwd: budget {n}', 'Quarterly report', 'quarterly report', 'Über {n}', 'zebra', '   Re: spaced {n}', 'RE:Invoice {n}', ''];

function message(i: number): Buffer {
  const from = SENDERS[i % SENDERS.length]!;
  const subject = SUBJECTS[(i * 7) % SUBJECTS.length]!.replace('{n}', String(i % 50));
  // Few distinct sizes, so page boundaries fall inside runs of equal values.
  const body = 'x'.repeat((i * 13) % 5 * 100);
  return Buffer.from(`${from ? `From: ${from}\r\n` : ''}Subject: ${subject}\r\nDate: ${new Date(Date.UTC(2021, 0, 1) + i * 60_000).toUTCString()}\r\nMessage-ID: <m${i}@sort.example>\r\n\r\n${body}\r\n`);
}

/** The orders as SQLite NOCASE defines them, written independently of the instance's SQL. */
function stripPrefixes(s: string): string {
  let x = s.replace(/^ +/, '');
  for (let i = 0; i < 2; i++) {
    const m = /^(re|aw|wg|sv|fw):/i.exec(x) ?? /^fwd:/i.exec(x);
    if (m) x = x.slice(m[0].length).replace(/^ +/, '');
  }
  return x;
}
const nocase = (a: string, b: string) => Buffer.compare(Buffer.from(a.replace(/[A-Z]/g, (c) => c.toLowerCase())), Buffer.from(b.replace(/[A-Z]/g, (c) => c.toLowerCase())));
const storeKey = (h: ArchiveHit) => { const [s, id] = h.key.split('-').map(Number); return s! * 1e12 + id!; };
function compare(sort: ListSort, a: ArchiveHit, b: ArchiveHit): number {
  const byValue = sort === 'date' ? a.date - b.date : sort === 'size' ? a.size - b.size : sort === 'from' ? nocase(a.from, b.from) : nocase(stripPrefixes(a.subject), stripPrefixes(b.subject));
  return byValue || storeKey(a) - storeKey(b);
}

describe('message lists by sender, subject and size above 5,000 messages', () => {
  let engine: Engine;
  let acme: InstanceClient;
  let web: TestWebAccess;
  let server: TestWebAccess['server'];
  let ca: string;
  let session = '';
  let bigId = 0;
  let bobFolderId = 0;

  beforeAll(async () => {
    engine = await startEngine();
    acme = await engine.startInstance('acme');
    await acme.management('CreateUser', { userName: 'jane', privileges: 'login', password: 'pw-jane-123' });
    await acme.management('CreateUser', { userName: 'bob', privileges: 'login', password: 'pw-bob-123' });
    const ingest = async (from: number, to: number) => {
      for (let i = from; i < to; i += 500) await acme.ingest('jane', Array.from({ length: Math.min(500, to - i) }, (_, k) => ({ name: `m${i + k}`, folder: 'Big', raw: message(i + k) })));
    };
    await ingest(0, PER_STORE);
    // A second current store: the folder spans two stores, so pages are merged across them.
    await acme.management('CreateStore', { name: 'Store 2', requestedState: 'current' });
    await ingest(PER_STORE, 2 * PER_STORE);
    await acme.ingest('bob', [{ name: 'b', folder: 'Private', raw: message(1) }]);
    const j = await acme.authenticate({ user: 'jane', password: 'pw-jane-123', channel: 'web' });
    if (!j.ok) throw new Error(j.message);
    session = j.session;
    bigId = (await acme.listFolders({ session })).find((f) => f.path === 'jane/Big')!.id;
    const b = await acme.authenticate({ user: 'bob', password: 'pw-bob-123', channel: 'web' });
    if (!b.ok) throw new Error(b.message);
    bobFolderId = (await acme.listFolders({ session: b.session })).find((f) => f.path === 'bob/Private')!.id;

    web = await listenTestWebAccess(acme);
    server = web.server;
    ca = web.ca;
  }, 180_000);

  afterAll(async () => {
    await web?.close();
    await engine?.close();
  });

  for (const sort of ['date', 'from', 'subject', 'size'] as const) {
    for (const descending of [false, true]) {
      it(`pages all ${2 * PER_STORE} messages by ${sort} ${descending ? 'descending' : 'ascending'}, each exactly once and in order across both stores`, async () => {
        const seen: ArchiveHit[] = [];
        let after: { value: string | number; key: string } | null = null;
        let pages = 0;
        do {
          const page = await acme.listFolderSorted({ session, folderId: bigId, sort, descending, after, limit: 97 });
          expect(page.total).toBe(2 * PER_STORE);
          seen.push(...page.rows);
          after = page.next;
          pages++;
        } while (after && pages < 200);
        expect(seen).toHaveLength(2 * PER_STORE);
        expect(new Set(seen.map((h) => h.uid)).size).toBe(2 * PER_STORE);
        expect(new Set(seen.map((h) => h.key.split('-')[0]))).toEqual(new Set(['1', '2']));
        const sign = descending ? -1 : 1;
        for (let i = 1; i < seen.length; i++) expect(sign * compare(sort, seen[i - 1]!, seen[i]!), `${i}: ${JSON.stringify([seen[i - 1], seen[i]])}`).toBeLessThan(0);
      });
    }
  }

  it('reads each page as a range of the order\'s index in every store', () => {
    for (const store of ['store-0001', 'store-0002']) {
      const db = new Database(path.join(engine.dataDir, 'instances', 'acme', 'stores', store, 'store.db'), { readonly: true });
      try {
        for (const sort of ['date', 'from', 'subject', 'size'] as const) {
          for (const descending of [false, true]) {
            const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sortedPageSql(sort, descending, true, 50)}`).all({ folder: bigId, v: sort === 'size' || sort === 'date' ? 100 : 'm', id: 5 }) as { detail: string }[]).map((r) => r.detail).join(' | ');
            expect(plan, `${store} ${sort} ${descending}`).toMatch(new RegExp(`^SEARCH messages USING (COVERING )?INDEX messages_folder_${sort} \\(folder_id=\\? AND \\S+${descending ? '<' : '>'}\\?\\)$`));
          }
        }
      } finally { db.close(); }
    }
  });

  it('answers a forged folder like a missing one and refuses bad arguments by name', async () => {
    await expect(acme.listFolderSorted({ session, folderId: bobFolderId, sort: 'from', descending: false })).rejects.toThrow(/no such folder/);
    await expect(acme.listFolderSorted({ session, folderId: bigId, sort: 'uid' as ListSort, descending: false })).rejects.toThrow(/sort: expected one of date, from, subject, size/);
    await expect(acme.listFolderSorted({ session, folderId: bigId, sort: 'size', descending: false, limit: 0 })).rejects.toThrow(/limit/);
    await expect(acme.listFolderSorted({ session, folderId: bigId, sort: 'size', descending: false, after: { value: 'big', key: '1-2' } })).rejects.toThrow(/after\.value/);
    await expect(acme.listFolderSorted({ session, folderId: bigId, sort: 'from', descending: false, after: { value: 'a', key: 'x' } })).rejects.toThrow(/after\.key/);
  });

  it('offers every order on a folder of more than 5,000 messages in Web Access, with a link to the reverse order and keyset pages', async () => {
    const c = new WebClient(server.port, ca);
    expect((await c.login('/acme', 'jane', 'pw-jane-123')).status).toBe(303);
    const first = await c.get(`/acme/folder/${bigId}`);
    expect(first.text).toContain(`data-count="${2 * PER_STORE}"`);
    expect(first.text).toMatch(/<span aria-current="true">Date \(newest first\)<\/span> <a href="\/acme\/folder\/\d+\?dir=asc" data-sort="date" data-dir="asc" class="reverse">oldest first<\/a>/);
    for (const s of ['archived', 'from', 'subject', 'size']) expect(first.text).toContain(`data-sort="${s}"`);
    const expected: number[] = [];
    let after: { value: string | number; key: string } | null = null;
    for (let i = 0; i < 3; i++) {
      const page = await acme.listFolderSorted({ session, folderId: bigId, sort: 'subject', descending: true, after, limit: 50 });
      expected.push(...page.rows.map((h) => h.uid));
      after = page.next;
    }
    const asc = await c.get(`/acme/folder/${bigId}?sort=subject`);
    expect(asc.text).toMatch(/<span aria-current="true">Subject \(A–Z\)<\/span>/);
    const reverseHref = /<a href="([^"]+)" data-sort="subject" data-dir="desc" class="reverse">Z–A<\/a>/.exec(asc.text)![1]!.replace(/&amp;/g, '&');
    let url: string | null = reverseHref;
    const got: number[] = [];
    for (let i = 0; i < 3 && url; i++) {
      const r = await c.get(url);
      expect(r.status).toBe(200);
      got.push(...[...r.text.matchAll(/<a class="open" href="\/acme\/message\/\d+\/(\d+)\?/g)].map((m) => Number(m[1])));
      url = /href="([^"]+)" rel="next"/.exec(r.text)?.[1]?.replace(/&amp;/g, '&') ?? null;
      if (i > 0) expect(r.text).toContain('First page');
    }
    expect(got).toEqual(expected);
    const bySize = await c.get(`/acme/folder/${bigId}?sort=size`);
    expect(bySize.text).toMatch(/Size \(largest first\)/);
    const biggest = Math.max(...(await acme.listFolderSorted({ session, folderId: bigId, sort: 'size', descending: true, limit: 1 })).rows.map((h) => h.size));
    const firstRowUid = Number(/<a class="open" href="\/acme\/message\/\d+\/(\d+)\?/.exec(bySize.text)![1]);
    const meta = await acme.fetchMeta({ session, folderId: bigId, uids: [firstRowUid], fields: ['summary'] });
    expect(meta[0]!.size).toBe(biggest);
  });
});
