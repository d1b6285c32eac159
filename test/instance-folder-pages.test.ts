/**
 * The instance remembers FETCH's rows by pages of UIDs (src/instance/folder-pages.ts). These
 * reads go through the real instance process and check that what is remembered never outlives
 * a change: new mail in a page already read, CompactStore moving every blob, a folder spread over
 * two stores, a store disabled and enabled again.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { startEngineWithJane, type Engine } from './helpers/engine.js';
import type { InstanceClient } from '../src/instance/client.js';

const CORPUS = path.resolve(__dirname, '../../shared/corpus');
const crlf = (b: Buffer) => b.toString('latin1').replace(/\r?\n/g, '\r\n');

function corpusMessages(n: number, offset = 0): { name: string; folder: string; raw: Buffer }[] {
  const dir = path.join(CORPUS, 'ordinary/lore-linux-mips/block-2019');
  return readdirSync(dir).filter((f) => f.endsWith('.eml')).sort().slice(offset, offset + n).map((f) => ({ name: f, folder: 'Pages', raw: readFileSync(path.join(dir, f)) }));
}

interface StoreInfo { id: number; requestedState: string; messageCount: number | null }

describe('remembered FETCH rows (folder pages)', () => {
  let engine: Engine;
  let acme: InstanceClient;
  let session: string;
  let folderId: number;
  const expected = new Map<number, string>();

  const uidsNow = async () => (await acme.folderUids({ session, folderId })).uids;
  /** Every message through both FETCH calls, compared with what was imported. */
  async function checkAll(): Promise<number[]> {
    const uids = await uidsNow();
    const metas = await acme.fetchMeta({ session, folderId, uids, fields: [] });
    expect(metas.map((m) => m.uid)).toEqual(uids);
    const bodies = [];
    for (let i = 0; i < uids.length; i += 200) bodies.push(...await acme.readMessages({ session, folderId, ranges: uids.slice(i, i + 200).map((uid) => ({ uid })) }));
    bodies.forEach((b, i) => {
      expect('missing' in b).toBe(false);
      if ('missing' in b) return;
      expect(b.data.toString('latin1')).toBe(expected.get(uids[i]!));
      expect(b.size).toBe(metas[i]!.size);
    });
    return uids;
  }

  beforeAll(async () => {
    ({ engine, acme, session } = await startEngineWithJane());
  });
  afterAll(async () => { await engine?.close(); });

  async function ingest(msgs: { name: string; folder: string; raw: Buffer }[]): Promise<void> {
    const before = (await acme.listFolders({ session })).find((f) => f.path === 'jane/Pages')?.uidNext ?? 1;
    await acme.ingest('jane', msgs);
    folderId = (await acme.listFolders({ session })).find((f) => f.path === 'jane/Pages')!.id;
    msgs.forEach((m, i) => expected.set(before + i, crlf(m.raw)));
  }

  it('sees new mail in a page it has read, and byte ranges and unknown UIDs as before', async () => {
    await ingest(corpusMessages(300));
    expect(await checkAll()).toHaveLength(300);
    // UIDs 301-310 fall into the page of 256-511, which the reads above remembered.
    await ingest(corpusMessages(10, 300));
    expect(await checkAll()).toHaveLength(310);
    const [part, missing, nothing] = await acme.readMessages({ session, folderId, ranges: [{ uid: 305, start: 10, end: 20 }, { uid: 999 }, { uid: 0 }] });
    expect(part).toEqual({ size: expected.get(305)!.length, data: Buffer.from(expected.get(305)!.slice(10, 20), 'latin1') });
    expect(missing).toEqual({ missing: true });
    expect(nothing).toEqual({ missing: true });
    expect((await acme.fetchMeta({ session, folderId, uids: [999, 305, 305, 1], fields: [] })).map((m) => m.uid)).toEqual([1, 305]);
  });

  it('answers a scattered request (a few UIDs of many pages) with the same rows and bytes', async () => {
    // New mail elsewhere drops every remembered page: the few UIDs asked per page are read alone.
    await acme.ingest('jane', [{ name: 'elsewhere', folder: 'Elsewhere', raw: Buffer.from('Subject: elsewhere\r\n\r\nx\r\n') }]);
    const scattered = [2, 3, 130, 257, 301, 309];
    const metas = await acme.fetchMeta({ session, folderId, uids: scattered, fields: [] });
    expect(metas.map((m) => m.uid)).toEqual(scattered);
    const bodies = await acme.readMessages({ session, folderId, ranges: scattered.map((uid) => ({ uid })) });
    bodies.forEach((b, i) => expect('data' in b && b.data.toString('latin1')).toBe(expected.get(scattered[i]!)));
    expect(await checkAll()).toHaveLength(310);
  });

  it('reads the moved content after CompactStore', async () => {
    const stores = await acme.management<StoreInfo[]>('GetStores', {});
    await checkAll();
    await acme.management('CompactStore', { id: stores[0]!.id });
    expect(await checkAll()).toHaveLength(310);
  });

  it('joins pages of a folder spread over two stores, and follows a store disabled and enabled', async () => {
    const second = await acme.management<{ id: number }>('CreateStore', { name: 'second', requestedState: 'current' });
    await checkAll();
    // UIDs 311-330 land in the second store, in the page the first store's 256-310 are in.
    await ingest(corpusMessages(20, 310));
    expect((await acme.management<StoreInfo[]>('GetStores', {})).find((s) => s.id === second.id)!.messageCount).toBe(20);
    expect(await checkAll()).toHaveLength(330);
    await acme.management('SetStoreRequestedState', { id: second.id, requestedState: 'disabled' });
    expect(await checkAll()).toHaveLength(310);
    await acme.management('SetStoreRequestedState', { id: second.id, requestedState: 'normal' });
    expect(await checkAll()).toHaveLength(330);
  });
});
