/**
 * Web Access over real HTTPS against a real Instance Host: addresses, branding, security headers,
 * login and sessions, CSRF, back-off, privileges (forged ids), message view, downloads, search,
 * export, account. The browser-level behaviour is in web-browser.test.ts.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, crc32 } from 'node:zlib';
import { startEngine, type Engine } from './helpers/engine.js';
import type { InstanceClient } from '../src/instance/client.js';
import { generateSelfSigned } from '../src/common/certs.js';
import { createLogger } from '../src/common/logger.js';
import { BrandingStore, defaultSampleDir } from '../src/cas/web/branding.js';
import { listenWebAccess, type WebAccessOptions, type AuditAction } from '../src/cas/web/app.js';
import { en } from '../src/cas/web/locales/en.js';
import { de } from '../src/cas/web/locales/de.js';
import { decodePartBody, findPart, parseMessage } from '../src/common/mime/index.js';
import { SMTPServer } from 'smtp-server';
import { WebClient, csrfOf, type WebResponse } from './helpers/web-client.js';

const FIXTURES = path.resolve(__dirname, '../../shared/corpus/fixtures');
const fx = (p: string) => path.join(FIXTURES, p);

/** A hostile message written for this test: scripts, handlers, remote loads of every kind. */
const HOSTILE = Buffer.from([
  'From: "PayPal Security" <evil@attacker.example>', 'To: jane@acme.example', 'Subject: Hostile HTML zebra', 'Date: Mon, 01 Jan 2024 10:00:00 +0000',
  'MIME-Version: 1.0', 'Content-Type: text/html; charset=utf-8', '',
  '<html><head><script>document.title="pwned"</script><link rel="stylesheet" href="https://remote.example/x.css">',
  '<style>body{background:url(https://remote.example/bg.png)}</style><meta http-equiv="refresh" content="0;url=https://remote.example/"></head>',
  '<body onload="alert(1)"><p>Hello zebra <b>friend</b></p><img src="https://remote.example/track.png" onerror="alert(2)">',
  '<a href="javascript:alert(3)">click</a><iframe src="https://remote.example/frame"></iframe><object data="https://remote.example/o"></object>',
  '<form action="https://remote.example/post"><input name="p"></form><div style="background-image:url(https://remote.example/div.png);color:red">styled</div>',
  '<svg><script>alert(4)</script></svg></body></html>', '',
].join('\r\n'));

function multipartWithAttachment(): Buffer {
  const pdf = Buffer.from('%PDF-1.4 fake pdf bytes \u00e4\u00f6\u00fc'.repeat(20), 'latin1');
  return Buffer.from([
    'From: Bob Builder <bob@acme.example>', 'To: Jane Doe <jane@acme.example>', 'Subject: Quarterly report with attachment', 'Date: Tue, 02 Jan 2024 09:00:00 +0000',
    'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b1"', '', '--b1', 'Content-Type: text/plain; charset=utf-8', '', 'Please find the report attached. zebra', '--b1',
    'Content-Type: application/pdf; name="Bericht Q1 \u00e4.pdf"'.replace('\u00e4', 'ae'), 'Content-Disposition: attachment; filename="report-q1.pdf"', 'Content-Transfer-Encoding: base64', '',
    pdf.toString('base64').replace(/.{76}/g, '$&\r\n'), '--b1--', '',
  ].join('\r\n'));
}

type Res = WebResponse;

