/**
 * Web Access in a real browser (Debian's chromium driven by playwright-core) over real HTTPS:
 * a new user's path through login, tree, list and message with the keyboard; hostile mail from the
 * corpus (no script runs, nothing is fetched from a non-local host); downloads byte for byte;
 * branding reload; the phone layout at 390×844 with screenshots in test/artifacts/.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page, type BrowserContext } from 'playwright-core';
import { startEngine, type Engine } from './helpers/engine.js';
import type { InstanceClient } from '../src/instance/client.js';
import { generateSelfSigned } from '../src/common/certs.js';
import { createLogger } from '../src/common/logger.js';
import { BrandingStore, defaultSampleDir } from '../src/cas/web/branding.js';
import { listenWebAccess } from '../src/cas/web/app.js';

const FIXTURES = path.resolve(__dirname, '../../shared/corpus/fixtures');
const ARTIFACTS = path.resolve(__dirname, 'artifacts');
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Fixtures with hostile or broken content, S/MIME and TNEF (read in place, never copied). */
const CORPUS_FILES = [
  'mailgun-flanker/signed.eml',
  'imap-tools/mime_emails__raw_email7.eml',
  'roundcube/MessageRendering__data__greenmail__test-message-rendering@localhost__INBOX__tnef1.eml',
  'roundcube/src__BID-26800.txt.eml',
  'thunderbird/mail__test__browser__composition__data__evil-meta-msg.eml',
  'thunderbird/mailnews__test__data__html-entities-and-styles.eml',
  'roundcube/MessageRendering__data__greenmail__test-message-rendering@localhost__INBOX__markdown.eml',
  'cpython-test-email/msg_41.txt.eml',
];

const HOSTILE = Buffer.from([
  'From: "Your Bank" <phish@attacker.example>', 'To: jane@acme.example', 'Subject: Hostile HTML in the browser', 'Date: Mon, 01 Jan 2024 10:00:00 +0000',
  'MIME-Version: 1.0', 'Content-Type: multipart/related; boundary="r"', '', '--r', 'Content-Type: text/html; charset=utf-8', '',
  '<html><head><script>document.title="pwned";fetch("https://remote.example/s")</script><link rel="stylesheet" href="https://remote.example/x.css">',
  '<meta http-equiv="refresh" content="0;url=https://remote.example/"></head>',
  '<body onload="document.title=\'pwned\'"><p id="p">Hello <b>friend</b></p><img src="https://remote.example/track.png" onerror="document.title=\'pwned\'">',
  '<img src="cid:logo@x" alt="inline logo" id="inline"><a href="javascript:document.title=\'pwned\'">click</a>',
  '<iframe src="https://remote.example/frame"></iframe><object data="https://remote.example/o"></object><embed src="https://remote.example/e">',
  '<div style="background-image:url(https://remote.example/div.png)">styled</div><svg><script>document.title="pwned"</script></svg>',
  '<video src="https://remote.example/v.mp4" autoplay></video><audio src="https://remote.example/a.mp3" autoplay></audio></body></html>',
  '--r', 'Content-Type: image/png', 'Content-ID: <logo@x>', 'Content-Transfer-Encoding: base64', '',
  readFileSync(path.join(defaultSampleDir(), 'favicon.png')).toString('base64'), '--r--', '',
].join('\r\n'));

const ATTACHMENT_MSG = Buffer.from([
  'From: Bob Builder <bob@acme.example>', 'To: Jane Doe <jane@acme.example>', 'Subject: Report with attachment', 'Date: Tue, 02 Jan 2024 09:00:00 +0000',
  'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b1"', '', '--b1', 'Content-Type: text/plain; charset=utf-8', '', 'The report is attached.', '--b1',
  'Content-Type: application/octet-stream; name="data.bin"', 'Content-Disposition: attachment; filename="data.bin"', 'Content-Transfer-Encoding: base64', '',
  Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) & 255)).toString('base64').replace(/.{76}/g, '$&\r\n'), '--b1--', '',
].join('\r\n'));

