import { afterAll, describe, expect, it } from 'vitest';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { randomPortOffset } from './helpers/ports.js';

const run = promisify(execFile);
const CLI = path.resolve(__dirname, '../dist/cli.js');
const CORPUS = path.resolve(__dirname, '../../shared/corpus');
const env = { ...process.env, COFFER_LOG_LEVEL: 'warn', COFFER_ADMIN_PASSWORD: 'Host-crash-test-1' };

async function startCoffer(data: string, offset: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI, 'start', '--data', data, '--port-offset', offset], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
  const until = Date.now() + 60_000;
  while (!output.includes('Stop with Ctrl+C')) {
    if (child.exitCode !== null || Date.now() > until) throw new Error(`coffer start did not come up:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return child;
}

async function coffer(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try { const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env }); return { code: 0, stdout, stderr }; }
  catch (e) { const x = e as { code: number; stdout: string; stderr: string }; return { code: x.code, stdout: x.stdout, stderr: x.stderr }; }
}

describe('kill -9 of the whole server (Instance Host included) in the middle of an import', () => {
  const children: ChildProcess[] = [];
  const data = mkdtempSync(path.join(os.tmpdir(), 'coffer-hostcrash-'));
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    rmSync(data, { recursive: true, force: true });
  });

  it('ends with every message exactly once after rerunning the import, and VerifyStores is clean', async () => {
    const offset = String(randomPortOffset());
    const base = ['--data', data, '--port-offset', offset];
    const api = async (fn: string, ...args: string[]) => {
      const r = await coffer(['api', ...base, fn, ...args]);
      if (r.code !== 0) throw new Error(`${fn}: ${r.stdout}${r.stderr}`);
      return JSON.parse(r.stdout).result;
    };
    let server = await startCoffer(data, offset);
    children.push(server);
    await api('CreateInstance', `--config=${JSON.stringify({ instanceID: 'acme', instanceHost: os.hostname().toLowerCase(), startMode: 'automatic' })}`);
    await api('StartInstances', '--instanceFilter=acme');
    await api('CreateUser', '--instanceID=acme', '--userName=jane', '--privileges=login', '--password=jane-secret');

    const dir = path.join(CORPUS, 'ordinary/spamassassin-publiccorpus');
    const importArgs = ['import', ...base, '--instance', 'acme', '--user', 'jane', '--folder', 'spam', dir];
    const imp = spawn(process.execPath, [CLI, ...importArgs], { env, stdio: 'ignore' });
    const impExited = new Promise((r) => imp.on('exit', r));
    await new Promise((r) => setTimeout(r, 1500));
    const serverExited = new Promise((r) => server.once('exit', r));
    server.kill('SIGKILL');
    await Promise.all([impExited, serverExited]);

    server = await startCoffer(data, offset);
    children.push(server);
    // The automatic instance comes back with the Instance Host.
    for (let i = 0; i < 100; i++) {
      const [inst] = await api('GetInstances', '--instanceFilter=acme') as { status: string }[];
      if (inst!.status === 'running') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const partial = (await api('GetFolderStatistics', '--instanceID=acme') as { folder: string; count: number }[]).filter((s) => s.folder.startsWith('jane/spam')).reduce((n, s) => n + s.count, 0);
    const again = await coffer(importArgs);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);

    // Distinct contents per sub-folder (identical files in one folder are one message).
    let expected = 0;
    for (const sub of readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory())) {
      const files = readdirSync(path.join(dir, sub.name)).filter((n) => n.endsWith('.eml'));
      expected += new Set(files.map((n) => readFileSync(path.join(dir, sub.name, n)).toString('base64'))).size;
    }
    const stats = (await api('GetFolderStatistics', '--instanceID=acme') as { folder: string; count: number }[]).filter((s) => s.folder.startsWith('jane/spam'));
    expect(partial, 'the kill came in the middle of the import').toBeLessThan(expected);
    expect(stats.reduce((n, s) => n + s.count, 0)).toBe(expected);
    const verify = await api('VerifyStores', '--instanceID=acme', '--includeIndexes=true') as { problems: string[] }[];
    expect(verify.flatMap((v) => v.problems)).toEqual([]);
    const stopped = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await stopped;
  }, 180_000);
});
