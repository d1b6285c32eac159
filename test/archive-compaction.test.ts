/**
 * Content written again by store maintenance keeps the form ingest gave it: attachments' base64
 * bodies stored decoded. CompactStore and MergeStore used to write each message back as text,
 * which made the content area of attachment-heavy mail grow by compacting it.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { startEngineWithJane, type Engine } from './helpers/engine.js';
import type { InstanceClient } from '../src/instance/client.js';
import { generateMessage } from '../src/bench/generate.js';

interface StoreInfo { id: number; contentPath: string; messageCount: number | null }

const contentBytes = (store: StoreInfo) => {
  const dir = path.join(store.contentPath, 'content');
  return readdirSync(dir).filter((f) => f.endsWith('.dat')).reduce((n, f) => n + statSync(path.join(dir, f)).size, 0);
};

describe('store maintenance keeps attachments stored decoded', () => {
  let engine: Engine;
  let acme: InstanceClient;
  let session: string;
  const imported: Buffer[] = [];
  /** The content area as ingest wrote it. */
  let ingestedBytes = 0;

  beforeAll(async () => {
    ({ engine, acme, session } = await startEngineWithJane());
    // Generated business mail: about half of its bytes are base64 attachments (images, PDFs, documents).
    for (let i = 0; i < 80; i++) imported.push(generateMessage(11, i).raw);
  });
  afterAll(async () => { await engine?.close(); });

  const readAll = async () => {
    const f = (await acme.listFolders({ session })).find((x) => x.path === 'jane/Attachments')!;
    const { uids } = await acme.folderUids({ session, folderId: f.id });
    return Promise.all(uids.map((uid) => acme.readMessageBuffer({ session, folderId: f.id, uid })));
  };

  it('CompactStore does not grow the content of attachment-heavy mail, and every message reads back as imported', async () => {
    await acme.ingest('jane', imported.map((raw, i) => ({ name: `m${i}`, folder: 'Attachments', raw })));
    const store = (await acme.management<StoreInfo[]>('GetStores', {}))[0]!;
    const before = contentBytes(store);
    ingestedBytes = before;
    const r = await acme.management<{ bytesBefore: number; bytesAfter: number }>('CompactStore', { id: store.id });
    expect(r.bytesBefore).toBe(before);
    // Nothing to reclaim here: the same content in the same form, give or take block boundaries.
    expect(r.bytesAfter).toBeLessThanOrEqual(before * 1.005);
    expect((await readAll()).map((b) => b.toString('base64'))).toEqual(imported.map((b) => b.toString('base64')));
    expect((await acme.management<{ problems: string[] }>('VerifyStore', { id: store.id, includeIndexes: true })).problems).toEqual([]);
  });

  it('MergeStore moves the content in the same form', async () => {
    const first = (await acme.management<StoreInfo[]>('GetStores', {}))[0]!;
    const created = await acme.management<{ id: number }>('CreateStore', { name: 'target', requestedState: 'current' });
    await acme.management('MergeStore', { id: created.id, sourceId: first.id });
    const target = (await acme.management<StoreInfo[]>('GetStores', {})).find((s) => s.id === created.id)!;
    expect(target.messageCount).toBe(imported.length);
    expect(contentBytes(target)).toBeLessThanOrEqual(ingestedBytes * 1.005);
    expect((await readAll()).map((b) => b.toString('base64'))).toEqual(imported.map((b) => b.toString('base64')));
    expect((await acme.management<{ problems: string[] }[]>('VerifyStores', { includeIndexes: true })).flatMap((v) => v.problems)).toEqual([]);
  });
});
