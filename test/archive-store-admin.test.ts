import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { startEngineWithJane, type Engine } from './helpers/engine.js';
import type { InstanceClient } from '../src/instance/client.js';

const DIR = path.resolve(__dirname, '../../shared/corpus/ordinary/lore-linux-mips/block-2001');
const msgs = (from: number, n: number, folder: string) => readdirSync(DIR).filter((f) => f.endsWith('.eml')).sort().slice(from, from + n).map((f) => ({ name: f, folder, raw: readFileSync(path.join(DIR, f)) }));
interface StoreInfo { id: number; requestedState: string; messageCount: number | null }

describe('folder moves and the remaining store functions', () => {
  let engine: Engine;
  let acme: InstanceClient;
  let session: string;
  const folder = async (p: string) => (await acme.listFolders({ session })).find((f) => f.path === p);

  beforeAll(async () => {
    ({ engine, acme, session } = await startEngineWithJane());
  });
  afterAll(async () => { await engine?.close(); });

  it('moves a folder with its sub-folders, keeping UIDs, UIDVALIDITY and content; RecoverStore keeps the new names', async () => {
    await acme.ingest('jane', [...msgs(0, 20, 'Lists/mips'), ...msgs(20, 5, 'Lists/mips/old')]);
    const before = (await folder('jane/Lists/mips'))!;
    const uidsBefore = await acme.folderUids({ session, folderId: before.id });
    await expect(acme.management('MoveFolder', { fromFolder: 'jane/Lists/mips', toFolder: 'jane/Lists/mips/inside' })).rejects.toThrow(/into itself/);
    await expect(acme.management('MoveFolder', { fromFolder: 'jane/nope', toFolder: 'jane/x' })).rejects.toThrow(/does not exist/);
    await acme.management('MoveFolder', { fromFolder: 'jane/Lists/mips', toFolder: 'jane/Archive/linux-mips' });
    expect(await folder('jane/Lists/mips')).toBeUndefined();
    const after = (await folder('jane/Archive/linux-mips'))!;
    expect(after.id).toBe(before.id);
    expect(after.uidValidity).toBe(before.uidValidity);
    expect((await folder('jane/Archive/linux-mips/old'))?.messages).toBe(5);
    expect((await acme.folderUids({ session, folderId: after.id })).uids).toEqual(uidsBefore.uids);
    const store = (await acme.management<StoreInfo[]>('GetStores', {}))[0]!;
    await acme.management('SetStoreRequestedState', { id: store.id, requestedState: 'disabled' });
    await acme.management('RecoverStore', { id: store.id });
    await acme.management('SetStoreRequestedState', { id: store.id, requestedState: 'current' });
    expect((await folder('jane/Archive/linux-mips'))?.messages).toBe(20);
    expect((await folder('jane/Archive/linux-mips/old'))?.messages).toBe(5);
  });

  it('merges one store into another: every message readable and searchable, the source gone', async () => {
    const created = await acme.management<{ id: number }>('CreateStore', { name: 'Second', requestedState: 'current' });
    await acme.ingest('jane', msgs(40, 30, 'Merged'));
    const merged = (await folder('jane/Merged'))!;
    const bodies = await Promise.all([1, 15, 30].map((uid) => acme.readMessageBuffer({ session, folderId: merged.id, uid })));
    const first = (await acme.management<StoreInfo[]>('GetStores', {})).find((s) => s.id !== created.id)!;
    await expect(acme.management('MergeStore', { id: first.id, sourceId: first.id })).rejects.toThrow(/differ/);
    const r = await acme.management<{ messages: number }>('MergeStore', { id: first.id, sourceId: created.id });
    expect(r.messages).toBe(30);
    const stores = await acme.management<StoreInfo[]>('GetStores', {});
    expect(stores.map((s) => s.id)).toEqual([first.id]);
    expect(stores[0]!.requestedState).toBe('current');
    expect((await folder('jane/Merged'))?.messages).toBe(30);
    const again = await Promise.all([1, 15, 30].map((uid) => acme.readMessageBuffer({ session, folderId: merged.id, uid })));
    expect(again.map((b) => b.toString('base64'))).toEqual(bodies.map((b) => b.toString('base64')));
    expect((await acme.search({ session, folderId: merged.id, criteria: { key: 'body', value: 'mips' } })).length).toBeGreaterThan(0);
    const verify = await acme.management<{ problems: string[] }[]>('VerifyStores', { includeIndexes: true });
    expect(verify.flatMap((v) => v.problems)).toEqual([]);
  });

  it('recreates recovery records, repairs, maintains and answers UpgradeStore truthfully', async () => {
    const id = (await acme.management<StoreInfo[]>('GetStores', {}))[0]!.id;
    expect((await acme.management<{ records: number }>('RecreateRecoveryRecords', { id })).records).toBeGreaterThan(0);
    expect(await acme.management('RepairStoreDatabase', { id })).toEqual({ ok: true, problems: [] });
    expect((await acme.management<{ stores: number }>('MaintainFileSystemDatabases', {})).stores).toBe(1);
    expect(await acme.management('UpgradeStore', { id })).toMatchObject({ upgraded: false });
    await expect(acme.management('UpgradeStore', { id: 77 })).rejects.toThrow(/does not exist/);
    // Rebuilding the index from content gives back the same search answers.
    const merged = (await folder('jane/Merged'))!;
    const before = await acme.search({ session, folderId: merged.id, criteria: { key: 'body', value: 'mips' } });
    await acme.management('SelectAllStoreIndexesForRebuild', {});
    expect(await acme.management<{ id: number; messages: number }[]>('RebuildSelectedStoreIndexes', {})).toEqual([{ id, messages: 55 }]);
    expect(await acme.search({ session, folderId: merged.id, criteria: { key: 'body', value: 'mips' } })).toEqual(before);
    const verify = await acme.management<{ problems: string[] }[]>('VerifyStores', { includeIndexes: true });
    expect(verify.flatMap((v) => v.problems)).toEqual([]);
  });
});