describe('web access over HTTPS', () => {
  let engine: Engine;
  let acme: InstanceClient;
  let dataDir: string;
  let brandingDir: string;
  let branding: BrandingStore;
  let server: Awaited<ReturnType<typeof listenWebAccess>>;
  let ca: string;
  const audits: { action: AuditAction; details: Record<string, unknown> }[] = [];
  let inboxId = 0;
  let bobInboxId = 0;
  let eveInboxId = 0;
  let flaky: InstanceClient | undefined;
  const mfaSecrets = new Map<string, string>();
  let smtpPort = 0;
  /** The instance as it will answer once MFA exists: a password alone gets `mfaRequired`, the code completes it. */
  let mfaClient: InstanceClient;
  const mfaSecret = 'DZT2DKBOTIH7GN7JRP23WX3U2PAIOSRK';

  const client = (headers?: Record<string, string>) => new WebClient(server.port, ca, headers);
  async function login(c: WebClient, user = 'jane', password = 'pw-jane', base = '/acme'): Promise<Res> {
    const p1 = await c.get(`${base}/login`);
    await c.post(`${base}/login`, { _csrf: csrfOf(p1.text), user });
    const p2 = await c.get(`${base}/login`);
    return c.post(`${base}/login/password`, { _csrf: csrfOf(p2.text), password });
  }

  beforeAll(async () => {
    engine = await startEngine();
    acme = await engine.startInstance('acme');
    await acme.management('CreateUser', { userName: 'jane', fullName: 'Jane Doe', privileges: 'login,export,changePassword', password: 'pw-jane' });
    await acme.management('CreateUser', { userName: 'bob', privileges: 'login', password: 'pw-bob' });
    await acme.management('CreateUser', { userName: 'eve', privileges: 'login', password: 'pw-eve' });
    await acme.management('CreateUser', { userName: 'imaponly', privileges: 'login', password: 'pw-imap' });
    await acme.management('SetUserLoginPrivileges', { userName: 'imaponly', loginPrivileges: 'imap' });
    await acme.management('SetUserPrivilegesOnFolder', { userName: 'jane', folder: 'bob', privileges: 'read' });
    await acme.ingest('jane', [
      { name: 'hostile', folder: 'Inbox', raw: HOSTILE },
      { name: 'attachment', folder: 'Inbox', raw: multipartWithAttachment() },
      { name: 'smime', folder: 'Inbox', raw: readFileSync(fx('mailgun-flanker/signed.eml')) },
      { name: 'tnef', folder: 'Inbox', raw: readFileSync(fx('roundcube/MessageRendering__data__greenmail__test-message-rendering@localhost__INBOX__tnef1.eml')) },
      { name: 'broken', folder: 'Inbox', raw: readFileSync(fx('roundcube/src__BID-26800.txt.eml')) },
      { name: 'evil-meta', folder: 'Inbox', raw: readFileSync(fx('thunderbird/mail__test__browser__composition__data__evil-meta-msg.eml')) },
    ]);
    await acme.ingest('bob', [{ name: 'b1', folder: 'Inbox', raw: Buffer.from('From: a@b.example\r\nSubject: Bob zebra note\r\nDate: Wed, 03 Jan 2024 10:00:00 +0000\r\n\r\nbody zebra\r\n') }]);
    await acme.ingest('eve', [{ name: 'e1', folder: 'Secret', raw: Buffer.from('From: a@b.example\r\nSubject: Eve secret\r\n\r\nsecret body\r\n') }]);
    const admin = await acme.authenticate({ user: 'eve', password: 'pw-eve', channel: 'web' });
    if (!admin.ok) throw new Error('eve login');
    eveInboxId = (await acme.listFolders({ session: admin.session })).find((f) => f.path === 'eve/Secret')!.id;
    const j = await acme.authenticate({ user: 'jane', password: 'pw-jane', channel: 'web' });
    if (!j.ok) throw new Error('jane login');
    const folders = await acme.listFolders({ session: j.session });
    inboxId = folders.find((f) => f.path === 'jane/Inbox')!.id;
    bobInboxId = folders.find((f) => f.path === 'bob/Inbox')!.id;

    const { verifySync } = await import('otplib');
    mfaClient = Object.create(acme, {
      authenticate: {
        value: async (p: { user: string; password: string; totp?: string; channel: 'web' }) => {
          if (!p.totp) { const r = await acme.authenticate(p); return r.ok ? { ok: false, reason: 'mfaRequired', message: 'code required' } : r; }
          if (!verifySync({ secret: mfaSecret, token: p.totp, epochTolerance: 30 }).valid) return { ok: false, reason: 'mfaRequired', message: 'wrong code' };
          return acme.authenticate(p);
        },
      },
    }) as InstanceClient;
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'coffer-web-'));
    brandingDir = path.join(dataDir, 'config', 'branding');
    const log = createLogger('silent');
    branding = new BrandingStore({ dir: brandingDir, sampleDir: defaultSampleDir(), log });
    const cert = generateSelfSigned('localhost');
    ca = cert.certPem;
    const options: WebAccessOptions = {
      resolveInstance: async (name) => {
        if (name === 'acme' || name === 'acme-corp') return { ok: true, instanceId: 'acme', client: acme };
        if (name === 'stopped') return { ok: false, reason: 'unavailable', message: 'instance stopped' };
        if (name === 'flaky' && flaky) return { ok: true, instanceId: 'acme', client: flaky };
        if (name === 'mfa') return { ok: true, instanceId: 'acme', client: mfaClient };
        return { ok: false, reason: 'unknown', message: 'no such instance' };
      },
      branding, cookieSecret: 'a-test-secret-that-is-long-enough-1234567890', logger: log,
      // Stands in for the instance's SMTP settings (`SetSmtpSettings`, read through an RPC that does not exist yet).
      restore: { smtpSettings: async () => (smtpPort ? { host: '127.0.0.1', port: smtpPort, secure: false, from: 'archive@provider.example' } : null) },
      audit: (_i, session, action, details) => { audits.push({ action, details: { ...details, session } }); },
      account: {
        // Stand-ins for the instance RPCs `mfaStatus`/`mfaEnable`/`mfaDisable` that do not exist yet.
        mfaStatus: async (c) => (mfaSecrets.has(c.userName) ? 'on' : 'off'),
        mfaEnable: async (c, p) => { mfaSecrets.set(c.userName, p.secret); return { ok: true }; },
        mfaDisable: async (c) => { mfaSecrets.delete(c.userName); return { ok: true }; },
        // Stands in for the instance RPC `changePassword` that does not exist yet: checks the old password, then sets the new one.
        async changePassword(c, p) {
          const check = await c.client.authenticate({ user: c.userName, password: p.oldPassword, channel: 'web' });
          if (!check.ok) return { ok: false, message: 'the current password is not correct' };
          await c.client.logout({ session: check.session });
          await c.client.management('SetUserPassword', { userName: c.userName, password: p.newPassword });
          return { ok: true };
        },
      },
    };
    server = await listenWebAccess(options, { port: 0, host: '127.0.0.1', tls: { key: cert.keyPem, cert: cert.certPem } });
  });

  afterAll(async () => {
    await server?.close();
    await engine?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves the provider landing page with the security headers on every page', async () => {
    const r = await client().get('/');
    expect(r.status).toBe(200);
    expect(r.text).toContain('Coffer Mail Archive');
    const csp = String(r.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'self'");
    expect(csp).toContain("object-src 'none'");
    expect(r.headers['strict-transport-security']).toMatch(/max-age=31536000/);
    expect(r.headers['referrer-policy']).toBe('no-referrer');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    const about = await client().get('/about');
    expect(about.text).toContain('About this service');
    const logo = await client().get('/branding/logo.png');
    expect(logo.headers['content-type']).toBe('image/png');
    expect(logo.body.subarray(1, 4).toString()).toBe('PNG');
  });

  it('answers an unknown instance with a branded 404 and a stopped one with a branded 503, never a stack trace', async () => {
    const r404 = await client().get('/nosuchcompany/');
    expect(r404.status).toBe(404);
    expect(r404.text).toContain('Archive not found');
    expect(r404.text).toContain('Coffer Mail Archive');
    const r503 = await client().get('/stopped/login');
    expect(r503.status).toBe(503);
    expect(r503.text).toContain('Archive temporarily unavailable');
    expect(r503.headers['retry-after']).toBe('60');
    const bad = await client().get('/..%2F..%2Fetc/');
    expect(bad.status).toBe(404);
    for (const r of [r404, r503, bad]) expect(r.text).not.toMatch(/\bat .*\.(ts|js):\d+|Error:/);
  });

  it('answers 503 when the connection to the instance drops in the middle of a session', async () => {
    flaky = await engine.connect('acme');
    const c = client();
    expect((await login(c, 'jane', 'pw-jane', '/flaky')).status).toBe(303);
    expect((await c.get('/flaky/folders')).status).toBe(200);
    flaky.close();
    await new Promise((r) => setTimeout(r, 50));
    const r = await c.get('/flaky/folders');
    expect(r.status).toBe(503);
    expect(r.text).toContain('Archive temporarily unavailable');
  });

  it('speaks German to a browser that prefers it, and switches language on request', async () => {
    const c = client({ 'accept-language': 'de-DE,de;q=0.9,en;q=0.5' });
    const r = await c.get('/acme/login');
    expect(r.text).toContain('Benutzername');
    expect(r.text).toContain('lang="de"');
    const en2 = await c.get('/acme/login?lang=en');
    expect(en2.text).toContain('User name');
    const again = await c.get('/acme/login');
    expect(again.text).toContain('User name'); // the switch is remembered
  });

  it('has a German translation for every English string', () => {
    for (const k of Object.keys(en)) expect(typeof (de as Record<string, string>)[k], k).toBe('string');
    for (const [k, v] of Object.entries(de)) expect(v.trim().length, k).toBeGreaterThan(0);
    expect(Object.keys(de).sort()).toEqual(Object.keys(en).sort());
  });

  it('shows no English text on German pages, so every visible string comes from the translation files', async () => {
    const c = client({ 'accept-language': 'de' });
    await login(c);
    const visible = (h: string) => h.replace(/<(script|style)[\s\S]*?<\/\1>/g, ' ').replace(/<[^>]+>/g, ' ').replace(/&[a-z#0-9]+;/g, ' ').replace(/\s+/g, ' ');
    const english = Object.entries(en).filter(([k, v]) => k !== 'lang.name' && (de as Record<string, string>)[k] !== v && !/^\{/.test(v))
      .map(([, v]) => v.split(/\{\w+\}/)[0]!.trim()).filter((v) => v.length >= 5);
    const list = await c.get(`/acme/folder/${inboxId}`);
    const uid = /\/acme\/message\/\d+\/(\d+)/.exec(list.text)![1];
    for (const p of ['/acme/folders', `/acme/folder/${inboxId}`, `/acme/message/${inboxId}/${uid}?raw=1`, '/acme/search?q=zebra&advanced=1', '/acme/account', '/nosuch/', '/acme/no-such-page']) {
      const text = visible((await c.get(p)).text);
      for (const e of english) expect(new RegExp(`(^|[^\\p{L}])${e.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^\\p{L}])`, 'u').test(text), `${p}: "${e}"`).toBe(false);
    }
  });

  it('logs in in two steps with an HttpOnly, Secure, SameSite=Lax cookie whose id changes at login', async () => {
    const c = client();
    const p1 = await c.get('/acme-corp/login');
    expect(p1.text).toContain('name="user"');
    expect(p1.text).not.toContain('name="password"');
    await c.post('/acme-corp/login', { _csrf: csrfOf(p1.text), user: 'jane' });
    const before = c.cookies.get('coffer_session');
    expect(before).toBeTruthy();
    const line = c.setCookieLines.find((l) => l.startsWith('coffer_session='))!;
    expect(line).toMatch(/HttpOnly/i);
    expect(line).toMatch(/Secure/i);
    expect(line).toMatch(/SameSite=Lax/i);
    const p2 = await c.get('/acme-corp/login');
    expect(p2.text).toContain('name="password"');
    const r = await c.post('/acme-corp/login/password', { _csrf: csrfOf(p2.text), password: 'pw-jane' });
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe('/acme-corp/folders');
    expect(c.cookies.get('coffer_session')).not.toBe(before);
    const home = await c.get('/acme-corp/folders');
    expect(home.status).toBe(200);
    expect(home.text).toContain('My Archive');
    expect(audits.some((a) => a.action === 'Login' && a.details.user === 'jane')).toBe(true);
  });

  it('asks for the authenticator code when the instance requires MFA and signs in only with the right one', async () => {
    const { generateSync } = await import('otplib');
    const c = client();
    const first = await login(c, 'jane', 'pw-jane', '/mfa');
    expect(first.status).toBe(200);
    expect(first.text).toContain('name="totp"');
    expect(first.text).toContain('Enter the code from your authenticator app.');
    const wrong = await c.post('/mfa/login/password', { _csrf: csrfOf(first.text), password: 'pw-jane', totp: '000000' === generateSync({ secret: mfaSecret }) ? '111111' : '000000' });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('name="totp"');
    const ok = await c.post('/mfa/login/password', { _csrf: csrfOf(wrong.text), password: 'pw-jane', totp: generateSync({ secret: mfaSecret }) });
    expect(ok.status).toBe(303);
    expect((await c.get('/mfa/folders')).text).toContain('My Archive');
  });

  it('refuses a user without the web login privilege and audits failed logins with address and user agent', async () => {
    const c = client({ 'user-agent': 'TestAgent/1.0' });
    const r = await login(c, 'imaponly', 'pw-imap');
    expect(r.status).toBe(401);
    expect(r.text).toContain('You may not use Web Access');
    const f = audits.find((a) => a.action === 'LoginFailed' && a.details.user === 'imaponly')!;
    expect(f.details.remote).toBe('127.0.0.1');
    expect(f.details.userAgent).toBe('TestAgent/1.0');
  });

  it('refuses a state-changing request without the CSRF token or from another origin', async () => {
    const c = client();
    await login(c);
    const noToken = await c.post('/acme/logout', { _csrf: 'forged-token' });
    expect(noToken.status).toBe(403);
    const page = await c.get('/acme/folders');
    const token = csrfOf(page.text);
    const foreign = await c.post('/acme/logout', { _csrf: token }, { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect((await c.get('/acme/folders')).status).toBe(200);
    const out = await c.post('/acme/logout', { _csrf: token });
    expect(out.status).toBe(303);
    const after = await c.get('/acme/folders');
    expect(after.status).toBe(303);
    expect(after.headers.location).toBe('/acme/login');
  });

  it('lists My Archive and Archive of bob with counts, and nothing the user may not read even by forged ids', async () => {
    const c = client();
    await login(c);
    const tree = await c.get('/acme/folders');
    expect(tree.text).toContain('My Archive');
    expect(tree.text).toContain('Archive of bob');
    expect(tree.text).not.toContain('eve');
    expect(tree.text).toMatch(new RegExp(`data-folder-id="${inboxId}"><span class="fname">Inbox</span><span class="count">6</span>`));
    const list = await c.get(`/acme/folder/${inboxId}`);
    expect(list.status).toBe(200);
    expect(list.text).toContain('data-count="6"');
    expect(list.text).toContain('Quarterly report with attachment');
    expect(list.text).toContain('<span class="att" title="Attachment">');
    for (const p of [`/acme/folder/${eveInboxId}`, `/acme/message/${eveInboxId}/1`, `/acme/message/${eveInboxId}/1/eml`, `/acme/message/${eveInboxId}/1/body`, `/acme/message/${inboxId}/999`, `/acme/message/${eveInboxId}/1/part/1`]) {
      const r = await c.get(p);
      expect(r.status, p).toBe(404);
      expect(r.text, p).not.toContain('secret');
    }
    const s = await c.get(`/acme/search?q=secret`);
    expect(s.text).toContain('data-count="0"');
    const bad = await c.get('/acme/folder/abc');
    expect(bad.status).toBe(400);
  });

  it('pages a folder by keyset and sorts by archive order', async () => {
    const c = client();
    await login(c);
    const many = Array.from({ length: 120 }, (_, i) => ({ name: `m${i}`, folder: 'Bulk', raw: Buffer.from(`From: n${i}@x.example\r\nSubject: bulk ${i}\r\nDate: ${new Date(Date.UTC(2020, 0, 1) + i * 3600_000).toUTCString()}\r\n\r\nbody ${i}\r\n`) }));
    await acme.ingest('jane', many);
    const tree = await c.get('/acme/folders');
    const bulkId = Number(/data-folder-id="(\d+)"><span class="fname">Bulk/.exec(tree.text)![1]);
    const seen: string[] = [];
    let url: string | null = `/acme/folder/${bulkId}`;
    while (url) {
      const r: Res = await c.get(url);
      expect(r.status).toBe(200);
      seen.push(...[...r.text.matchAll(/<span class="subject">bulk (\d+)<\/span>/g)].map((m) => m[1]!));
      const next = /href="([^"]+)" rel="next"/.exec(r.text);
      url = next ? next[1]!.replace(/&amp;/g, '&') : null;
    }
    expect(seen.length).toBe(120);
    expect(seen[0]).toBe('119');
    expect(new Set(seen).size).toBe(120);
    const archived = await c.get(`/acme/folder/${bulkId}?sort=archived`);
    expect(archived.text).toContain('data-count="120"');
    expect(/<span class="subject">bulk (\d+)<\/span>/.exec(archived.text)![1]).toBe('119');
    // Sender, subject and size orders come from the instance, paged by keyset (test/web-sort.test.ts goes further).
    const bySubject = await c.get(`/acme/folder/${bulkId}?sort=subject`);
    expect([...bySubject.text.matchAll(/<span class="subject">bulk (\d+)<\/span>/g)].slice(0, 4).map((m) => m[1])).toEqual(['0', '1', '10', '100']);
    const next = /href="([^"]+)" rel="next"/.exec(bySubject.text)![1]!.replace(/&amp;/g, '&');
    expect(next).toMatch(/sort=subject&dir=asc&at=/);
    const bySubject2 = await c.get(next);
    expect([...bySubject2.text.matchAll(/<span class="subject">bulk (\d+)<\/span>/g)].length).toBe(50);
    const bySize = await c.get(`/acme/folder/${bulkId}?sort=size`);
    const sizes = [...bySize.text.matchAll(/<span class="subject">bulk (\d+)<\/span>/g)].map((m) => Number(m[1]));
    expect(sizes[0]).toBeGreaterThanOrEqual(100); // three-digit numbers make the longest messages
    const byFrom = await c.get(`/acme/folder/${bulkId}?sort=from`);
    expect(/<span class="from">([^<]+)<\/span>/.exec(byFrom.text)![1]).toBe('n0@x.example');
    expect((await c.get(`/acme/folder/${bulkId}?sort=from&at=not-a-cursor`)).status).toBe(400);
  });

  it('sends the user back to the login page when the instance has ended the session', async () => {
    const c = client();
    const seen = audits.length;
    await login(c);
    const token = audits.slice(seen).find((a) => a.action === 'Login') ? await (async () => {
      // The web session's instance token is not visible to the browser; end all of jane's sessions by
      // logging out the one the audit saw.
      return (audits.slice(seen).find((a) => a.action === 'Login')!.details.session as string);
    })() : '';
    expect(token).toBeTruthy();
    await acme.logout({ session: token });
    const r = await c.get('/acme/folders');
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe('/acme/login');
    expect((await c.get('/acme/login')).text).toContain('Your session has ended');
  });

  it('redirects the bare instance address to the login page', async () => {
    const r = await client().get('/acme');
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe('/acme/login');
  });

  it('shows the real address beside a display name and serves hostile HTML only sanitised, sandboxed and without remote loads', async () => {
    const c = client();
    await login(c);
    const list = await c.get(`/acme/folder/${inboxId}`);
    const uid = Number(new RegExp(`/acme/message/${inboxId}/(\\d+)\\?[^"]*"[^>]*>\\s*<span class="from">[^<]*</span>\\s*<span class="subject">Hostile HTML zebra`).exec(list.text)![1]);
    const view = await c.get(`/acme/message/${inboxId}/${uid}`);
    expect(view.status).toBe(200);
    expect(view.text).toContain('<span class="name">PayPal Security</span> <span class="email">&lt;evil@attacker.example&gt;</span>');
    expect(view.text).toMatch(/<iframe class="body-frame" sandbox="allow-popups allow-popups-to-escape-sandbox"/);
    expect(view.text).not.toMatch(/allow-scripts|allow-same-origin/);
    expect(view.text).toContain('data-testid="remote-blocked"');
    const body = await c.get(`/acme/message/${inboxId}/${uid}/body`);
    const csp = String(body.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/img-src data:;/);
    expect(csp).toContain('sandbox');
    expect(csp).not.toContain('allow-scripts');
    expect(body.text).toContain('Hello zebra <b>friend</b>');
    const inner = body.text.slice(body.text.indexOf('<body>'));
    for (const bad of ['<script', 'onload', 'onerror', 'javascript:', 'remote.example', '<iframe', '<object', '<form', '<meta', '<link', 'url(']) expect(inner.toLowerCase(), bad).not.toContain(bad);
    const allowed = await c.get(`/acme/message/${inboxId}/${uid}/body?remote=1`);
    expect(String(allowed.headers['content-security-policy'])).toContain('img-src data: https: http:');
    expect(allowed.text).toContain('src="https://remote.example/track.png"');
    expect(allowed.text).not.toContain('<script');
    expect(audits.some((a) => a.action === 'MessageRetrieveContent' && a.details.uid === uid)).toBe(true);
  });

  it('downloads an attachment and the .eml byte for byte, as attachments under a sandbox CSP', async () => {
    const c = client();
    await login(c);
    const list = await c.get(`/acme/folder/${inboxId}`);
    const uid = Number(new RegExp(`/acme/message/${inboxId}/(\\d+)\\?[^"]*"[^>]*>\\s*<span class="from">[^<]*</span>\\s*<span class="subject">Quarterly`).exec(list.text)![1]);
    const stored = await acme.readMessageBuffer({ session: (await acme.authenticate({ user: 'jane', password: 'pw-jane', channel: 'web' }) as { session: string }).session, folderId: inboxId, uid });
    const eml = await c.get(`/acme/message/${inboxId}/${uid}/eml`);
    expect(eml.status).toBe(200);
    expect(eml.body.equals(stored)).toBe(true);
    expect(eml.headers['content-disposition']).toMatch(/^attachment; filename="Quarterly report with attachment\.eml"/);
    expect(eml.headers['x-content-type-options']).toBe('nosniff');
    expect(String(eml.headers['content-security-policy'])).toContain('sandbox');
    const view = await c.get(`/acme/message/${inboxId}/${uid}`);
    expect(view.text).toContain('report-q1.pdf');
    const part = /data-part="([\d.]+)"/.exec(view.text)![1]!;
    const att = await c.get(`/acme/message/${inboxId}/${uid}/part/${part}`);
    const parsed = parseMessage(stored);
    expect(att.body.equals(decodePartBody(stored, findPart(parsed.root, part.split('.').map(Number))!))).toBe(true);
    expect(att.headers['content-disposition']).toMatch(/^attachment; filename="report-q1\.pdf"/);
    expect(att.headers['x-content-type-options']).toBe('nosniff');
    expect(String(att.headers['content-security-policy'])).toBe("default-src 'none'; sandbox");
    const raw = await c.get(`/acme/message/${inboxId}/${uid}?raw=1`);
    expect(raw.text).toContain('data-testid="raw-headers"');
    expect(raw.text).toContain('Content-Type: multipart/mixed; boundary=&quot;b1&quot;');
    const print = await c.get(`/acme/message/${inboxId}/${uid}/print`);
    expect(print.text).toContain('data-autoprint');
    expect(print.text).toContain('Please find the report attached.');
  });

  it('opens S/MIME, TNEF and broken messages from the corpus without an error page', async () => {
    const c = client();
    await login(c);
    const list = await c.get(`/acme/folder/${inboxId}`);
    const uids = [...new Set([...list.text.matchAll(new RegExp(`/acme/message/${inboxId}/(\\d+)\\?`, 'g'))].map((m) => Number(m[1])))];
    expect(uids.length).toBe(6);
    for (const uid of uids) {
      const r = await c.get(`/acme/message/${inboxId}/${uid}`);
      expect(r.status, String(uid)).toBe(200);
      const b = await c.get(`/acme/message/${inboxId}/${uid}/body`);
      expect(b.status).toBe(200);
      expect(b.text).not.toMatch(/<script|onerror=|http-equiv/i);
    }
    const pages = await Promise.all(uids.map((uid) => c.get(`/acme/message/${inboxId}/${uid}`)));
    expect(pages.some((p) => p.text.includes('smime.p7s'))).toBe(true); // S/MIME signature listed as an attachment
    expect(pages.some((p) => /winmail\.dat|application\/ms-tnef/i.test(p.text))).toBe(true); // TNEF offered for download
  });

  it('shows the other messages of a conversation, across folders and prefixes, oldest first', async () => {
    const msg = (subject: string, day: number) => Buffer.from(`From: p${day}@x.example\r\nSubject: ${subject}\r\nDate: ${new Date(Date.UTC(2022, 2, day)).toUTCString()}\r\n\r\nproject text ${day}\r\n`);
    await acme.ingest('jane', [
      { name: 'c1', folder: 'Projects', raw: msg('Project plan', 1) },
      { name: 'c2', folder: 'Projects', raw: msg('Re: Project plan', 2) },
      { name: 'c3', folder: 'Projects/Old', raw: msg('AW: RE: project   plan', 3) },
      { name: 'c4', folder: 'Projects', raw: msg('Project plan B', 4) },
    ]);
    await acme.ingest('bob', [{ name: 'c5', folder: 'Inbox', raw: msg('Fwd: Project plan', 5) }]);
    const c = client();
    await login(c);
    const tree = await c.get('/acme/folders');
    const projects = Number(/data-folder-id="(\d+)"><span class="fname">Projects</.exec(tree.text)![1]);
    const list = await c.get(`/acme/folder/${projects}`);
    const uid = Number(new RegExp(`/acme/message/${projects}/(\\d+)\\?[^"]*"[^>]*>\\s*<span class="from">p2@`).exec(list.text)![1]);
    const view = await c.get(`/acme/message/${projects}/${uid}`);
    expect(view.text).toContain('Conversation (3 more)');
    const conv = view.text.slice(view.text.indexOf('data-testid="conversation"'), view.text.indexOf('</details>'));
    expect([...conv.matchAll(/<span class="from">(p\d)@/g)].map((m) => m[1])).toEqual(['p1', 'p3', 'p5']);
    expect(conv).toContain('bob/Inbox');
  });

  it('searches with a count, wildcards and highlighting in text only, across readable archives', async () => {
    const c = client();
    await login(c);
    const r = await c.get('/acme/search?q=zebra');
    const count = Number(/data-count="(\d+)"/.exec(r.text)![1]);
    const j = await acme.authenticate({ user: 'jane', password: 'pw-jane', channel: 'web' });
    if (!j.ok) throw new Error('login');
    const direct = await acme.searchArchive({ session: j.session, query: { text: 'zebra' } });
    expect(count).toBe(direct.total);
    expect(count).toBe(3); // hostile, attachment, and bob's note
    expect(r.text).toContain('<mark>zebra</mark>');
    const wild = await c.get('/acme/search?q=zeb*');
    expect(Number(/data-count="(\d+)"/.exec(wild.text)![1])).toBe(3);
    const q = await c.get('/acme/search?q=z%3Fbra');
    expect(Number(/data-count="(\d+)"/.exec(q.text)![1])).toBe(3);
    const adv = await c.get(`/acme/search?subject=zebra&folderId=${bobInboxId}`);
    expect(Number(/data-count="(\d+)"/.exec(adv.text)![1])).toBe(1);
    expect(adv.text).toContain('Bob <mark>zebra</mark> note');
    const att = await c.get('/acme/search?hasAttachments=1&q=report');
    expect(Number(/data-count="(\d+)"/.exec(att.text)![1])).toBe(1);
    // A hit opened from the results carries the words, highlighted in text nodes of the HTML body.
    const hit = /href="(\/acme\/message\/\d+\/\d+\?hl=zebra&amp;[^"]+)"/.exec(r.text)![1]!.replace(/&amp;/g, '&');
    const view = await c.get(hit);
    expect(view.status).toBe(200);
    // The same word, per folder, as IMAP SEARCH TEXT counts it in the instance.
    for (const folderId of [inboxId, bobInboxId]) {
      const imap = await acme.search({ session: j.session, folderId, criteria: { key: 'text', value: 'zebra' } });
      const web = await c.get(`/acme/search?q=zebra&folderId=${folderId}`);
      expect(Number(/data-count="(\d+)"/.exec(web.text)![1])).toBe(imap.length);
    }
    const bad = await c.get('/acme/search?dateFrom=2024-13-45');
    expect(bad.status).toBe(400);
  });

  it('exports a folder as ZIP of .eml files whose bytes and CRCs match the archive, and selected messages as MBOX', async () => {
    const c = client();
    await login(c);
    const page = await c.get(`/acme/folder/${inboxId}`);
    const token = csrfOf(page.text);
    const zip = await c.post('/acme/export', { _csrf: token, format: 'zip', scope: 'folder', folderId: String(inboxId) });
    expect(zip.status).toBe(200);
    expect(zip.headers['content-type']).toBe('application/zip');
    // Walk the central directory.
    const buf = zip.body;
    const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    const entries = buf.readUInt16LE(eocd + 10);
    expect(entries).toBe(6);
    let p = buf.readUInt32LE(eocd + 16);
    const j = await acme.authenticate({ user: 'jane', password: 'pw-jane', channel: 'web' });
    if (!j.ok) throw new Error('login');
    const { uids } = await acme.folderUids({ session: j.session, folderId: inboxId });
    const stored = new Set<string>();
    for (const uid of uids) stored.add((await acme.readMessageBuffer({ session: j.session, folderId: inboxId, uid })).toString('base64'));
    for (let i = 0; i < entries; i++) {
      expect(buf.readUInt32LE(p)).toBe(0x02014b50);
      const crc = buf.readUInt32LE(p + 16), size = buf.readUInt32LE(p + 20), nameLen = buf.readUInt16LE(p + 28), extraLen = buf.readUInt16LE(p + 30), commentLen = buf.readUInt16LE(p + 32);
      const off = buf.readUInt32LE(p + 42);
      const name = buf.subarray(p + 46, p + 46 + nameLen).toString('utf8');
      expect(name).toMatch(/\.eml$/);
      const dataStart = off + 30 + buf.readUInt16LE(off + 26) + buf.readUInt16LE(off + 28);
      const data = buf.subarray(dataStart, dataStart + size);
      expect(crc32(data) >>> 0).toBe(crc);
      expect(stored.has(data.toString('base64'))).toBe(true);
      p += 46 + nameLen + extraLen + commentLen;
    }
    const mbox = await c.post('/acme/export', { _csrf: token, format: 'mbox', scope: 'selected', m: [`${inboxId}:${uids[0]}`, `${eveInboxId}:1`, `${inboxId}:${uids[1]}`] });
    expect(mbox.status).toBe(200);
    expect(mbox.text.match(/^From /gm)!.length).toBe(2);
    expect(audits.some((a) => a.action === 'MessageExport' && a.details.messages === 6)).toBe(true);
    // bob has no export privilege
    const b = client();
    await login(b, 'bob', 'pw-bob');
    const bp = await b.get('/acme/folders');
    const denied = await b.post('/acme/export', { _csrf: csrfOf(bp.text), format: 'zip', scope: 'folder', folderId: String(bobInboxId) });
    expect(denied.status).toBe(403);
  });

  it('restores selected messages to the user\'s own address through a real SMTP server, unchanged', async () => {
    const received: { from: string; to: string[]; data: Buffer }[] = [];
    const smtp = new SMTPServer({
      authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
      onData(stream, session, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => { received.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), data: Buffer.concat(chunks) }); cb(); });
      },
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
    smtpPort = (smtp.server.address() as { port: number }).port;
    try {
      await acme.management('SetUserEmailAddresses', { userName: 'jane', emailAddresses: 'jane@acme.example' });
      const c = client();
      await login(c);
      const page = await c.get(`/acme/folder/${inboxId}`);
      expect(page.text).toContain('data-testid="restore"');
      const j = await acme.authenticate({ user: 'jane', password: 'pw-jane', channel: 'web' });
      if (!j.ok) throw new Error('login');
      const { uids } = await acme.folderUids({ session: j.session, folderId: inboxId });
      const r = await c.post('/acme/restore', { _csrf: csrfOf(page.text), format: 'zip', folderId: String(inboxId), m: [`${inboxId}:${uids[0]}`, `${eveInboxId}:1`, `${inboxId}:${uids[1]}`] });
      expect(r.status).toBe(200);
      expect(r.text).toContain('2 messages were sent to jane@acme.example.');
      expect(received.map((m) => m.to)).toEqual([['jane@acme.example'], ['jane@acme.example']]);
      expect(received[0]!.from).toBe('archive@provider.example');
      for (const [i, uid] of [uids[0]!, uids[1]!].entries()) {
        const stored = await acme.readMessageBuffer({ session: j.session, folderId: inboxId, uid });
        expect(received[i]!.data.toString('latin1').replace(/\r\n$/, '')).toBe(stored.toString('latin1').replace(/\r\n$/, ''));
      }
      expect(audits.some((a) => a.action === 'MessageRestore' && a.details.messages === 2)).toBe(true);
    } finally {
      await new Promise<void>((r) => smtp.close(() => r()));
      await acme.management('SetUserEmailAddresses', { userName: 'jane', emailAddresses: '' });
    }
  });

  it('changes the password through the account page, checking the repeat and the old password', async () => {
    const c = client();
    await login(c);
    const page = await c.get('/acme/account');
    expect(page.text).toContain('Change password');
    const token = csrfOf(page.text);
    const mismatch = await c.post('/acme/account/password', { _csrf: token, oldPassword: 'pw-jane', newPassword: 'n1', repeatPassword: 'n2' });
    expect(mismatch.status).toBe(400);
    expect(mismatch.text).toContain('do not match');
    const wrongOld = await c.post('/acme/account/password', { _csrf: token, oldPassword: 'nope', newPassword: 'pw-jane2', repeatPassword: 'pw-jane2' });
    expect(wrongOld.status).toBe(400);
    const ok = await c.post('/acme/account/password', { _csrf: token, oldPassword: 'pw-jane', newPassword: 'pw-jane2', repeatPassword: 'pw-jane2' });
    expect(ok.text).toContain('Your password has been changed.');
    expect((await login(client(), 'jane', 'pw-jane2')).status).toBe(303);
    await acme.management('SetUserPassword', { userName: 'jane', password: 'pw-jane' });
  });

  it('enrols TOTP only after a correct code from the authenticator, and removes it again', async () => {
    const { generateSync } = await import('otplib');
    const c = client();
    await login(c);
    let page = await c.get('/acme/account');
    expect(page.text).toContain('Two-factor authentication is off.');
    page = await c.post('/acme/account/mfa/start', { _csrf: csrfOf(page.text) });
    const secret = /data-testid="mfa-secret">([A-Z2-7]+)</.exec(page.text)![1]!;
    expect(page.text).toContain('otpauth://totp/');
    const wrong = await c.post('/acme/account/mfa/confirm', { _csrf: csrfOf(page.text), code: '000000' === generateSync({ secret }) ? '111111' : '000000' });
    expect(wrong.status).toBe(400);
    expect(mfaSecrets.has('jane')).toBe(false);
    const ok = await c.post('/acme/account/mfa/confirm', { _csrf: csrfOf(page.text), code: generateSync({ secret }) });
    expect(ok.text).toContain('Two-factor authentication is now on.');
    expect(mfaSecrets.get('jane')).toBe(secret);
    const off = await c.post('/acme/account/mfa/remove', { _csrf: csrfOf(ok.text) });
    expect(off.text).toContain('Two-factor authentication is now off.');
    expect(mfaSecrets.has('jane')).toBe(false);
  });

  it('reloads branding at runtime and refuses a broken folder, keeping the branding in use', async () => {
    const file = path.join(brandingDir, 'branding.json');
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, good.replace('"Coffer Mail Archive"', '"Globex Vault"'));
    expect(branding.reload()).toMatchObject({ ok: true });
    expect((await client().get('/acme/login')).text).toContain('Globex Vault');

    writeFileSync(file, '{ "productName": ');
    const r1 = branding.reload();
    expect(r1).toMatchObject({ ok: false });
    expect((r1 as { error: string }).error).toMatch(/branding\.json is not valid JSON/);
    writeFileSync(file, good.replace('"Coffer Mail Archive"', '"Globex Vault"').replace('"logo.png"', '"missing.png"'));
    expect((branding.reload() as { error: string }).error).toMatch(/missing\.png is missing/);
    writeFileSync(file, good.replace('"Coffer Mail Archive"', '"Globex Vault"').replace('"favicon.png"', '"logo.png"'));
    expect((branding.reload() as { error: string }).error).toMatch(/favicon must be square/);
    writeFileSync(file, good.replace('https://example.com/privacy', 'javascript:alert(1)'));
    expect((branding.reload() as { error: string }).error).toMatch(/links\[0\]\.url must be an http\(s\) address/);
    writeFileSync(file, good.replace('"#1f5fa8"', '"red;}body{display:none"'));
    expect((branding.reload() as { error: string }).error).toMatch(/colors\.primary/);
    expect((await client().get('/acme/login')).text).toContain('Globex Vault');
    expect(branding.productName).toBe('Globex Vault');
    writeFileSync(file, good);
    expect(branding.reload()).toMatchObject({ ok: true });
  });

  it('sends less than 150 KB of compressed JavaScript and CSS for the first view', async () => {
    const c = client({ 'accept-encoding': 'gzip' });
    const page = await c.get('/acme/login');
    const assets = [...page.text.matchAll(/(?:src|href)="(\/(?:static|branding)\/[^"]+\.(?:js|css)[^"]*)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));
    expect(assets.length).toBe(3);
    let total = 0;
    for (const a of assets) {
      const r = await c.get(a);
      expect(r.status).toBe(200);
      total += r.body.length;
      if (r.headers['content-encoding'] === 'gzip') expect(gunzipSync(r.body).length).toBeGreaterThan(0);
    }
    expect(total).toBeLessThan(150 * 1024);
  });
  it('backs off after repeated failures for the same account, even when the password is then right', async () => {
    const c = client();
    for (let i = 0; i < 3; i++) {
      const r = await login(c, 'bob', 'wrong');
      expect(r.status).toBe(401);
      expect(r.text).toContain('incorrect');
    }
    const blocked = await login(c, 'bob', 'pw-bob');
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(blocked.text).toContain('Too many failed attempts');
  });

});

