/**
 * IMAP SEARCH answers some criteria with one SQL query (src/instance/search/imap-search-sql.ts)
 * and the rest by testing rows. Both must give the same answer: each criterion is asked as is
 * and OR-ed with a HEADER key no message satisfies, which forces the row-by-row path.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { startEngine, type Engine } from './helpers/engine.js';
import type { InstanceClient } from '../src/instance/client.js';
import type { SearchCriterion } from '../src/instance/api.js';

const CORPUS = path.resolve(__dirname, '../../shared/corpus');

describe('IMAP SEARCH: the SQL answer equals the row-by-row answer', () => {
  let engine: Engine;
  let acme: InstanceClient;
  let session: string;
  let folderId: number;
  let count = 0;

  beforeAll(async () => {
    engine = await startEngine();
    acme = await engine.startInstance('acme');
    await acme.management('CreateUser', { userName: 'jane', privileges: 'login', password: 'pw' });
    // Mail from several years, zones and flags: a spam corpus folder plus the imaptest date fixtures.
    const dir = path.join(CORPUS, 'ordinary/spamassassin-publiccorpus/spam_2');
    const files = readdirSync(dir).filter((f) => f.endsWith('.eml')).sort().slice(0, 300);
    const flagsOf = (i: number) => (i % 3 === 0 ? ['\\Seen', '\\Flagged'] : i % 3 === 1 ? ['\\Seen'] : []);
    const r = await acme.ingest('jane', files.map((f, i) => ({ name: f, folder: 'mix', raw: readFileSync(path.join(dir, f)), flags: flagsOf(i), internalDate: Date.UTC(2002, 0, 1) + i * 7 * 3600_000 })));
    count = r.imported;
    expect(count).toBeGreaterThan(250);
    const auth = await acme.authenticate({ user: 'jane', password: 'pw', channel: 'imap' });
    if (!auth.ok) throw new Error(auth.message);
    session = auth.session;
    folderId = (await acme.listFolders({ session })).find((f) => f.path.endsWith('/mix'))!.id;
  });
  afterAll(async () => { await engine?.close(); });

  const criteria: [string, SearchCriterion][] = [
    ['ALL', { key: 'all' }],
    ['SEEN', { key: 'flag', flag: '\\Seen', set: true }],
    ['UNFLAGGED', { key: 'flag', flag: '\\flagged', set: false }],
    ['LARGER 4000', { key: 'larger', size: 4000 }],
    ['SMALLER 2500', { key: 'smaller', size: 2500 }],
    ['UID 5:40,100:*', { key: 'uid', ranges: [[5, 40], [100, Number.MAX_SAFE_INTEGER]] }],
    ['BEFORE 20-Jan-2002', { key: 'before', date: '2002-01-20', which: 'internal' }],
    ['ON 10-Jan-2002', { key: 'on', date: '2002-01-10', which: 'internal' }],
    ['SINCE 1-Feb-2002', { key: 'since', date: '2002-02-01', which: 'internal' }],
    ['SENTBEFORE 1-Dec-2001', { key: 'before', date: '2001-12-01', which: 'sent' }],
    ['SENTON 12-May-2002', { key: 'on', date: '2002-05-12', which: 'sent' }],
    ['SENTSINCE 1-Apr-2002', { key: 'since', date: '2002-04-01', which: 'sent' }],
    ['BODY linux', { key: 'body', value: 'linux' }],
    ['BODY inux (inside words)', { key: 'body', value: 'inux' }],
    ['TEXT spamassassin', { key: 'text', value: 'spamassassin' }],
    ['SUBJECT re', { key: 'subject', value: 're' }],
    ['SUBJECT "your " (a phrase: the row decides)', { key: 'subject', value: 'your ' }],
    ['FROM com', { key: 'from', value: 'com' }],
    ['FROM "@" (no letters: every row)', { key: 'from', value: '@' }],
    ['NOT FROM yahoo', { key: 'not', of: { key: 'from', value: 'yahoo' } }],
    ['MODSEQ 100', { key: 'modseq', modseq: 100 }],
    ['NOT BODY linux', { key: 'not', of: { key: 'body', value: 'linux' } }],
    ['OR SEEN LARGER 5000', { key: 'or', a: { key: 'flag', flag: '\\Seen', set: true }, b: { key: 'larger', size: 5000 } }],
    ['SEEN NOT SENTBEFORE 1-Aug-2002 BODY the', { key: 'and', of: [{ key: 'flag', flag: '\\Seen', set: true }, { key: 'not', of: { key: 'before', date: '2002-08-01', which: 'sent' } }, { key: 'body', value: 'the' }] }],
  ];
  const forceRows = (c: SearchCriterion): SearchCriterion => ({ key: 'or', a: c, b: { key: 'header', name: 'X-Coffer-Never-Present', value: 'nothing' } });

  for (const [name, c] of criteria) {
    it(name, async () => {
      const fast = await acme.search({ session, folderId, criteria: c });
      const rows = await acme.search({ session, folderId, criteria: forceRows(c) });
      expect(fast).toEqual(rows);
      // Every key above selects some but not all messages, except ALL: a criterion that always
      // answered "everything" or "nothing" would make the comparison empty.
      if (name !== 'ALL' && name !== 'MODSEQ 100') expect(fast.length).toBeGreaterThan(0);
      if (name === 'ALL') expect(fast.length).toBe(count);
    });
  }

  it('finds a word part in mail archived after the previous search (newer mail is read until the vocabulary copy catches up)', async () => {
    const needle = { key: 'body', value: 'quorbl' } as const;
    expect(await acme.search({ session, folderId, criteria: needle })).toEqual([]);
    const raw = Buffer.from('From: a@example.com\r\nSubject: late\r\nDate: Tue, 14 May 2002 10:00:00 +0000\r\n\r\nThe zzquorblyx arrived late.\r\n');
    const r = await acme.ingest('jane', [{ name: 'late', folder: 'mix', raw }]);
    expect(r.imported).toBe(1);
    const hits = await acme.search({ session, folderId, criteria: needle });
    expect(hits).toHaveLength(1);
    expect(await acme.search({ session, folderId, criteria: forceRows(needle) })).toEqual(hits);
    // The same through the SQL path (FROM is answered in SQL), before and after the vocabulary
    // copy has been read again in the background.
    const fromAndBody: SearchCriterion = { key: 'and', of: [{ key: 'from', value: 'a@example' }, needle] };
    expect(await acme.search({ session, folderId, criteria: fromAndBody })).toEqual(hits);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await acme.search({ session, folderId, criteria: needle })).toEqual(hits);
    expect(await acme.search({ session, folderId, criteria: { key: 'body', value: 'orblyx' } })).toEqual(hits);
  });

  it('finds word parts of mail archived in several batches between searches', async () => {
    const found: number[] = [];
    for (let k = 0; k < 3; k++) {
      const raw = Buffer.from(`From: b@example.com\r\nSubject: batch ${k}\r\nDate: Tue, 14 May 2002 11:00:00 +0000\r\n\r\nA word xxplumbovine${k} here.\r\n`);
      expect((await acme.ingest('jane', [{ name: `batch-${k}`, folder: 'mix', raw }])).imported).toBe(1);
      const hits = await acme.search({ session, folderId, criteria: { key: 'body', value: 'plumbovine' } });
      expect(hits).toHaveLength(k + 1);
      found.splice(0, found.length, ...hits);
    }
    expect(await acme.search({ session, folderId, criteria: forceRows({ key: 'body', value: 'plumbovine' }) })).toEqual(found);
  });

  it('answers a word for the selected folder only, also when the folder spans two stores', async () => {
    const word = (k: number, folder: string) => ({ name: `${folder}-${k}`, folder, raw: Buffer.from(`From: c@example.com\r\nSubject: ${folder} ${k}\r\n\r\nThe gravimetric survey ${k}.\r\n`) });
    await acme.ingest('jane', [word(1, 'mix'), word(1, 'other'), word(2, 'other')]);
    await acme.management('CreateStore', { name: 'second', requestedState: 'current' });
    await acme.ingest('jane', [word(2, 'mix'), word(3, 'other')]);
    const otherId = (await acme.listFolders({ session })).find((f) => f.path.endsWith('/other'))!.id;
    await new Promise((r) => setTimeout(r, 1000)); // the vocabulary copy catches up: the index alone answers
    for (const [id, n] of [[folderId, 2], [otherId, 3]] as const) {
      const c: SearchCriterion = { key: 'body', value: 'gravimetric' };
      const fast = await acme.search({ session, folderId: id, criteria: c });
      expect(fast).toHaveLength(n);
      expect(await acme.search({ session, folderId: id, criteria: forceRows(c) })).toEqual(fast);
    }
  });
});
