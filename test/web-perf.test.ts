/**
 * Web Access figures at scale (opt-in: COFFER_WEB_PERF=1, N=messages, default 100,000): time to
 * first byte of the folder list, of a big folder's first page and of keyset pages deep into it,
 * and of searches. Prints figures; asserts only that every page answers. Not part of `npm test`.
 */
import { describe, it } from 'vitest';
import { startEngine } from './helpers/engine.js';
import { generateSelfSigned } from '../src/common/certs.js';
import { createLogger } from '../src/common/logger.js';
import { BrandingStore, defaultSampleDir } from '../src/cas/web/branding.js';
import { listenWebAccess } from '../src/cas/web/app.js';
import https from 'node:https';
import os from 'node:os'; import path from 'node:path'; import { mkdtempSync } from 'node:fs';

describe.skipIf(!process.env.COFFER_WEB_PERF)('web access at scale', () => {
  it('prints time to first byte for big folders and searches', async () => {
    const N = Number(process.env.N ?? 100000);
    const engine = await startEngine();
    const acme = await engine.startInstance('acme');
    await acme.management('CreateUser', { userName: 'jane', privileges: 'login', password: 'pw' });
    let t = Date.now();
    for (let i = 0; i < N; i += 2000) {
      await acme.ingest('jane', Array.from({ length: Math.min(2000, N - i) }, (_, k) => { const n = i + k; return { name: `m${n}`, folder: 'Big', raw: Buffer.from(`From: Sender ${n % 97} <s${n % 97}@x.example>\r\nSubject: message ${n} about topic ${n % 13}\r\nDate: ${new Date(Date.UTC(2015, 0, 1) + n * 600_000).toUTCString()}\r\n\r\nbody ${n} word${n % 1000}\r\n`) }; }));
    }
    console.log('ingest', N, 'ms', Date.now() - t);
    const log = createLogger('silent');
    const branding = new BrandingStore({ dir: path.join(mkdtempSync(path.join(os.tmpdir(), 'perf-')), 'b'), sampleDir: defaultSampleDir(), log });
    const cert = generateSelfSigned('localhost');
    const s = await listenWebAccess({ resolveInstance: async () => ({ ok: true, instanceId: 'acme', client: acme }), branding, cookieSecret: 'x'.repeat(40), logger: log }, { port: 0, host: '127.0.0.1', tls: { key: cert.keyPem, cert: cert.certPem } });
    const cookies = new Map<string, string>();
    function req(method: string, p: string, form?: Record<string, string>): Promise<{ status: number; text: string; ttfbMs: number; totalMs: number; headers: any }> {
      const body = form ? new URLSearchParams(form).toString() : undefined;
      const t0 = performance.now();
      return new Promise((resolve, reject) => {
        const r = https.request({ host: '127.0.0.1', port: s.port, path: p, method, ca: cert.certPem, servername: 'localhost', headers: { ...(cookies.size ? { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {}), ...(body ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
          const ttfb = performance.now() - t0; const chunks: Buffer[] = [];
          for (const l of [].concat((res.headers['set-cookie'] as any) ?? [])) { const [pair] = (l as string).split(';'); const i = pair!.indexOf('='); cookies.set(pair!.slice(0, i), pair!.slice(i + 1)); }
          res.on('data', (c) => chunks.push(c)); res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString(), ttfbMs: ttfb, totalMs: performance.now() - t0, headers: res.headers }));
        }); r.on('error', reject); r.end(body);
      });
    }
    const csrf = (h: string) => /name="_csrf" value="([^"]+)"/.exec(h)![1]!;
    let p = await req('GET', '/acme/login'); await req('POST', '/acme/login', { _csrf: csrf(p.text), user: 'jane' });
    p = await req('GET', '/acme/login'); await req('POST', '/acme/login/password', { _csrf: csrf(p.text), password: 'pw' });
    const tree = await req('GET', '/acme/folders');
    const id = /data-folder-id="(\d+)"><span class="fname">Big/.exec(tree.text)![1];
    const pct = (a: number[], q: number) => a.sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(a.length * q))]!.toFixed(1);
    for (const [name, url] of [['folders', '/acme/folders'], ['first page (date)', `/acme/folder/${id}`], ['first page (archived)', `/acme/folder/${id}?sort=archived`], ['search word', '/acme/search?q=topic'], ['search wildcard', '/acme/search?q=word99*']] as const) {
      const ts: number[] = [];
      for (let i = 0; i < 15; i++) { const r = await req('GET', url); if (r.status !== 200) throw new Error(`${url} ${r.status}`); ts.push(r.ttfbMs); }
      console.log(name.padEnd(24), 'ttfb p50', pct(ts, 0.5), 'p95', pct(ts, 0.95), 'ms');
    }
    // deep page via keyset
    let url: string | null = `/acme/folder/${id}`; let pages = 0; const deep: number[] = [];
    while (url && pages < 40) { const r = await req('GET', url); deep.push(r.ttfbMs); pages++; const m = /href="([^"]+)" rel="next"/.exec(r.text); url = m ? m[1]!.replace(/&amp;/g, '&') : null; }
    console.log('keyset pages 1..40 ttfb p50', pct(deep, 0.5), 'max', Math.max(...deep).toFixed(1));
    await s.close(); await engine.close();

  }, 3_600_000);
});