describe('web access sessions', () => {
  it('ends a session after the idle timeout and asks to sign in again', async () => {
    const engine = await startEngine();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'coffer-web-idle-'));
    try {
      const acme = await engine.startInstance('acme');
      await acme.management('CreateUser', { userName: 'jane', privileges: 'login', password: 'pw' });
      cpSync(defaultSampleDir(), path.join(dir, 'b'), { recursive: true });
      const log = createLogger('silent');
      const cert = generateSelfSigned('localhost');
      const s = await listenWebAccess({
        resolveInstance: async () => ({ ok: true, instanceId: 'acme', client: acme }), branding: new BrandingStore({ dir: path.join(dir, 'b'), log }),
        cookieSecret: 'x'.repeat(40), logger: log, idleTimeoutMs: 1000,
      }, { port: 0, host: '127.0.0.1', tls: { key: cert.keyPem, cert: cert.certPem } });
      try {
        const c = new WebClient(s.port, cert.certPem);
        const p1 = await c.get('/acme/login');
        await c.post('/acme/login', { _csrf: csrfOf(p1.text), user: 'jane' });
        const p2 = await c.get('/acme/login');
        expect((await c.post('/acme/login/password', { _csrf: csrfOf(p2.text), password: 'pw' })).status).toBe(303);
        expect((await c.get('/acme/folders')).status).toBe(200);
        await new Promise((r) => setTimeout(r, 1300));
        const after = await c.get('/acme/folders');
        expect(after.status).toBe(303);
        const loginPage = await c.get('/acme/login');
        expect(loginPage.text).toContain('Your session has ended');
      } finally { await s.close(); }
    } finally {
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start with a short cookie secret or a broken branding folder', async () => {
    const log = createLogger('silent');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'coffer-web-bad-'));
    try {
      cpSync(defaultSampleDir(), path.join(dir, 'b'), { recursive: true });
      const branding = new BrandingStore({ dir: path.join(dir, 'b'), log });
      await expect(listenWebAccess({ resolveInstance: async () => ({ ok: false, reason: 'unknown', message: '' }), branding, cookieSecret: 'short', logger: log }, { port: 0, tls: { key: '', cert: '' } }))
        .rejects.toThrow(/cookieSecret must be at least 32 characters/);
      copyFileSync(path.join(dir, 'b', 'logo.png'), path.join(dir, 'b', 'favicon.png'));
      expect(() => new BrandingStore({ dir: path.join(dir, 'b'), log })).toThrow(/favicon must be square/);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});