const isLocal = (url: string) => { try { const u = new URL(url); return ['127.0.0.1', 'localhost'].includes(u.hostname) || u.protocol === 'data:' || u.protocol === 'blob:'; } catch { return true; } };

describe('web access in chromium', () => {
  let engine: Engine;
  let acme: InstanceClient;
  let dataDir: string;
  let branding: BrandingStore;
  let server: Awaited<ReturnType<typeof listenWebAccess>>;
  let browser: Browser;
  let origin: string;
  let inboxId = 0;
  let janeSession = '';
  const remoteRequests: string[] = [];
  const dialogs: string[] = [];

  async function newContext(opts: Parameters<Browser['newContext']>[0] = {}): Promise<BrowserContext> {
    const ctx = await browser.newContext({ ignoreHTTPSErrors: true, acceptDownloads: true, locale: 'en-US', ...opts });
    // Nothing may leave for another host: record it, and never let it reach the network.
    await ctx.route('**/*', (route) => {
      const url = route.request().url();
      if (isLocal(url)) return route.continue();
      remoteRequests.push(url);
      return route.abort();
    });
    ctx.on('page', (p) => p.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); }));
    return ctx;
  }

  async function logIn(page: Page, user = 'jane', password = 'pw-jane'): Promise<void> {
    await page.goto(`${origin}/acme/`);
    await page.fill('#user', user);
    await page.click('button[type=submit].primary');
    await page.fill('#password', password);
    await page.click('button[type=submit].primary');
    await page.waitForURL(/\/acme\/folders$/);
  }

  beforeAll(async () => {
    engine = await startEngine();
    acme = await engine.startInstance('acme');
    await acme.management('CreateUser', { userName: 'jane', fullName: 'Jane Doe', privileges: 'login,export', password: 'pw-jane' });
    await acme.management('CreateUser', { userName: 'bob', privileges: 'login', password: 'pw-bob' });
    await acme.management('SetUserPrivilegesOnFolder', { userName: 'jane', folder: 'bob', privileges: 'read' });
    await acme.ingest('jane', [
      { name: 'hostile', folder: 'Inbox', raw: HOSTILE },
      { name: 'attachment', folder: 'Inbox', raw: ATTACHMENT_MSG },
      ...CORPUS_FILES.map((f) => ({ name: f, folder: 'Inbox', raw: readFileSync(path.join(FIXTURES, f)) })),
    ]);
    await acme.ingest('jane', Array.from({ length: 60 }, (_, i) => ({ name: `n${i}`, folder: 'Inbox/Newsletters', raw: Buffer.from(`From: News ${i} <news${i}@list.example>\r\nSubject: Newsletter number ${i} with a rather long subject line that must not overflow a phone screen\r\nDate: ${new Date(Date.UTC(2023, 5, 1) + i * 86400_000).toUTCString()}\r\n\r\nHello ${i}\r\n`) })));
    await acme.ingest('bob', [{ name: 'b', folder: 'Inbox', raw: Buffer.from('From: x@y.example\r\nSubject: Bob mail\r\n\r\nhi\r\n') }]);
    const j = await acme.authenticate({ user: 'jane', password: 'pw-jane', channel: 'web' });
    if (!j.ok) throw new Error('login');
    janeSession = j.session;
    inboxId = (await acme.listFolders({ session: j.session })).find((f) => f.path === 'jane/Inbox')!.id;

    dataDir = mkdtempSync(path.join(os.tmpdir(), 'coffer-webui-'));
    const log = createLogger('silent');
    branding = new BrandingStore({ dir: path.join(dataDir, 'config', 'branding'), sampleDir: defaultSampleDir(), log });
    const cert = generateSelfSigned('localhost');
    server = await listenWebAccess({
      resolveInstance: async (name) => (name === 'acme' ? { ok: true, instanceId: 'acme', client: acme } : { ok: false, reason: 'unknown', message: 'unknown' }),
      branding, cookieSecret: 'browser-test-secret-0123456789abcdef', logger: log,
    }, { port: 0, host: '127.0.0.1', tls: { key: cert.keyPem, cert: cert.certPem } });
    origin = `https://127.0.0.1:${server.port}`;
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await engine?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('lets a new user sign in, browse the tree and read messages with j/k, Enter and Esc', async () => {
    const ctx = await newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    await logIn(page);
    await expect(page.locator('[data-testid=folder-tree]')).toBeDefined();
    expect(await page.textContent('[data-testid=folder-tree]')).toContain('My Archive');
    expect(await page.textContent('[data-testid=folder-tree]')).toContain('Archive of bob');
    await page.click(`[data-folder-id="${inboxId}"]`);
    await page.waitForSelector('[data-testid=message-list]');
    expect(await page.getAttribute('[data-testid=result-count]', 'data-count')).toBe(String(2 + CORPUS_FILES.length));
    await page.screenshot({ path: path.join(ARTIFACTS, 'web-desktop-list.png') });
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    const second = await page.locator('.msglist .row').nth(1).locator('a.open').getAttribute('href');
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => second !== null && u.pathname + u.search === second.replace(/&amp;/g, '&'));
    await page.waitForSelector('[data-testid=msg-subject]');
    await page.keyboard.press('Escape');
    await page.waitForURL(new RegExp(`/acme/folder/${inboxId}$`));
    // The quick search box: "/" focuses it; results show the count and marked words.
    await page.keyboard.press('/');
    await page.keyboard.type('newsletter');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=result-count]');
    expect(await page.getAttribute('[data-testid=result-count]', 'data-count')).toBe('60');
    expect(await page.locator('.msglist mark').count()).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'web-desktop-search.png') });
    await ctx.close();
  });

  it('runs no script from any message and loads nothing from a non-local host', async () => {
    const ctx = await newContext({ viewport: { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    await logIn(page);
    await page.goto(`${origin}/acme/folder/${inboxId}`);
    const hrefs = await page.locator('.msglist a.open').evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).getAttribute('href')!));
    expect(hrefs.length).toBe(2 + CORPUS_FILES.length);
    for (const href of hrefs) {
      const res = await page.goto(origin + href);
      expect(res!.status(), href).toBe(200);
      await page.waitForLoadState('load');
      const frame = page.frames().find((f) => f.url().includes('/body'));
      if (frame) {
        await frame.waitForLoadState('load');
        // A script that ran would have changed the title (or the text); evaluation here is the test's own, in its own world.
        expect(await frame.evaluate(() => document.title), href).not.toBe('pwned');
        expect(await frame.evaluate(() => document.scripts.length), href).toBe(0);
      }
      expect(await page.title()).not.toBe('pwned');
    }
    await page.waitForTimeout(300);
    expect(dialogs).toEqual([]);
    expect(remoteRequests).toEqual([]);

    // The hostile message: inline cid: image shown, remote image blocked until allowed.
    await page.goto(origin + hrefs.find((h) => h)!.replace(/\?.*$/, ''));
    const hostileHref = await (async () => {
      for (const h of hrefs) { await page.goto(origin + h); if ((await page.textContent('[data-testid=msg-subject]'))?.includes('Hostile HTML')) return h; }
      throw new Error('hostile message not found');
    })();
    const frame = page.frames().find((f) => f.url().includes('/body'))!;
    expect(await frame.evaluate(() => (document.querySelector('img[alt="inline logo"]') as HTMLImageElement).naturalWidth)).toBe(32);
    expect(await page.isVisible('[data-testid=remote-blocked]')).toBe(true);
    await page.screenshot({ path: path.join(ARTIFACTS, 'web-desktop-hostile.png'), fullPage: true });
    expect(hostileHref).toBeTruthy();
    await ctx.close();
  });

  it('downloads an attachment and the .eml with the bytes the archive stores', async () => {
    const ctx = await newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    await logIn(page);
    await page.goto(`${origin}/acme/folder/${inboxId}`);
    await page.click('text=Report with attachment');
    await page.waitForSelector('[data-testid=attachments]');
    const [att] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=attachments] a')]);
    expect(att.suggestedFilename()).toBe('data.bin');
    const attBytes = readFileSync((await att.path())!);
    expect(attBytes.equals(Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) & 255)))).toBe(true);
    const [eml] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=download-eml]')]);
    expect(eml.suggestedFilename()).toBe('Report with attachment.eml');
    const uid = Number(/\/message\/\d+\/(\d+)/.exec(page.url())![1]);
    const stored = await acme.readMessageBuffer({ session: janeSession, folderId: inboxId, uid });
    expect(readFileSync((await eml.path())!).equals(stored)).toBe(true);
    await ctx.close();
  });

  it('shows a reloaded product name on the next page load and keeps it when a broken folder is refused', async () => {
    const ctx = await newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    await page.goto(`${origin}/acme/login`);
    expect(await page.textContent('[data-testid=product-name]')).toBe('Coffer Mail Archive');
    const file = path.join(dataDir, 'config', 'branding', 'branding.json');
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, good.replace('"Coffer Mail Archive"', '"Initech Archive"'));
    expect(branding.reload().ok).toBe(true);
    await page.reload();
    expect(await page.textContent('[data-testid=product-name]')).toBe('Initech Archive');
    writeFileSync(file, good.replace('"logo.png"', '"nope.png"'));
    expect(branding.reload().ok).toBe(false);
    await page.reload();
    expect(await page.textContent('[data-testid=product-name]')).toBe('Initech Archive');
    writeFileSync(file, good);
    expect(branding.reload().ok).toBe(true);
    await ctx.close();
  });

  it('fits a 390×844 phone: one column with back navigation, 44 px touch targets, no horizontal scrolling', async () => {
    const ctx = await newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const page = await ctx.newPage();
    const check = async (name: string) => {
      await page.screenshot({ path: path.join(ARTIFACTS, `web-phone-${name}.png`), fullPage: true });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `${name}: horizontal overflow`).toBeLessThanOrEqual(0);
      const small = await page.evaluate(() => {
        const out: string[] = [];
        for (const el of document.querySelectorAll('a, button, input:not([type=hidden]), select, summary')) {
          // A control inside a label is hit through its label.
          const target = (el.parentElement?.tagName === 'LABEL' ? el.parentElement : el) as HTMLElement;
          const r = target.getBoundingClientRect();
          const style = getComputedStyle(el as HTMLElement);
          if (r.width === 0 || r.height === 0 || style.visibility === 'hidden' || (el as HTMLElement).closest('.skip')) continue;
          // A checkbox's target is its label/row; text inside running prose is exempt (WCAG 2.5.8 inline exception).
          if ((el as HTMLElement).closest('.footer, p')) continue;
          if (r.height < 44 || r.width < 44) out.push(`${el.tagName}.${(el as HTMLElement).className} "${(el.textContent ?? '').trim().slice(0, 30)}" ${Math.round(r.width)}×${Math.round(r.height)}`);
        }
        return [...new Set(out)];
      });
      expect(small, `${name}: small touch targets`).toEqual([]);
    };
    await page.goto(`${origin}/acme/login`);
    await check('login');
    await logIn(page);
    await check('folders');
    expect(await page.isVisible('.pane-list')).toBe(false);
    const newsletters = page.locator('.tree a', { hasText: 'Newsletters' });
    await newsletters.click();
    await page.waitForSelector('[data-testid=message-list]');
    expect(await page.isVisible('.pane-tree')).toBe(false);
    await check('list');
    await page.locator('.msglist a.open').first().click();
    await page.waitForSelector('[data-testid=msg-subject]');
    expect(await page.isVisible('.pane-list')).toBe(false);
    await check('message');
    await page.click('[data-testid=back]');
    await page.waitForSelector('[data-testid=message-list]');
    await page.click('.list-head .back');
    await page.waitForURL(/\/acme\/folders$/);
    await ctx.close();
  });
});
