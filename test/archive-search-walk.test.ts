/**
 * Archive-wide search has two plans for a page: few hits are sorted by date from the index;
 * many hits are found by walking messages newest first (archive-search.ts). Both must return the
 * same pages in the same order, with the same totals, also when messages were archived out of
 * date order (their ids then do not follow dates). One instance is started with the walk forced
 * for every query (COFFER_SEARCH_WALK_ABOVE_HITS=0), one with the default, same mail in both.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startEngine, type Engine } from './helpers/engine.js';
import type { InstanceClient } from '../src/instance/client.js';
import type { ArchiveQuery } from '../src/instance/api.js';
import { generateMessage } from '../src/bench/generate.js';

const COUNT = 400;

describe('archive-wide search: the date walk and the sorted hits give the same pages', () => {
  let engine: Engine;
  const sessions = new Map<InstanceClient, string>();
  let walk: InstanceClient;
  let sorted: InstanceClient;

  beforeAll(async () => {
    engine = await startEngine();
    process.env.COFFER_SEARCH_WALK_ABOVE_HITS = '0';
    walk = await engine.startInstance('walk');
    delete process.env.COFFER_SEARCH_WALK_ABOVE_HITS;
    sorted = await engine.startInstance('sorted');
    // Shuffled order of arrival (a stride through the dates), so ids do not follow dates.
    const order = Array.from({ length: COUNT }, (_, i) => (i * 149) % COUNT);
    for (const c of [walk, sorted]) {
      await c.management('CreateUser', { userName: 'jane', privileges: 'login', password: 'pw-jane-1' });
      for (let i = 0; i < COUNT; i += 100) {
        const r = await c.ingest('jane', order.slice(i, i + 100).map((k) => ({ name: `m${k}`, folder: `Inbox/${k % 3}`, raw: generateMessage(7, k, { attachments: false }).raw })));
        expect(r.imported).toBe(100);
      }
      const auth = await c.authenticate({ user: 'jane', password: 'pw-jane-1', channel: 'web' });
      if (!auth.ok) throw new Error(auth.message);
      sessions.set(c, auth.session);
    }
  }, 120_000);
  afterAll(async () => { await engine?.close(); });

  async function allPages(c: InstanceClient, query: ArchiveQuery): Promise<{ keys: string[]; totals: number[] }> {
    const keys: string[] = [];
    const totals: number[] = [];
    let after: ArchiveQuery['after'] = undefined;
    for (let n = 0; n < 100; n++) {
      const r = await c.searchArchive({ session: sessions.get(c)!, query: { ...query, limit: 17, after } });
      keys.push(...r.hits.map((h) => `${h.folderPath}#${h.uid}@${h.date}`));
      totals.push(r.total);
      if (!r.next) break;
      after = r.next;
    }
    return { keys, totals };
  }

  const queries: [string, ArchiveQuery][] = [
    ['a common word', { text: 'the' }],
    ['two words', { text: 'budget meeting' }],
    ['a prefix', { text: 'deliv*' }],
    ['a word with a date range', { text: 'invoice', dateFrom: '2015-03-01', dateTo: '2015-05-31' }],
    ['a word with attachments excluded', { text: 'report', hasAttachments: false }],
  ];
  for (const [name, query] of queries) {
    it(name, async () => {
      const a = await allPages(walk, query);
      const b = await allPages(sorted, query);
      expect(a.keys.length).toBeGreaterThan(17); // more than one page
      expect(a.keys.length).toBeLessThan(COUNT + 1);
      expect(new Set(a.keys).size).toBe(a.keys.length); // no page repeats a hit
      expect(a.keys).toEqual(b.keys);
      expect(a.totals).toEqual(b.totals);
      expect(a.totals[0]).toBe(a.keys.length);
      // Newest first.
      const dates = a.keys.map((k) => Number(k.split('@')[1]));
      expect([...dates].sort((x, y) => y - x)).toEqual(dates);
    });
  }

  it('one folder with its subfolders, as a user who picked it', async () => {
    const folders = await walk.listFolders({ session: sessions.get(walk)! });
    const sortedFolders = await sorted.listFolders({ session: sessions.get(sorted)! });
    const one = folders.find((f) => f.path.endsWith('Inbox/1'))!;
    const same = sortedFolders.find((f) => f.path.endsWith('Inbox/1'))!;
    const a = await allPages(walk, { text: 'the', folderId: one.id });
    const b = await allPages(sorted, { text: 'the', folderId: same.id });
    expect(a.keys.length).toBeGreaterThan(17);
    expect(a.keys.every((k) => k.includes('Inbox/1#'))).toBe(true);
    expect(a.keys).toEqual(b.keys);
  });
});