describe('web access building blocks', () => {
  it('expires idle sessions in the memory store and reports them, so their instance session can end', async () => {
    const { MemorySessionStore } = await import('../src/cas/web/session-store.js');
    const dropped: unknown[] = [];
    const store = new MemorySessionStore({ idleTtlMs: 100, onDrop: (s) => dropped.push(s) });
    const get = (id: string) => new Promise((r) => store.get(id, (_e, s) => r(s)));
    store.set('a', { login: { token: 't-a' } } as never, () => {});
    store.set('b', { login: { token: 't-b' } } as never, () => {});
    await new Promise((r) => setTimeout(r, 60));
    expect(await get('a')).toBeTruthy(); // reading keeps a session alive
    await new Promise((r) => setTimeout(r, 60));
    expect(await get('a')).toBeTruthy();
    expect(await get('b')).toBeNull();
    expect(dropped).toEqual([{ login: { token: 't-b' } }]);
    store.destroy('a', () => {});
    expect(dropped.length).toBe(1); // logout is not a drop: the app ends the instance session itself
    store.close();
  });

  it('backs off per address only after many failures, so one office behind NAT is not locked out by a typo', async () => {
    const { LoginBackoff, BACKOFF } = await import('../src/cas/web/login-backoff.js');
    const b = new LoginBackoff();
    const t0 = 1_000_000;
    for (let i = 0; i < BACKOFF.freeFailuresPerAddress; i++) b.noteFailure('acme', `user${i}`, '10.0.0.1', t0);
    expect(b.retryAfterMs('acme', 'someone-else', '10.0.0.1', t0)).toBe(0);
    b.noteFailure('acme', 'user-x', '10.0.0.1', t0);
    expect(b.retryAfterMs('acme', 'someone-else', '10.0.0.1', t0)).toBe(BACKOFF.baseDelayMs);
    expect(b.retryAfterMs('acme', 'someone-else', '10.0.0.2', t0)).toBe(0);
    expect(b.retryAfterMs('acme', 'someone-else', '10.0.0.1', t0 + BACKOFF.baseDelayMs)).toBe(0);
    // Per account: the third failure in a row blocks, doubling each time, capped.
    for (let i = 0; i < 3; i++) b.noteFailure('acme', 'jane', `10.1.0.${i}`, t0);
    expect(b.retryAfterMs('acme', 'JANE', '10.9.9.9', t0)).toBe(BACKOFF.baseDelayMs);
    b.noteFailure('acme', 'jane', '10.1.0.9', t0);
    expect(b.retryAfterMs('acme', 'jane', '10.9.9.9', t0)).toBe(2 * BACKOFF.baseDelayMs);
    for (let i = 0; i < 30; i++) b.noteFailure('acme', 'jane', '10.1.0.9', t0);
    expect(b.retryAfterMs('acme', 'jane', '10.9.9.9', t0)).toBe(BACKOFF.maxDelayMs);
    expect(b.retryAfterMs('globex', 'jane', '10.9.9.9', t0)).toBe(0); // accounts are per instance
    b.noteSuccess('acme', 'jane', '10.1.0.9');
    expect(b.retryAfterMs('acme', 'jane', '10.9.9.9', t0)).toBe(0);
  });

  it('highlights wildcard words without letting a crafted query make matching slow', async () => {
    const { highlightTerms, highlight } = await import('../src/cas/web/format.js');
    const re = highlightTerms('zeb* "big friend" <b>');
    expect(highlight('A zebra & a <b>big</b> friend', re).value).toBe('A <mark>zebra</mark> &amp; a &lt;<mark>b</mark>&gt;<mark>big</mark>&lt;/<mark>b</mark>&gt; <mark>friend</mark>');
    expect(highlight('Zebras and zebra', highlightTerms('z?bra')).value).toBe('Zebras and <mark>zebra</mark>');
    const evil = highlightTerms('*a*a*a*a*a*a*a*a*a*b a*a*b a*a*c');
    const start = Date.now();
    highlight('a'.repeat(200_000), evil);
    highlight(('a'.repeat(39) + ' ').repeat(20_000), evil);
    expect(Date.now() - start).toBeLessThan(2000);
  });
});

