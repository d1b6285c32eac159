import { afterAll, describe, expect, it } from 'vitest';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { randomPortOffset } from './helpers/ports.js';

const run = promisify(execFile);
const CLI = path.resolve(__dirname, '../dist/cli.js');
const env = (() => { const e = { ...process.env, COFFER_LOG_LEVEL: 'warn' }; delete e.COFFER_ADMIN_PASSWORD; return e; })();

interface Started { child: ChildProcess; output: () => string; exited: Promise<number | null> }

async function startCoffer(args: string[]): Promise<Started> {
  const child = spawn(process.execPath, [CLI, 'start', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const until = Date.now() + 60_000;
  while (!output.includes('Stop with Ctrl+C')) {
    if (child.exitCode !== null || Date.now() > until) throw new Error(`coffer start did not come up:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, output: () => output, exited };
}

async function coffer(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const isAlive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

describe('coffer start, coffer api and coffer import as real processes', () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('starts single server mode, takes API calls and an import, and stops cleanly on SIGTERM', async () => {
    const data = mkdtempSync(path.join(os.tmpdir(), 'coffer-cli-'));
    dirs.push(data);
    const offset = String(randomPortOffset());
    const started = await startCoffer(['--data', data, '--port-offset', offset]);
    children.push(started.child);
    const out = started.output();
    expect(out).toMatch(new RegExp(`Management API \\(HTTPS\\)\\s+https://127\\.0\\.0\\.1:${8474 + Number(offset)}/api/`));
    expect(out).toMatch(/Management Server\s+[0-9A-F]{40}/);
    expect(out).toMatch(/Instance Host\s+[0-9A-F]{40}/);
    const passwordFile = path.join(data, 'config', 'admin-password.txt');
    expect(out).toContain(passwordFile);
    expect(statSync(passwordFile).mode & 0o777).toBe(0o600);

    const base = ['--data', data, '--port-offset', offset];
    const api = (fn: string, ...args: string[]) => coffer(['api', ...base, fn, ...args]);
    // Without --demo nothing is created.
    expect(JSON.parse((await api('GetInstances', '--instanceFilter=*')).stdout).result).toEqual([]);

    const host = os.hostname().toLowerCase();
    const created = await api('CreateInstance', `--config=${JSON.stringify({ instanceID: 'acme', instanceHost: host, startMode: 'manual' })}`);
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ statusCode: 'succeeded', result: { instanceID: 'acme' } });
    expect((await api('StartInstances', '--instanceFilter', 'acme')).code).toBe(0);
    expect((await api('CreateUser', '--instanceID=acme', '--userName=jane', '--privileges=login', '--password=jane-secret')).code).toBe(0);

    const mail = path.join(data, 'mail-to-import');
    mkdirSync(mail);
    for (let i = 1; i <= 3; i++) {
      writeFileSync(path.join(mail, `${i}.eml`), `From: a@example.com\r\nTo: jane@example.com\r\nSubject: message ${i}\r\nMessage-ID: <m${i}@example.com>\r\nDate: Mon, 5 Jan 2026 10:0${i}:00 +0000\r\n\r\nBody ${i}\r\n`);
    }
    const imported = await coffer(['import', ...base, '--instance', 'acme', '--user', 'jane', '--folder', 'Imported', mail]);
    expect(imported.code).toBe(0);
    expect(imported.stdout).toMatch(/imported 3/);
    const stats = JSON.parse((await api('GetFolderStatistics', '--instanceID=acme')).stdout).result;
    expect(stats).toContainEqual(expect.objectContaining({ folder: 'jane/Imported', count: 3 }));

    // Failures exit 1 with the envelope; a wrong password is refused.
    const bad = await api('CreateInstance', `--config=${JSON.stringify({ instanceID: '1bad', instanceHost: host })}`);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).error.message).toMatch(/instanceID/);
    expect((await coffer(['api', '-p', 'wrong-password', ...base, 'Ping'])).code).toBe(1);
    expect((await coffer(['api', ...base])).stderr).toMatch(/no function name/);
    // Explicit server, credentials and pinned thumbprint, as MailStoreManagementCmd takes them.
    const thumbprint = /Management Server\s+([0-9A-F]{40})/.exec(out)![1]!;
    const password = readFileSync(passwordFile, 'utf8').trim();
    const explicit = ['api', '-s', `127.0.0.1:${8474 + Number(offset)}`, '-u', 'admin', '-p', password];
    expect((await coffer([...explicit, '-t', thumbprint, 'Ping'])).code).toBe(0);
    const wrongPin = await coffer([...explicit, '-t', '00'.repeat(20), 'Ping']);
    expect(wrongPin.code).toBe(1);
    expect(wrongPin.stderr).toMatch(/thumbprint .* does not match/);

    const pid = JSON.parse((await api('GetInstances', '--instanceFilter=acme')).stdout).result[0].processID as number;
    expect(isAlive(pid)).toBe(true);
    started.child.kill('SIGTERM');
    expect(await started.exited).toBe(0);
    expect(started.output()).toContain('Coffer stopped.');
    expect(isAlive(pid)).toBe(false);
  });

  it('creates the demo instance with its user and sample mail on a first start with --demo', async () => {
    const data = mkdtempSync(path.join(os.tmpdir(), 'coffer-demo-'));
    dirs.push(data);
    const offset = String(randomPortOffset());
    const started = await startCoffer(['--data', data, '--port-offset', offset, '--demo']);
    children.push(started.child);
    const password = readFileSync(path.join(data, 'config', 'demo-password.txt'), 'utf8').trim();
    expect(started.output()).toContain(`user 'demo', password ${password}`);
    const base = ['api', '--data', data, '--port-offset', offset];
    const stats = JSON.parse((await coffer([...base, 'GetInstanceStatistics', '--instanceID=demo'])).stdout).result;
    expect(stats.messageCount).toBeGreaterThanOrEqual(300);
    const users = JSON.parse((await coffer([...base, 'GetUsers', '--instanceID=demo'])).stdout).result;
    expect(users).toEqual([expect.objectContaining({ userName: 'demo' })]);
    started.child.kill('SIGINT');
    expect(await started.exited).toBe(0);

    // Second start: the demo is not made again, and the instance (start mode automatic) is
    // started as soon as its Instance Host connects.
    const again = await startCoffer(['--data', data, '--port-offset', offset, '--demo']);
    children.push(again.child);
    expect(again.output()).toContain(`password in ${path.join(data, 'config', 'demo-password.txt')}`);
    const until = Date.now() + 30_000;
    let rows: { status: string }[] = [];
    while (Date.now() < until) {
      rows = JSON.parse((await coffer([...base, 'GetInstances', '--instanceFilter=*'])).stdout).result;
      if (rows[0]?.status === 'running') break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(rows).toEqual([expect.objectContaining({ instanceID: 'demo', status: 'running' })]);
    expect(JSON.parse((await coffer([...base, 'GetInstanceStatistics', '--instanceID=demo'])).stdout).result.messageCount).toBe(stats.messageCount);
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  });
});
