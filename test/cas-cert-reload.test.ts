import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { generateSelfSigned } from '../src/common/certs.js';
import { randomPortOffset } from './helpers/ports.js';

const CLI = path.resolve(__dirname, '../dist/cli.js');

function servedThumbprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(s.getPeerX509Certificate()!.fingerprint.replace(/:/g, ''));
      s.destroy();
    });
    s.on('error', reject);
  });
}

describe('the CAS certificate', () => {
  const data = mkdtempSync(path.join(os.tmpdir(), 'coffer-cert-'));
  let child: ChildProcess | null = null;
  afterAll(() => { child?.kill('SIGKILL'); rmSync(data, { recursive: true, force: true }); });

  it('is read again from disk when an operator replaces it: new IMAP and HTTPS connections get the new one, no restart', async () => {
    const offset = randomPortOffset();
    child = spawn(process.execPath, [CLI, 'start', '--data', data, '--port-offset', String(offset)], { env: { ...process.env, COFFER_LOG_LEVEL: 'warn', COFFER_ADMIN_PASSWORD: 'Cert-reload-1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => { out += d; });
    for (let i = 0; i < 600 && !out.includes('Stop with Ctrl+C'); i++) await new Promise((r) => setTimeout(r, 100));
    const imaps = 993 + offset, https = 443 + offset;
    const before = await servedThumbprint(imaps);
    expect(await servedThumbprint(https)).toBe(before);
    const next = generateSelfSigned('archive.example.net');
    // Written as an operator would (new files moved into place).
    writeFileSync(path.join(data, 'certs', 'cas.key.pem.new'), next.keyPem, { mode: 0o600 });
    writeFileSync(path.join(data, 'certs', 'cas.crt.pem.new'), next.certPem);
    renameSync(path.join(data, 'certs', 'cas.key.pem.new'), path.join(data, 'certs', 'cas.key.pem'));
    renameSync(path.join(data, 'certs', 'cas.crt.pem.new'), path.join(data, 'certs', 'cas.crt.pem'));
    let after = before;
    for (let i = 0; i < 50 && after === before; i++) { await new Promise((r) => setTimeout(r, 100)); after = await servedThumbprint(imaps); }
    expect(after).toBe(next.thumbprint);
    expect(await servedThumbprint(https)).toBe(next.thumbprint);
  }, 90_000);
});
