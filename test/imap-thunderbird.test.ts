/**
 * A real Thunderbird (Debian's, headless under Xvfb, driven by ../shared/tools/thunderbird-sync.sh)
 * logs in over 993 and downloads every folder for offline use, as a user who keeps mail on their
 * computer. Every message it stored must be the imported message, byte for byte; the transcript
 * must hold no BAD and no NO but the NOPERM for the Trash folder Thunderbird tries to create.
 * Skipped where Thunderbird or Xvfb is not installed (.ci/run installs both).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORPUS, corpusFiles, startHarness, type Harness } from './imap-harness.js';

const TOOL = path.resolve(__dirname, '../../shared/tools/thunderbird-sync.sh');
const has = (binary: string) => spawnSync('sh', ['-c', `command -v ${binary}`]).status === 0;
const installed = has('thunderbird') && has('Xvfb') && has('certutil');

/**
 * Thunderbird's offline store is an mbox file: it quotes body lines that start with `From ` as
 * `>From `, keeps its own `X-Mozilla-Status` header line (the tool drops it, also one a message
 * came with), ends every message with a line break and keeps one CR before a line's LF where a
 * message had several. The server's bytes are checked exactly by the other clients' tests; here
 * only these rewrites of Thunderbird's own store are allowed (applied to both sides).
 */
const asThunderbirdStores = (b: Buffer) =>
  Buffer.from(
    b.toString('latin1').replace(/\r+\n/g, '\r\n').replace(/^>+From /gm, 'From ').replace(/^X-Mozilla-Status: [^\r\n]*\r\n/im, '').replace(/(\r\n)?$/, '\r\n'),
    'latin1',
  );

describe.skipIf(!installed)('Thunderbird syncs the archive for offline use', () => {
  let h: Harness;
  let work: string;
  beforeAll(async () => {
    // Broken MIME, 8-bit headers, bare CRs and LFs, large attachments, and ordinary list mail.
    const files = [
      ...corpusFiles(path.join(CORPUS, 'fixtures/nodemailer-mailparser'), 40),
      ...corpusFiles(path.join(CORPUS, 'fixtures/thunderbird'), 40),
      ...corpusFiles(path.join(CORPUS, 'ordinary/spamassassin-publiccorpus/hard_ham_1'), 120),
    ];
    h = await startHarness({ inboxFiles: files });
    work = mkdtempSync(path.join(os.tmpdir(), 'coffer-thunderbird-'));
  });
  afterAll(async () => {
    await h?.close();
    if (work && process.env.KEEP_IMAP_CLIENT_DIRS === undefined) rmSync(work, { recursive: true, force: true });
  });

  it('downloads every folder over 993, each message as imported', async () => {
    const certFile = path.join(work, 'cas.pem');
    writeFileSync(certFile, h.certificate.certPem);
    const out = path.join(work, 'tb');
    const result = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn('bash', [TOOL, '127.0.0.1', String(h.tlsPort), 'tls', 'jane@acme', 'pw-jane', certFile, out, '150'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', () => {});
      child.on('close', (code) => resolve({ code, stdout }));
    });
    expect(result.stdout.trim()).toMatch(/folders=\d+ messages=\d+$/);
    expect(result.code).toBe(0);

    const inboxDir = path.join(out, 'messages', 'INBOX', 'cur');
    const got = readdirSync(inboxDir).map((f) => readFileSync(path.join(inboxDir, f)));
    expect(got).toHaveLength(h.inbox.length);
    const expected = new Set(h.inbox.map((b) => asThunderbirdStores(b).toString('base64')));
    const exact = new Set(h.inbox.map((b) => b.toString('base64')));
    let identical = 0;
    for (const message of got) {
      expect(expected.has(asThunderbirdStores(message).toString('base64'))).toBe(true);
      if (exact.has(message.toString('base64'))) identical++;
    }
    // Most messages are not touched by the store's rewrites at all.
    expect(identical).toBeGreaterThan(h.inbox.length * 0.8);

    const transcript = readFileSync(path.join(out, 'imap-transcript.txt'), 'utf8').split('\n');
    expect(transcript.filter((l) => / S: \S+ BAD /.test(l))).toEqual([]);
    const refusals = transcript.filter((l) => / S: \S+ NO /.test(l));
    for (const l of refusals) expect(l).toMatch(/NO \[NOPERM\]/);
    // It read the bodies with BODY.PEEK (read-only archive: nothing may set \Seen).
    expect(transcript.some((l) => / C: \S+ UID fetch .*BODY\.PEEK\[\]/i.test(l))).toBe(true);
  }, 240_000);
});