describe('web access sanitiser over the whole fixture corpus', () => {
  it('leaves no script, handler, frame, form, remote load or style URL in any fixture\'s HTML body', async () => {
    const { renderMessage } = await import('../src/cas/web/message-render.js');
    const { normalizeLineEndings } = await import('../src/common/mime/index.js');
    const { readdirSync } = await import('node:fs');
    const files: string[] = [];
    const walk = (d: string) => { for (const e of readdirSync(d, { withFileTypes: true })) { if (e.isDirectory()) { if (!e.name.startsWith('_')) walk(path.join(d, e.name)); } else if (e.name.endsWith('.eml')) files.push(path.join(d, e.name)); } };
    walk(FIXTURES);
    expect(files.length).toBeGreaterThan(1500);
    let withHtml = 0;
    const forbidden = /<(script|iframe|object|embed|link|meta|base|form|input|button|textarea|select|style|svg|math|frame|frameset|applet|video|audio)\b|\son[a-z]+\s*=|javascript:|vbscript:|url\s*\(|expression\s*\(|src="(https?:)?\/\//i;
    for (const f of files) {
      const m = renderMessage(normalizeLineEndings(readFileSync(f)), { allowRemote: false, highlight: null, withHtml: true });
      if (!m.html) continue;
      withHtml++;
      const bad = forbidden.exec(m.html.html);
      expect(bad?.[0] ?? null, f).toBeNull();
    }
    expect(withHtml).toBeGreaterThan(100);
  }, 120_000);
});
