import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readdirSync, statSync, mkdtempSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { startEngine, type Engine } from './helpers/engine.js';
import type { InstanceClient } from '../src/instance/client.js';
import { loadConfig } from '../src/common/config.js';
import { runImport } from '../src/cli/import.js';
import { randomPortOffset } from './helpers/ports.js';

const CORPUS = path.resolve(__dirname, '../../shared/corpus');
const CLI = path.resolve(__dirname, '../dist/cli.js');

function emlFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d, { withFileTypes: true })) {
      if (n.isDirectory()) { if (!n.name.startsWith('_')) walk(path.join(d, n.name)); }
      else if (n.name.endsWith('.eml')) out.push(path.join(d, n.name));
    }
  };
  walk(dir);
  return out.sort();
}

async function totalMessages(c: InstanceClient): Promise<number> {
  const s = await c.management<{ messageCount: number }>('GetInstanceStatistics', {});
  return s.messageCount;
}

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('import', () => {
  let engine: Engine;
  let acme: InstanceClient;
  const portOffset = randomPortOffset();

  beforeAll(async () => {
    engine = await startEngine({ portOffset });
    acme = await engine.startInstance('acme', 'automatic');
    await acme.management('CreateUser', { userName: 'jane', privileges: 'login', password: 'pw' });
  });
  afterAll(async () => { await engine?.close(); });

  it('archives the whole corpus, every file once, within 60 % of its raw size', async () => {
    const config = loadConfig({ data: engine.dataDir, 'port-offset': String(portOffset) });
    const fixtures = emlFiles(path.join(CORPUS, 'fixtures'));
    const ordinary = emlFiles(path.join(CORPUS, 'ordinary'));
    const a = await runImport(config, { instance: 'acme', user: 'jane', folder: 'fixtures', inputs: fixtures, quiet: true });
    const b = await runImport(config, { instance: 'acme', user: 'jane', folder: 'ordinary', inputs: ordinary, quiet: true });
    expect(a.failed + b.failed).toBe(0);
    expect(a.messages).toBe(fixtures.length);
    expect(b.messages).toBe(ordinary.length);
    // Byte-identical files inside one folder are one message; everything else is imported.
    expect(a.imported + a.duplicates).toBe(fixtures.length);
    expect(b.imported + b.duplicates).toBe(ordinary.length);
    const raw = [...fixtures, ...ordinary].reduce((n, f) => n + statSync(f).size, 0);
    await new Promise((r) => setTimeout(r, 1500)); // idle checkpoint folds the WAL files back
    const stores = await acme.management<{ size: number }[]>('GetStores', {});
    const stored = stores.reduce((n, s) => n + (s.size ?? 0), 0);
    console.log(`corpus: ${fixtures.length + ordinary.length} files, ${(raw / 1048576).toFixed(1)} MB raw, ${(stored / 1048576).toFixed(1)} MB stored (${((stored / raw) * 100).toFixed(1)} %), ${((a.seconds + b.seconds)).toFixed(1)} s`);
    expect(stored / raw).toBeLessThanOrEqual(0.6);
    const again = await runImport(config, { instance: 'acme', user: 'jane', folder: 'fixtures', inputs: fixtures, quiet: true });
    expect(again.imported).toBe(0);
    const report = await acme.management<{ problems: string[] }[]>('VerifyStores', { includeIndexes: true });
    expect(report.flatMap((r) => r.problems)).toEqual([]);
  }, 300_000);

  it('imports mbox and Maildir keeping folders and Maildir flags, from the command line', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'coffer-src-'));
    const msg = (n: number) => `From: a@example.org\nTo: b@example.org\nSubject: test ${n}\nMessage-ID: <m${n}@example.org>\n\nbody ${n}\nFrom the start of a line\n`;
    writeFileSync(path.join(dir, 'lists.mbox'), [1, 2, 3].map((n) => `From a@example.org Fri Feb 22 17:06:23 2008\n${msg(n).replace('\nFrom the', '\n>From the')}\n`).join(''));
    for (const [sub, name, flags] of [['', 'inbox1', 'S'], ['.Sent', 'sent1', 'RS'], ['.Lists.linux', 'l1', 'F']] as const) {
      for (const d of ['cur', 'new', 'tmp']) mkdirSync(path.join(dir, 'Maildir', sub, d), { recursive: true });
      writeFileSync(path.join(dir, 'Maildir', sub, 'cur', `${name}:2,${flags}`), msg(name.length + flags.length * 10));
    }
    const r = await runCli(['import', '--data', engine.dataDir, '--port-offset', String(portOffset), '--instance', 'acme', '--user', 'jane', '--folder', 'src', path.join(dir, 'lists.mbox'), path.join(dir, 'Maildir')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^imported 6, duplicates skipped 0/);
    const auth = await acme.authenticate({ user: 'jane', password: 'pw', channel: 'imap' });
    if (!auth.ok) throw new Error(auth.message);
    const folders = await acme.listFolders({ session: auth.session });
    const byPath = new Map(folders.map((f) => [f.path, f]));
    expect(byPath.get('jane/src')?.messages).toBe(3);
    expect(byPath.get('jane/src/Inbox')?.messages).toBe(1);
    expect(byPath.get('jane/src/Sent')?.messages).toBe(1);
    expect(byPath.get('jane/src/Lists/linux')?.messages).toBe(1);
    const sent = await acme.fetchMeta({ session: auth.session, folderId: byPath.get('jane/src/Sent')!.id, uids: [1], fields: [] });
    expect(sent[0]!.flags.sort()).toEqual(['\\Answered', '\\Seen']);
    const linux = await acme.fetchMeta({ session: auth.session, folderId: byPath.get('jane/src/Lists/linux')!.id, uids: [1], fields: [] });
    expect(linux[0]!.flags).toEqual(['\\Flagged']);
    const first = await acme.readMessageBuffer({ session: auth.session, folderId: byPath.get('jane/src')!.id, uid: 1 });
    expect(first.toString()).toBe(msg(1).replace(/\n/g, '\r\n'));
    const mboxMeta = await acme.fetchMeta({ session: auth.session, folderId: byPath.get('jane/src')!.id, uids: [1], fields: [] });
    expect(new Date(mboxMeta[0]!.internalDate).toISOString()).toBe('2008-02-22T17:06:23.000Z');
  });

  it('answers bad input with a clear error and a non-zero exit code', async () => {
    const noUser = await runCli(['import', '--data', engine.dataDir, '--port-offset', String(portOffset), '--instance', 'acme', '--user', 'nobody', path.join(CORPUS, 'ordinary/lore-linux-mips/block-2001/06850-2001-06-01.eml')]);
    expect(noUser.code).toBe(1);
    expect(noUser.stderr).toMatch(/user "nobody" does not exist/);
    const noInstance = await runCli(['import', '--data', engine.dataDir, '--port-offset', String(portOffset), '--instance', 'nope', '--user', 'jane', path.join(CORPUS, 'ordinary/lore-linux-mips/block-2001/06850-2001-06-01.eml')]);
    expect(noInstance.code).toBe(1);
    expect(noInstance.stderr).toMatch(/instance nope is not known/);
    const missing = await runCli(['import', '--data', engine.dataDir, '--port-offset', String(portOffset), '--instance', 'acme', '--user', 'jane', '/no/such/file.eml']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no such file or directory/);
    const usage = await runCli(['import', '--instance', 'acme']);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toMatch(/usage: coffer import/);
  });

  it('ends with every message exactly once after kill -9 of the import or of the instance, and a clean verify', async () => {
    const files = emlFiles(path.join(CORPUS, 'ordinary/spamassassin-publiccorpus')).slice(0, 1500);
    const args = ['import', '--data', engine.dataDir, '--port-offset', String(portOffset), '--instance', 'acme', '--user', 'jane', '--folder', 'crash', path.dirname(files[0]!)];
    const before = await totalMessages(acme);
    // kill -9 the import in the middle
    const spawnImport = () => { const child = spawn(process.execPath, [CLI, ...args], { stdio: 'ignore' }); return { child, exited: new Promise((r) => child.on('exit', r)) }; };
    const p = spawnImport();
    await new Promise((r) => setTimeout(r, 700));
    p.child.kill('SIGKILL');
    await p.exited;
    // kill -9 the instance in the middle of the next run; automatic start mode brings it back
    const p2 = spawnImport();
    await new Promise((r) => setTimeout(r, 500));
    const oldPid = engine.supervisor.get('acme')!.pid;
    engine.supervisor.kill('acme');
    await p2.exited;
    // Wait for the restarted process, not the old one's last status.
    const restarted = () => engine.supervisor.get('acme')!.status === 'running' && engine.supervisor.get('acme')!.pid !== oldPid;
    for (let i = 0; i < 150 && !restarted(); i++) await new Promise((r) => setTimeout(r, 100));
    expect(engine.supervisor.get('acme')!.status).toBe('running');
    const c = await engine.connect('acme');
    const final = await runCli(args);
    expect(final.stderr).toBe('');
    expect(final.code).toBe(0);
    const dirFiles = readdirSync(path.dirname(files[0]!)).filter((n) => n.endsWith('.eml'));
    const distinct = new Set(dirFiles.map((n) => readFileSync(path.join(path.dirname(files[0]!), n)).toString('base64')));
    const auth = await c.authenticate({ user: 'jane', password: 'pw', channel: 'imap' });
    if (!auth.ok) throw new Error(auth.message);
    const crash = (await c.listFolders({ session: auth.session })).find((f) => f.path === 'jane/crash');
    expect(crash?.messages, final.stdout).toBe(distinct.size);
    const { uids } = await c.folderUids({ session: auth.session, folderId: crash!.id });
    expect(uids.length).toBe(distinct.size);
    const contents = new Set<string>();
    for (const uid of uids) contents.add((await c.readMessageBuffer({ session: auth.session, folderId: crash!.id, uid })).toString('base64'));
    expect(contents.size).toBe(distinct.size);
    expect((await totalMessages(c)) - before).toBe(distinct.size);
    const report = await c.management<{ problems: string[] }[]>('VerifyStores', { includeIndexes: true });
    expect(report.flatMap((r) => r.problems)).toEqual([]);
  }, 120_000);
});
