import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { startEngine, type Engine } from './helpers/engine.js';
import type { InstanceClient } from '../src/instance/client.js';
import { normalizeLineEndings } from '../src/common/mime/index.js';

const CORPUS = path.resolve(__dirname, '../../shared/corpus');
const crlf = (b: Buffer) => normalizeLineEndings(b);

function files(dir: string, limit = Infinity): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (out.length >= limit) return;
      if (n.isDirectory()) { if (!n.name.startsWith('_')) walk(path.join(d, n.name)); }
      else if (n.name.endsWith('.eml')) out.push(path.join(d, n.name));
    }
  };
  walk(dir);
  return out;
}

describe('archive engine', () => {
  let engine: Engine;
  let acme: InstanceClient;

  beforeAll(async () => {
    engine = await startEngine();
    acme = await engine.startInstance('acme');
    await acme.management('CreateUser', { userName: 'jane', privileges: 'login', password: 'secret-jane' });
  });
  afterAll(async () => { await engine?.close(); });

  it('archives messages once and serves them back byte for byte with CRLF line endings', async () => {
    const list = files(path.join(CORPUS, 'fixtures/nodemailer-mailparser'), 40);
    const items = list.map((f) => ({ name: f, folder: 'Inbox', raw: readFileSync(f) }));
    const r1 = await acme.ingest('jane', items);
    expect(r1.imported + r1.duplicates).toBe(items.length);
    const r2 = await acme.ingest('jane', items);
    expect(r2.imported).toBe(0);
    expect(r2.duplicates).toBe(items.length);

    const auth = await acme.authenticate({ user: 'jane', password: 'secret-jane', channel: 'imap' });
    if (!auth.ok) throw new Error(auth.message);
    const folders = await acme.listFolders({ session: auth.session });
    const inbox = folders.find((f) => f.path === 'jane/Inbox')!;
    expect(inbox.messages).toBe(r1.imported);
    const { uids } = await acme.folderUids({ session: auth.session, folderId: inbox.id });
    expect(uids).toEqual(Array.from({ length: r1.imported }, (_, i) => i + 1));
    const distinct = new Map<string, Buffer>();
    for (const i of items) distinct.set(crlf(i.raw).toString('base64'), crlf(i.raw));
    const served = new Set<string>();
    for (const uid of uids) served.add((await acme.readMessageBuffer({ session: auth.session, folderId: inbox.id, uid })).toString('base64'));
    expect(served).toEqual(new Set(distinct.keys()));
    const meta = await acme.fetchMeta({ session: auth.session, folderId: inbox.id, uids: [1], fields: ['envelope', 'bodyStructure'] });
    expect(String(meta[0]!.envelope)).toMatch(/^\(/);
    expect(meta[0]!.flags).toEqual(['\\Seen']);
  });

  it('refuses wrong passwords and hides folders the user may not read', async () => {
    const bad = await acme.authenticate({ user: 'jane', password: 'nope', channel: 'imap' });
    expect(bad.ok).toBe(false);
    await acme.management('CreateUser', { userName: 'bob', privileges: 'login', password: 'pw-bob' });
    const bob = await acme.authenticate({ user: 'bob', password: 'pw-bob', channel: 'web' });
    if (!bob.ok) throw new Error('bob login failed');
    expect(await acme.listFolders({ session: bob.session })).toEqual([]);
    await expect(acme.folderStatus({ session: bob.session, folderId: 1 })).rejects.toThrow(/no such folder/);
  });
});
