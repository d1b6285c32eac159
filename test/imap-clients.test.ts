/**
 * Real IMAP clients do full read-only syncs of an imported corpus subset over 993 and over
 * 143+STARTTLS, and every downloaded message is compared with the imported file (CRLF form).
 * Clients that are not installed are skipped.
 */
import { spawn, spawnSync } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORPUS, corpusFiles, startHarness, type Harness } from './imap-harness.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const lf = (b: Buffer) => Buffer.from(b.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
/** LF line endings and exactly one final newline: how Maildir tools and MDAs store a message. */
const stored = (b: Buffer) => Buffer.from(`${lf(b).toString('latin1').replace(/\n*$/, '')}\n`, 'latin1');
const has = (binary: string) => spawnSync('sh', ['-c', `command -v ${binary}`]).status === 0;

function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(full));
    else if (statSync(full).size > 0) out.push(full);
  }
  return out;
}

describe('real IMAP clients sync the archive read-only', () => {
  let h: Harness;
  let work: string;
  let certFile: string;
  let expected: string[];
  beforeAll(async () => {
    const files = [...corpusFiles(path.join(CORPUS, 'fixtures/nodemailer-mailparser'), 25), ...corpusFiles(path.join(CORPUS, 'fixtures/postal-mime'), 15)];
    h = await startHarness({ inboxFiles: files });
    work = mkdtempSync(path.join(os.tmpdir(), 'coffer-imap-clients-'));
    certFile = path.join(work, 'cas.pem');
    writeFileSync(certFile, h.certificate.certPem);
    expected = h.inbox.map(sha).sort();
  });
  afterAll(async () => {
    await h?.close();
    if (work && process.env.KEEP_IMAP_CLIENT_DIRS === undefined) rmSync(work, { recursive: true, force: true });
    else if (work) console.log('kept', work);
  });

  it('imapflow downloads every folder over 993 and INBOX matches the imported files byte for byte', async () => {
    const client = new ImapFlow({ host: '127.0.0.1', port: h.tlsPort, secure: true, tls: { rejectUnauthorized: false }, auth: { user: 'jane@acme', pass: 'pw-jane' }, logger: false });
    await client.connect();
    const folders = await client.list();
    expect(folders.map((f) => f.path).sort()).toEqual(['INBOX', 'Other Archives', 'Other Archives/bob', 'Other Archives/bob/Inbox', 'Sent Items']);
    const downloaded = new Map<string, string[]>();
    for (const folder of folders) {
      if (folder.flags.has('\\Noselect')) continue;
      const lock = await client.getMailboxLock(folder.path, { readOnly: true });
      try {
        const hashes: string[] = [];
        for await (const message of client.fetch('1:*', { uid: true, flags: true, envelope: true, bodyStructure: true, size: true, source: true })) {
          expect(message.size).toBe(message.source!.length);
          hashes.push(sha(message.source!));
        }
        downloaded.set(folder.path, hashes);
      } finally {
        lock.release();
      }
    }
    expect([...downloaded.get('INBOX')!].sort()).toEqual(expected);
    expect(downloaded.get('Sent Items')!.length).toBe(1);
    expect(downloaded.get('Other Archives/bob/Inbox')!.length).toBe(1);
    const status = await client.status('INBOX', { messages: true, unseen: true });
    expect(status.messages).toBe(expected.length);
    await client.logout();
  });

  it('serves 12 imapflow clients syncing at once, each getting every message intact', async () => {
    const syncOne = async () => {
      const client = new ImapFlow({ host: '127.0.0.1', port: h.tlsPort, secure: true, tls: { rejectUnauthorized: false }, auth: { user: 'jane@acme', pass: 'pw-jane' }, logger: false });
      await client.connect();
      const lock = await client.getMailboxLock('INBOX', { readOnly: true });
      const hashes: string[] = [];
      try {
        for await (const message of client.fetch('1:*', { uid: true, source: true, envelope: true })) hashes.push(sha(message.source!));
      } finally {
        lock.release();
      }
      await client.logout();
      return hashes.sort();
    };
    const results = await Promise.all(Array.from({ length: 12 }, syncOne));
    for (const hashes of results) expect(hashes).toEqual(expected);
  });

  const python = `
import imaplib, ssl, sys, hashlib, json
port, mode = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
if mode == 'tls':
    M = imaplib.IMAP4_SSL('127.0.0.1', port, ssl_context=ctx)
else:
    M = imaplib.IMAP4('127.0.0.1', port)
    try:
        M.login('jane@acme', 'pw-jane')
        raise SystemExit('login before STARTTLS succeeded')
    except imaplib.IMAP4.error as e:
        assert 'PRIVACYREQUIRED' in str(e), e
    M.starttls(ssl_context=ctx)
M.login('jane@acme', 'pw-jane')
typ, folders = M.list()
assert typ == 'OK', folders
typ, data = M.select('INBOX', readonly=True)
assert typ == 'OK', data
typ, data = M.uid('SEARCH', None, 'ALL')
hashes = []
for uid in data[0].split():
    typ, d = M.uid('FETCH', uid, '(BODY.PEEK[] RFC822.SIZE)')
    assert typ == 'OK', d
    hashes.append(hashlib.sha256(d[0][1]).hexdigest())
typ, d = M.store(b'1', '+FLAGS', '\\\\Deleted')
assert typ == 'OK', d
typ, d = M.expunge()
assert typ == 'OK', d
typ, d = M.search(None, 'SUBJECT', '"zz-nothing-zz"')
assert typ == 'OK' and d == [b''], d
M.logout()
print(json.dumps({'folders': len(folders), 'hashes': hashes}))
`;

  for (const mode of ['tls', 'starttls'] as const) {
    it.skipIf(!has('python3'))(`Python imaplib syncs INBOX over ${mode === 'tls' ? '993' : '143 with STARTTLS'}`, async () => {
      const result = await run('python3', ['-c', python, String(mode === 'tls' ? h.tlsPort : h.plainPort), mode]);
      expect(result.stderr).toBe('');
      const parsed = JSON.parse(result.stdout) as { folders: number; hashes: string[] };
      expect(parsed.folders).toBe(5);
      expect(parsed.hashes.sort()).toEqual(expected);
    });
  }

  for (const mode of ['tls', 'starttls'] as const) {
    it.skipIf(!has('mbsync'))(`mbsync pulls every folder into a Maildir over ${mode === 'tls' ? '993' : '143 with STARTTLS'} and INBOX matches the imported files`, async () => {
      const dir = mkdtempSync(path.join(work, 'mbsync-'));
      const config = path.join(dir, 'mbsyncrc');
      writeFileSync(
        config,
        [
          'IMAPAccount coffer',
          'Host 127.0.0.1',
          `Port ${mode === 'tls' ? h.tlsPort : h.plainPort}`,
          'User jane@acme',
          'Pass pw-jane',
          mode === 'tls' ? 'SSLType IMAPS' : 'SSLType STARTTLS',
          `CertificateFile ${certFile}`,
          '',
          'IMAPStore remote',
          'Account coffer',
          '',
          'MaildirStore local',
          `Path ${dir}/mail/`,
          `Inbox ${dir}/mail/INBOX`,
          'SubFolders Verbatim',
          '',
          'Channel sync',
          'Far :remote:',
          'Near :local:',
          'Patterns *',
          'Create Near',
          'Sync Pull',
          `SyncState ${dir}/state/`,
          '',
        ].join('\n'),
      );
      const result = await run('sh', ['-c', `mkdir -p ${dir}/mail ${dir}/state && mbsync -c ${config} -a`]);
      expect(result.code, result.stderr + result.stdout).toBe(0);
      const inbox = filesUnder(path.join(dir, 'mail/INBOX')).filter((f) => /\/(cur|new)\//.test(f));
      // mbsync stores Maildir messages with LF line endings and adds its X-TUID header.
      const withoutTuid = (b: Buffer) => Buffer.from(lf(b).toString('latin1').replace(/^X-TUID: [^\n]*\n/m, ''), 'latin1');
      expect(inbox.map((f) => sha(withoutTuid(readFileSync(f)))).sort()).toEqual(h.inbox.map((b) => sha(lf(b))).sort());
      expect(filesUnder(path.join(dir, 'mail/Sent Items')).filter((f) => /\/(cur|new)\//.test(f)).length).toBe(1);
    });
  }

  it.skipIf(!has('offlineimap'))('offlineimap3 syncs every folder read-only and INBOX matches the imported files', async () => {
    const dir = mkdtempSync(path.join(work, 'offlineimap-'));
    const config = path.join(dir, 'offlineimaprc');
    writeFileSync(
      config,
      [
        '[general]',
        'accounts = coffer',
        `metadata = ${dir}/meta`,
        '',
        '[Account coffer]',
        'localrepository = local',
        'remoterepository = remote',
        '',
        '[Repository local]',
        'type = Maildir',
        `localfolders = ${dir}/mail`,
        '',
        '[Repository remote]',
        'type = IMAP',
        'remotehost = 127.0.0.1',
        `remoteport = ${h.tlsPort}`,
        'ssl = yes',
        // The test certificate names localhost; offlineimap then checks it by fingerprint.
        `cert_fingerprint = ${new X509Certificate(h.certificate.certPem).fingerprint512.replace(/:/g, '').toLowerCase()}`,
        'remoteuser = jane@acme',
        'remotepass = pw-jane',
        'readonly = True',
        'createfolders = False',
        '',
      ].join('\n'),
    );
    const result = await run('offlineimap', ['-c', config, '-o', '-u', 'basic'], { timeoutMs: 90_000 });
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const inbox = filesUnder(path.join(dir, 'mail/INBOX')).filter((f) => /\/(cur|new)\//.test(f));
    // offlineimap3 re-serialises each message with Python's email package (drops a leading
    // `From ` line, trailing spaces, blank lines around boundaries); compare without whitespace.
    const squeezed = (b: Buffer) => sha(Buffer.from(b.toString('latin1').replace(/^From [^\n]*\n/, '').replace(/\s+/g, ''), 'latin1'));
    expect(inbox.map((f) => squeezed(readFileSync(f))).sort()).toEqual(h.inbox.map(squeezed).sort());
    expect(readdirSync(path.join(dir, 'mail')).sort()).toEqual(['INBOX', 'Other Archives.bob', 'Other Archives.bob.Inbox', 'Sent Items']);
  });

  it.skipIf(!has('fetchmail'))('fetchmail downloads INBOX with --keep over 993 and every message matches the imported file', async () => {
    const dir = mkdtempSync(path.join(work, 'fetchmail-'));
    const rc = path.join(dir, 'fetchmailrc');
    writeFileSync(
      rc,
      `poll 127.0.0.1 protocol IMAP port ${h.tlsPort}\n  user "jane@acme" password "pw-jane" is "nobody" here\n  ssl sslproto TLS1.2+ no sslcertck keep fetchall\n  mda "sh -c 'cat > ${dir}/msg.$$'"\n`,
      { mode: 0o600 },
    );
    const result = await run('fetchmail', ['-f', rc, '--invisible', '--nosoftbounce', '-i', path.join(dir, 'ids')], { env: { HOME: dir, FETCHMAILHOME: dir }, timeoutMs: 90_000 });
    expect([0, 1], result.stderr + result.stdout).toContain(result.code);
    const downloaded = readdirSync(dir).filter((f) => f.startsWith('msg.')).map((f) => readFileSync(path.join(dir, f)));
    expect(downloaded.length).toBe(expected.length);
    // fetchmail hands the MDA LF line endings; compare in that form.
    // fetchmail also drops an mbox-style `From ` line at the very top.
    const wanted = h.inbox.map((b) => sha(stored(Buffer.from(b.toString('latin1').replace(/^From [^\n]*\n/, ''), 'latin1')))).sort();
    expect(downloaded.map((b) => sha(stored(b))).sort()).toEqual(wanted);
  });

  it.skipIf(!has('curl'))('curl lists INBOX over 143 with STARTTLS required', async () => {
    const result = await run('curl', ['--silent', '--show-error', '--insecure', '--ssl-reqd', '--user', 'jane@acme:pw-jane', `imap://127.0.0.1:${h.plainPort}/`]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('* LIST (\\HasNoChildren) "/" INBOX');
  });

  it.skipIf(!has('curl'))('curl fetches each message by UID over imaps and the bytes match', async () => {
    const hashes: string[] = [];
    for (let uid = 1; uid <= h.inbox.length; uid++) {
      const result = await new Promise<Buffer>((resolve, reject) => {
        const child = spawn('curl', ['--silent', '--show-error', '--insecure', '--user', 'jane@acme:pw-jane', `imaps://127.0.0.1:${h.tlsPort}/INBOX;UID=${uid}`]);
        const parts: Buffer[] = [];
        child.stdout.on('data', (d: Buffer) => parts.push(d));
        child.on('error', reject);
        child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(parts)) : reject(new Error(`curl exit ${code}`))));
      });
      hashes.push(sha(result));
    }
    expect(hashes.sort()).toEqual(expected);
  });

  it('leaves the archive unchanged after every client stored flags and expunged', async () => {
    const auth = await h.acme.authenticate({ user: 'jane', password: 'pw-jane', channel: 'imap' });
    if (!auth.ok) throw new Error(auth.message);
    const inbox = (await h.acme.listFolders({ session: auth.session })).find((f) => f.path === 'jane/Inbox')!;
    expect(inbox.messages).toBe(expected.length);
    const meta = await h.acme.fetchMeta({ session: auth.session, folderId: inbox.id, uids: Array.from({ length: expected.length }, (_, k) => k + 1), fields: [] });
    expect(meta.every((m) => m.flags.length === 1 && m.flags[0] === '\\Seen')).toBe(true);
  });
});
