/**
 * Progress of large exports (ZIP and MBOX, streamed): the export form leads to a progress page,
 * whose script (CSP `script-src 'self'`, no inline script) fetches the file and polls how many
 * messages have been written. Real instance process, real HTTPS and real chromium.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { startEngine, type Engine } from './helpers/engine.js';
import { WebClient, csrfOf } from './helpers/web-client.js';
import { listenTestWebAccess, type TestWebAccess } from './helpers/web-access-server.js';
import type { InstanceClient } from '../src/instance/client.js';
import { DEFAULT_EXPORT_PROGRESS_FROM_MESSAGES } from '../src/cas/web/routes/export.js';

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const LARGE = 300;
/** Bytes of text per message: LARGE of them (30 MB) are far more than socket and stream buffers hold. */
const BODY_BYTES = 100_000;

function message(i: number): Buffer {
  const line = `Line ${i} of a long report that nobody will read to the end, kept for the archive.\r\n`;
  return Buffer.from(`From: Report ${i} <r${i}@example.com>\r\nSubject: Report ${i}\r\nDate: ${new Date(Date.UTC(2022, 0, 1) + i * 3_600_000).toUTCString()}\r\n\r\n${line.repeat(Math.ceil(BODY_BYTES / line.length))}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('progress of large exports', () => {
  let engine: Engine;
  let acme: InstanceClient;
  let web: TestWebAccess;
  let server: TestWebAccess['server'];
  let ca: string;
  let browser: Browser;
  let largeId = 0;
  let smallId = 0;
  const audits: { action: string; details: Record<string, unknown> }[] = [];

  beforeAll(async () => {
    engine = await startEngine();
    acme = await engine.startInstance('acme');
    await acme.management('CreateUser', { userName: 'jane', privileges: 'login,export', password: 'pw-jane-123' });
    for (let i = 0; i < LARGE; i += 50) await acme.ingest('jane', Array.from({ length: 50 }, (_, k) => ({ name: `m${i + k}`, folder: 'Large', raw: message(i + k) })));
    await acme.ingest('jane', Array.from({ length: 5 }, (_, k) => ({ name: `s${k}`, folder: 'Small', raw: message(1000 + k) })));
    const j = await acme.authenticate({ user: 'jane', password: 'pw-jane-123', channel: 'web' });
    if (!j.ok) throw new Error(j.message);
    const folders = await acme.listFolders({ session: j.session });
    largeId = folders.find((f) => f.path === 'jane/Large')!.id;
    smallId = folders.find((f) => f.path === 'jane/Small')!.id;
    web = await listenTestWebAccess(acme, { audit: (_i, _s, action, details) => { audits.push({ action, details }); } });
    server = web.server;
    ca = web.ca;
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await engine?.close();
  });

  async function signedIn(): Promise<{ c: WebClient; csrf: string }> {
    const c = new WebClient(server.port, ca);
    expect((await c.login('/acme', 'jane', 'pw-jane-123')).status).toBe(303);
    return { c, csrf: csrfOf((await c.get('/acme/folders')).text) };
  }

  it('sends a small export at once, as before', async () => {
    expect(LARGE).toBeGreaterThan(DEFAULT_EXPORT_PROGRESS_FROM_MESSAGES);
    const { c, csrf } = await signedIn();
    const r = await c.post('/acme/export', { _csrf: csrf, format: 'zip', scope: 'folder', folderId: String(smallId) });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/zip');
    expect(r.body.readUInt16LE(r.body.length - 22 + 10)).toBe(5); // entries in the end-of-central-directory record
  });

  it('reports the percentage of messages written while the ZIP streams, then 100 % with the count', async () => {
    const { c, csrf } = await signedIn();
    const started = await c.post('/acme/export', { _csrf: csrf, format: 'zip', scope: 'folder', folderId: String(largeId) });
    expect(started.status).toBe(303);
    const pageUrl = String(started.headers.location);
    expect(pageUrl).toMatch(new RegExp(`^/acme/export/[A-Za-z0-9_-]{24}\\?folderId=${largeId}$`));
    const page = await c.get(pageUrl);
    expect(page.status).toBe(200);
    expect(page.text).toContain('<progress max="100" value="0"');
    expect(page.text).not.toMatch(/<script(?![^>]*src="\/static\/app\.js)/);
    const id = /\/export\/([A-Za-z0-9_-]{24})/.exec(pageUrl)![1]!;
    const status = async () => JSON.parse((await c.get(`/acme/export/${id}/status`)).text) as { state: string; done: number; total: number; percent: number; text: string };
    expect(await status()).toMatchObject({ state: 'waiting', done: 0, total: LARGE, percent: 0 });

    // Another login (even of the same user) does not see the job.
    const other = await signedIn();
    expect((await other.c.get(`/acme/export/${id}/status`)).status).toBe(404);
    expect((await other.c.get(`/acme/export/${id}/download`)).status).toBe(404);

    // Fetch the file, read a little, stop reading: the writer waits (backpressure) part way through.
    const cookie = [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const chunks: Buffer[] = [];
    const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      https.get({ host: '127.0.0.1', port: server.port, path: `/acme/export/${id}/download`, ca, servername: 'localhost', headers: { cookie } }, resolve).on('error', reject);
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="export-\d{4}-\d{2}-\d{2}\.zip"/);
    res.pause();
    try {
      // Loopback buffers grow for a while; then the writer waits for the reader and the count holds still.
      let mid = await status();
      for (let i = 0, still = 0; i < 100 && still < 5; i++) {
        await sleep(100);
        const s = await status();
        still = s.done === mid.done && s.done > 0 ? still + 1 : 0;
        mid = s;
      }
      expect(mid.state).toBe('running');
      expect(mid.percent).toBeGreaterThan(0);
      expect(mid.percent).toBeLessThan(100);
      expect(mid.done).toBeLessThan(LARGE);
      expect(mid.text).toBe(`${mid.percent} % — ${mid.done} of ${LARGE} messages exported`);
      res.on('data', (d: Buffer) => chunks.push(d));
      res.resume();
      await new Promise((r) => res.on('end', r));
    } finally {
      if (!res.complete) res.destroy();
    }
    const zip = Buffer.concat(chunks);
    expect(zip.readUInt16LE(zip.length - 22 + 10)).toBe(LARGE);
    let end = await status();
    for (let i = 0; i < 40 && end.state !== 'done'; i++) { await sleep(50); end = await status(); }
    expect(end).toMatchObject({ state: 'done', done: LARGE, total: LARGE, percent: 100, text: `Finished: ${LARGE} messages exported.` });
    expect(audits.some((a) => a.action === 'MessageExport' && a.details.messages === LARGE)).toBe(true);
    // The file is streamed once.
    expect((await c.get(`/acme/export/${id}/download`)).status).toBe(409);
  });

  it('keeps at most two exports of a login open and refuses a third with a clear page', async () => {
    const { c, csrf } = await signedIn();
    for (let i = 0; i < 2; i++) expect((await c.post('/acme/export', { _csrf: csrf, format: 'mbox', scope: 'folder', folderId: String(largeId) })).status).toBe(303);
    const third = await c.post('/acme/export', { _csrf: csrf, format: 'mbox', scope: 'folder', folderId: String(largeId) });
    expect(third.status).toBe(429);
    expect(third.text).toContain('You already have 2 exports running');
  });

  it('does not let a download that stopped reading hold the server\'s shutdown open', async () => {
    const second = await listenTestWebAccess(acme);
    const c = new WebClient(second.server.port, second.ca);
    expect((await c.login('/acme', 'jane', 'pw-jane-123')).status).toBe(303);
    const started = await c.post('/acme/export', { _csrf: csrfOf((await c.get('/acme/folders')).text), format: 'mbox', scope: 'folder', folderId: String(largeId) });
    const id = /\/export\/([A-Za-z0-9_-]{24})/.exec(String(started.headers.location))![1]!;
    const cookie = [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      https.get({ host: '127.0.0.1', port: second.server.port, path: `/acme/export/${id}/download`, ca: second.ca, servername: 'localhost', headers: { cookie } }, resolve).on('error', reject);
    });
    res.pause();
    await sleep(500);
    const closed = await Promise.race([second.server.close().then(() => 'closed'), sleep(10_000).then(() => 'still open')]);
    expect(closed).toBe('closed');
    // What had been sent can still be read; the file was cut short, not completed.
    const ended = new Promise((r) => { res.on('close', r); res.on('error', r); });
    res.resume();
    await ended;
    expect(res.complete).toBe(false);
    res.destroy();
    await second.close();
  });

  it('in chromium: the progress page downloads the MBOX and counts up to 100 % under the app\'s CSP', async () => {
    const ctx = await browser.newContext({ ignoreHTTPSErrors: true, acceptDownloads: true, locale: 'en-US' });
    const page = await ctx.newPage();
    const cspErrors: string[] = [];
    page.on('console', (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) cspErrors.push(m.text()); });
    // A slow line, so the page polls while the download runs.
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: 4 * 1024 * 1024, uploadThroughput: -1 });
    await page.goto(`https://127.0.0.1:${server.port}/acme/`);
    await page.fill('#user', 'jane');
    await page.click('button[type=submit].primary');
    await page.fill('#password', 'pw-jane-123');
    await page.click('button[type=submit].primary');
    await page.waitForURL(/\/acme\/folders$/);
    await page.goto(`https://127.0.0.1:${server.port}/acme/folder/${largeId}`);
    await page.selectOption('select[name=format]', 'mbox');
    const seen: number[] = [];
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 30_000 }),
      page.click('button[name=scope][value=folder]'),
    ]);
    expect(page.url()).toMatch(/\/acme\/export\/[A-Za-z0-9_-]{24}\?folderId=\d+$/);
    const bar = page.locator('[data-testid=export-progress]');
    for (let i = 0; i < 400; i++) {
      const v = Number(await bar.getAttribute('value').catch(() => '0'));
      if (!seen.includes(v)) seen.push(v);
      if (v === 100) break;
      await sleep(50);
    }
    await expect(page.locator('[data-testid=export-text]').textContent()).resolves.toBe(`Finished: ${LARGE} messages exported.`);
    expect(seen.some((v) => v > 0 && v < 100)).toBe(true);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen); // it only counts up
    const file = readFileSync((await download.path())!);
    expect(file.toString('latin1').match(/^From /gm)?.length).toBe(LARGE);
    expect(cspErrors).toEqual([]);
    await ctx.close();
  }, 90_000);
});
