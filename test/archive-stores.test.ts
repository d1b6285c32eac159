import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startEngineWithJane, type Engine } from './helpers/engine.js';
import type { InstanceClient } from '../src/instance/client.js';

const CORPUS = path.resolve(__dirname, '../../shared/corpus');

function someMessages(n: number): { name: string; folder: string; raw: Buffer }[] {
  const dir = path.join(CORPUS, 'ordinary/lore-linux-mips/block-2019');
  return readdirSync(dir).filter((f) => f.endsWith('.eml')).sort().slice(0, n).map((f) => ({ name: f, folder: 'Lists/linux-mips', raw: readFileSync(path.join(dir, f)) }));
}

interface StoreInfo { id: number; name: string; requestedState: string; actualState: string; messageCount: number | null; size: number | null }

describe('archive stores', () => {
  let engine: Engine;
  let acme: InstanceClient;
  let session: string;
  const folderId = async () => (await acme.listFolders({ session })).find((f) => f.path === 'jane/Lists/linux-mips')!;

  beforeAll(async () => {
    ({ engine, acme, session } = await startEngineWithJane());
  });
  afterAll(async () => { await engine?.close(); });

  it('creates a new current store when the current one passes its size threshold, and a folder spans stores', async () => {
    await acme.management('SetStoreAutoCreateConfiguration', { config: { sizeThreshold: '200 KB' } });
    const msgs = someMessages(300);
    for (let i = 0; i < msgs.length; i += 50) await acme.ingest('jane', msgs.slice(i, i + 50));
    const stores = await acme.management<StoreInfo[]>('GetStores', {});
    expect(stores.length).toBeGreaterThan(1);
    expect(stores.filter((s) => s.requestedState === 'current')).toHaveLength(1);
    expect(stores.filter((s) => (s.messageCount ?? 0) > 0).length).toBeGreaterThan(1);
    const f = await folderId();
    expect(f.messages).toBe(300);
    const { uids } = await acme.folderUids({ session, folderId: f.id });
    expect(uids).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    for (const uid of [1, 150, 300]) {
      const got = await acme.readMessageBuffer({ session, folderId: f.id, uid });
      expect(got.toString('latin1')).toBe(msgs[uid - 1]!.raw.toString('latin1').replace(/\r?\n/g, '\r\n'));
    }
    await acme.management('SetStoreAutoCreateConfiguration', { config: { sizeThreshold: null } });
  });

  it('hides a disabled store’s messages and shows them again when it is enabled', async () => {
    const stores = await acme.management<StoreInfo[]>('GetStores', {});
    const first = stores[0]!;
    const before = (await folderId()).messages;
    await acme.management('SetStoreRequestedState', { id: first.id, requestedState: 'disabled' });
    expect((await folderId()).messages).toBe(before - (first.messageCount ?? 0));
    await acme.management('SetStoreRequestedState', { id: first.id, requestedState: 'normal' });
    expect((await folderId()).messages).toBe(before);
    await expect(acme.management('SetStoreRequestedState', { id: first.id, requestedState: 'bogus' })).rejects.toThrow(/requestedState/);
    await expect(acme.management('SetStoreRequestedState', { id: 999, requestedState: 'normal' })).rejects.toThrow(/does not exist/);
  });

  it('recovers a store’s database from its content alone: same folders, UIDs, flags and bytes; verify stays clean', async () => {
    const stores = await acme.management<StoreInfo[]>('GetStores', {});
    const target = stores.find((s) => (s.messageCount ?? 0) > 0)!;
    const f = await folderId();
    const { uids } = await acme.folderUids({ session, folderId: f.id });
    const before = await acme.fetchMeta({ session, folderId: f.id, uids, fields: ['envelope', 'bodyStructure'] });
    const bodies = await Promise.all(uids.map((uid) => acme.readMessageBuffer({ session, folderId: f.id, uid })));
    await expect(acme.management('RecoverStore', { id: target.id })).rejects.toThrow(/disabled or error state/);
    await acme.management('SetStoreRequestedState', { id: target.id, requestedState: 'disabled' });
    const result = await acme.management<{ messages: number; problems: string[] }>('RecoverStore', { id: target.id });
    expect(result.problems).toEqual([]);
    expect(result.messages).toBe(target.messageCount);
    await acme.management('SetStoreRequestedState', { id: target.id, requestedState: target.requestedState });
    const after = await acme.fetchMeta({ session, folderId: f.id, uids, fields: ['envelope', 'bodyStructure'] });
    expect(after.map((m) => [m.uid, m.flags, m.size, m.envelope, m.bodyStructure, m.internalDate])).toEqual(before.map((m) => [m.uid, m.flags, m.size, m.envelope, m.bodyStructure, m.internalDate]));
    const bodiesAfter = await Promise.all(uids.map((uid) => acme.readMessageBuffer({ session, folderId: f.id, uid })));
    expect(bodiesAfter.map((b) => b.toString('base64'))).toEqual(bodies.map((b) => b.toString('base64')));
    const verify = await acme.management<{ problems: string[] }[]>('VerifyStores', { includeIndexes: true });
    expect(verify.flatMap((v) => v.problems)).toEqual([]);
    // Search still answers from the rebuilt index.
    const hits = await acme.search({ session, folderId: f.id, criteria: { key: 'body', value: 'mips' } });
    expect(hits.length).toBeGreaterThan(0);
  });

  it('reports damaged content in VerifyStore and reclaims space with CompactStore', async () => {
    const stores = await acme.management<StoreInfo[]>('GetStores', {});
    const s = stores.find((x) => (x.messageCount ?? 0) > 0)!;
    const r = await acme.management<{ bytesBefore: number; bytesAfter: number }>('CompactStore', { id: s.id });
    expect(r.bytesAfter).toBeLessThanOrEqual(r.bytesBefore);
    const verify = await acme.management<{ problems: string[] }>('VerifyStore', { id: s.id, includeIndexes: true });
    expect(verify.problems).toEqual([]);
    // Damage one byte in the middle of the content, verify reports it, then repair the byte.
    const info = (await acme.management<(StoreInfo & { contentPath: string })[]>('GetStores', {})).find((x) => x.id === s.id)!;
    const pack = path.join(info.contentPath, 'content', 'pack-000001.dat');
    const bytes = readFileSync(pack);
    const at = Math.floor(bytes.length / 2);
    const original = bytes[at]!;
    bytes[at] = original ^ 0xff;
    writeFileSync(pack, bytes);
    const damaged = await acme.management<{ problems: string[] }>('VerifyStore', { id: s.id, includeIndexes: false });
    expect(damaged.problems.length).toBeGreaterThan(0);
    bytes[at] = original;
    writeFileSync(pack, bytes);
    expect((await acme.management<{ problems: string[] }>('VerifyStore', { id: s.id, includeIndexes: false })).problems).toEqual([]);
  });

  it('pauses writes while frozen and takes them again after thaw; safe mode admits administrators only', async () => {
    await engine.supervisor.freeze('acme');
    expect(engine.supervisor.get('acme')!.status).toBe('frozen');
    let done = false;
    const pending = acme.ingest('jane', [{ name: 'x', folder: 'Frozen', raw: Buffer.from('Subject: frozen\r\n\r\nhello\r\n') }]).then((r) => { done = true; return r; });
    await new Promise((r) => setTimeout(r, 300));
    expect(done).toBe(false);
    // Reads go on while frozen.
    expect((await acme.listFolders({ session })).length).toBeGreaterThan(0);
    await engine.supervisor.thaw('acme');
    expect((await pending).imported).toBe(1);
    await acme.management('CreateUser', { userName: 'root', privileges: 'admin', password: 'pw-root' });
    engine.supervisor.setSafeMode('acme', true);
    await new Promise((r) => setTimeout(r, 100));
    const jane = await acme.authenticate({ user: 'jane', password: 'pw', channel: 'imap' });
    expect(jane.ok).toBe(false);
    if (!jane.ok) expect(jane.reason).toBe('safeMode');
    expect((await acme.authenticate({ user: 'root', password: 'pw-root', channel: 'imap' })).ok).toBe(true);
    engine.supervisor.setSafeMode('acme', false);
    await new Promise((r) => setTimeout(r, 100));
    expect((await acme.authenticate({ user: 'jane', password: 'pw', channel: 'imap' })).ok).toBe(true);
  });

  it('restarts a crashed instance whose start mode is automatic and records why it stopped', async () => {
    engine.supervisor.define({ instanceId: 'globex', baseDir: path.join(engine.dataDir, 'instances', 'globex'), startMode: 'automatic' });
    await engine.supervisor.start('globex');
    const pid = engine.supervisor.get('globex')!.pid;
    engine.supervisor.kill('globex');
    for (let i = 0; i < 50 && engine.supervisor.get('globex')!.status !== 'error'; i++) await new Promise((r) => setTimeout(r, 20));
    expect(engine.supervisor.get('globex')!.startStopError).toMatch(/SIGKILL/);
    for (let i = 0; i < 100 && engine.supervisor.get('globex')!.status !== 'running'; i++) await new Promise((r) => setTimeout(r, 50));
    const st = engine.supervisor.get('globex')!;
    expect(st.status).toBe('running');
    expect(st.pid).not.toBe(pid);
    expect(st.startStopError).toBeNull();
    const c = await engine.connect('globex');
    expect((await c.status()).instanceId).toBe('globex');
  });
});
