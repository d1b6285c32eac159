/**
 * Web Access part of `npm run bench`: a real instance process behind a Web Access server over
 * TLS on 127.0.0.1, measured as a browser meets it (one keep-alive TLS connection, session
 * cookie). Figures, each beside its target:
 *   - time to first byte (p50/p95) of the folder list and of a BENCH_WEB_MESSAGES-message
 *     folder's first page (default 100,000, all in one folder), also deep keyset pages and the
 *     sender/subject/size orders;
 *   - search p95 for typical queries at the size generated here; at 1,000,000 messages only when
 *     the engine part kept its million-message instance (BENCH_DIR set and BENCH_MILLION > 0),
 *     otherwise that figure is not claimed;
 *   - JS + CSS bytes of the first view as sent (with the compression the server uses), target < 150 KB.
 * Environment: BENCH_WEB_MESSAGES (default 100,000; generated small messages), BENCH_WEB_ROUNDS
 * (requests per figure, default 40), BENCH_DIR, BENCH_KEEP=1. `BENCH_WEB=0` skips this part.
 */
import https from 'node:https';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../common/logger.js';
import { generateSelfSigned, loadOrCreateRoleCertificate } from '../common/certs.js';
import { InstanceSupervisor } from '../instance-host/supervisor.js';
import { createInstanceHostServer } from '../instance-host/server.js';
import { InstanceClient } from '../instance/client.js';
import { BrandingStore, defaultSampleDir } from '../cas/web/branding.js';
import { listenWebAccess } from '../cas/web/app.js';
import { generateMessage } from './generate.js';

const env = (k: string, d: number) => (process.env[k] !== undefined ? Number(process.env[k]) : d);
const pct = (list: number[], p: number) => { const s = [...list].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN; };
/** Typical queries, as the engine part asks them (src/bench/run.ts). */
const QUERIES = ['invoice', 'Rechnung', 'budget meeting', 'anna.muller', 'deliv*', 'Konferenz Protokoll', 'contract', 'réunion', '予算', 'quarterly report'];

interface Row { what: string; value: string; target: string; met: boolean | null }
const rows: Row[] = [];
function report(what: string, value: string, target: string, met: boolean | null): void {
  rows.push({ what, value, target, met });
  console.log(`  ${what.padEnd(62)} ${value.padStart(16)}   target ${target}${met === null ? '' : met ? '  (met)' : '  (NOT met)'}`);
}

interface Response { status: number; ttfbMs: number; wireBytes: number; text: string; headers: Record<string, string | string[] | undefined> }

/** A browser-like HTTPS client: one kept-alive connection, a cookie jar, bodies counted as received. */
class Browserish {
  private cookies = new Map<string, string>();
  private agent: https.Agent;
  constructor(private port: number, private ca: string) { this.agent = new https.Agent({ keepAlive: true, maxSockets: 1 }); }
  close(): void { this.agent.destroy(); }
  request(method: 'GET' | 'POST', p: string, form?: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
    const body = form ? new URLSearchParams(form).toString() : undefined;
    return new Promise((resolve, reject) => {
      const t0 = process.hrtime.bigint();
      const req = https.request({
        host: '127.0.0.1', port: this.port, path: p, method, ca: this.ca, servername: 'localhost', agent: this.agent,
        headers: {
          'user-agent': 'coffer-bench', ...headers,
          ...(this.cookies.size ? { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {}),
          ...(body ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)) } : {}),
        },
      }, (res) => {
        const ttfbMs = Number(process.hrtime.bigint() - t0) / 1e6;
        for (const line of ([] as string[]).concat(res.headers['set-cookie'] ?? [])) {
          const pair = line.split(';')[0]!;
          const i = pair.indexOf('=');
          this.cookies.set(pair.slice(0, i), pair.slice(i + 1));
        }
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => { const b = Buffer.concat(chunks); resolve({ status: res.statusCode!, ttfbMs, wireBytes: b.length, text: b.toString('utf8'), headers: res.headers }); });
      });
      req.on('error', reject);
      req.end(body);
    });
  }
  async get(p: string, headers?: Record<string, string>): Promise<Response> {
    const r = await this.request('GET', p, undefined, headers);
    if (r.status !== 200) throw new Error(`GET ${p}: HTTP ${r.status}`);
    return r;
  }
  async login(base: string, user: string, password: string): Promise<void> {
    const csrf = (h: string) => /name="_csrf" value="([^"]+)"/.exec(h)?.[1] ?? '';
    const p1 = await this.get(`${base}/login`);
    await this.request('POST', `${base}/login`, { _csrf: csrf(p1.text), user });
    const p2 = await this.get(`${base}/login`);
    const r = await this.request('POST', `${base}/login/password`, { _csrf: csrf(p2.text), password });
    if (r.status !== 303 || !String(r.headers.location).endsWith('/folders')) throw new Error(`login to ${base} failed: HTTP ${r.status}`);
  }
}

const nextHref = (html: string) => /href="([^"]+)" rel="next"/.exec(html)?.[1]?.replace(/&amp;/g, '&') ?? null;

/** TTFB of `url` over `rounds` requests (after one warm-up), p50 and p95. */
async function ttfb(b: Browserish, url: string, rounds: number): Promise<{ p50: number; p95: number }> {
  await b.get(url);
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) times.push((await b.get(url)).ttfbMs);
  return { p50: pct(times, 50), p95: pct(times, 95) };
}

const fmt = (x: { p50: number; p95: number }) => `${x.p50.toFixed(1)} / ${x.p95.toFixed(1)}`;

export async function runWebBench(): Promise<void> {
  const n = env('BENCH_WEB_MESSAGES', 100_000);
  const rounds = env('BENCH_WEB_ROUNDS', 40);
  if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_WEB_MESSAGES must be a positive integer, got ${process.env.BENCH_WEB_MESSAGES}`);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`BENCH_WEB_ROUNDS must be a positive integer, got ${process.env.BENCH_WEB_ROUNDS}`);
  // Instance processes log at warn here, as in the engine part's output (a line per start is noise).
  process.env.COFFER_LOG_LEVEL ??= 'warn';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'coffer-bench-web-'));
  const log = createLogger('warn');
  const identity = loadOrCreateRoleCertificate(path.join(dir, 'certs'), 'instance-host');
  const supervisor = new InstanceSupervisor(log);
  const host = createInstanceHostServer({ supervisor, certificate: () => identity, pinned: () => new Set([identity.thumbprint]), log, instancesDir: path.join(dir, 'instances') });
  await new Promise<void>((r) => host.listen(0, '127.0.0.1', r));
  const address = { host: '127.0.0.1', port: (host.address() as { port: number }).port, thumbprint: identity.thumbprint };
  const clients = new Map<string, InstanceClient>();
  const start = async (id: string, baseDir: string) => {
    supervisor.define({ instanceId: id, baseDir, startMode: 'manual' });
    await supervisor.start(id);
    const c = await InstanceClient.connect(id, address, identity);
    clients.set(id, c);
    return c;
  };

  console.log(`\nWeb Access — ${n.toLocaleString('en')} small generated messages in one folder, HTTPS on 127.0.0.1 (one keep-alive connection), ${os.cpus().length} cores`);
  const web = await start('web', path.join(dir, 'instances', 'web'));
  await web.management('CreateUser', { userName: 'bench', privileges: 'login,export', password: 'bench-pw' });
  const t = Date.now();
  let inFlight: Promise<unknown> | null = null;
  for (let i = 0; i < n; i += 1000) {
    const batch = Array.from({ length: Math.min(1000, n - i) }, (_, j) => ({ name: `w-${i + j}`, folder: 'Big', raw: generateMessage(3, i + j, { attachments: false }).raw }));
    if (inFlight) await inFlight;
    inFlight = web.ingest('bench', batch);
    if (i % 20_000 === 0 && i > 0) process.stderr.write(`  web: ingested ${i} messages (${(i / ((Date.now() - t) / 1000)).toFixed(0)}/s)\n`);
  }
  if (inFlight) await inFlight;
  process.stderr.write(`  web: ${n} messages ingested in ${((Date.now() - t) / 1000).toFixed(0)} s\n`);

  // The engine part's million-message instance, when it was kept (BENCH_DIR): searched through the web too.
  const millionDir = process.env.BENCH_DIR ? path.join(path.resolve(process.env.BENCH_DIR), 'instances', 'million') : null;
  const hasMillion = !!millionDir && env('BENCH_MILLION', 1_000_000) > 0 && existsSync(path.join(millionDir, 'instance.db'));
  if (hasMillion) await start('million', millionDir!);

  const cert = generateSelfSigned('localhost');
  const server = await listenWebAccess({
    resolveInstance: async (name) => {
      const c = clients.get(name);
      return c ? { ok: true, instanceId: name, client: c } : { ok: false, reason: 'unknown', message: 'unknown instance' };
    },
    branding: new BrandingStore({ dir: path.join(dir, 'branding'), sampleDir: defaultSampleDir(), log }),
    cookieSecret: 'bench-cookie-secret-0123456789abcdefghijkl', logger: log,
    // Audit entries would go to the instance; here they are not part of what is measured.
    audit: () => {},
  }, { port: 0, host: '127.0.0.1', tls: { key: cert.keyPem, cert: cert.certPem } });

  try {
    // First view: what a new visitor's browser fetches for the login page, then for the archive.
    const fresh = new Browserish(server.port, cert.certPem);
    const acceptEncoding = { 'accept-encoding': 'gzip, deflate, br' };
    const assetBytes = async (pagePath: string) => {
      const page = await fresh.get(pagePath, acceptEncoding);
      const urls = [...page.text.matchAll(/<(?:link rel="stylesheet" href|script src)="([^"]+)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));
      let bytes = 0;
      const parts: string[] = [];
      for (const u of urls) {
        const r = await fresh.get(u, acceptEncoding);
        bytes += r.wireBytes;
        parts.push(`${u.split('?')[0]} ${r.wireBytes} B${r.headers['content-encoding'] ? ` ${r.headers['content-encoding']}` : ''}`);
      }
      return { bytes, parts };
    };
    const loginView = await assetBytes('/web/login');
    await fresh.login('/web', 'bench', 'bench-pw');
    const archiveView = await assetBytes('/web/folders');
    fresh.close();
    console.log(`  first view assets: ${archiveView.parts.join(', ')}`);
    const firstView = Math.max(loginView.bytes, archiveView.bytes);
    report('JS + CSS of the first view, as sent (KB)', (firstView / 1024).toFixed(1), '< 150 KB', firstView < 150 * 1024);

    const b = new Browserish(server.port, cert.certPem);
    await b.login('/web', 'bench', 'bench-pw');
    const tree = await b.get('/web/folders');
    const bigId = /data-folder-id="(\d+)"><span class="fname">Big</.exec(tree.text)?.[1];
    if (!bigId) throw new Error('the generated folder is not in the folder list');
    const count = /data-count="(\d+)"/.exec((await b.get(`/web/folder/${bigId}`)).text)?.[1];
    console.log(`  folder "Big": ${Number(count).toLocaleString('en')} messages; TTFB p50 / p95 in ms over ${rounds} requests each`);

    const folders = await ttfb(b, '/web/folders', rounds);
    report('TTFB folder list, p50 / p95 (ms)', fmt(folders), 'p95 ≤ 100 ms', folders.p95 <= 100);
    const first = await ttfb(b, `/web/folder/${bigId}`, rounds);
    report(`TTFB first page of the ${Number(count).toLocaleString('en')}-message folder, p50 / p95 (ms)`, fmt(first), 'p95 ≤ 200 ms', first.p95 <= 200);
    // Deep pages: follow the keyset links 40 pages in (2,000 messages), then time that page.
    for (const [label, startUrl] of [['date', `/web/folder/${bigId}`], ['subject A–Z', `/web/folder/${bigId}?sort=subject`], ['size, largest first', `/web/folder/${bigId}?sort=size`], ['sender Z–A', `/web/folder/${bigId}?sort=from&dir=desc`]] as const) {
      if (label !== 'date') {
        const f = await ttfb(b, startUrl, rounds);
        report(`TTFB first page by ${label}, p50 / p95 (ms)`, fmt(f), 'p95 ≤ 200 ms', f.p95 <= 200);
      }
      let url: string | null = startUrl;
      for (let i = 0; i < 40 && url; i++) url = nextHref((await b.get(url)).text);
      if (url) {
        const deep = await ttfb(b, url, rounds);
        report(`TTFB page 41 by ${label} (keyset), p50 / p95 (ms)`, fmt(deep), 'p95 ≤ 200 ms', deep.p95 <= 200);
      }
    }

    const searchTimes = async (client: Browserish, base: string) => {
      const times: number[] = [];
      for (const q of QUERIES) await client.get(`${base}/search?q=${encodeURIComponent(q)}`); // warm-up
      for (let round = 0; round < 3; round++) for (const q of QUERIES) times.push((await client.get(`${base}/search?q=${encodeURIComponent(q)}`)).ttfbMs);
      return { p50: pct(times, 50), p95: pct(times, 95) };
    };
    const s = await searchTimes(b, '/web');
    report(`TTFB search page at ${n.toLocaleString('en')} messages, p50 / p95 (ms)`, fmt(s), 'p95 ≤ 200 ms', s.p95 <= 200);
    if (hasMillion) {
      const m = new Browserish(server.port, cert.certPem);
      await m.login('/million', 'bench', 'bench-pw');
      const stats = await clients.get('million')!.management<{ messageCount: number }>('GetInstanceStatistics', {});
      const ms = await searchTimes(m, '/million');
      m.close();
      report(`TTFB search page at ${stats.messageCount.toLocaleString('en')} messages, p50 / p95 (ms)`, fmt(ms), 'p95 ≤ 200 ms', ms.p95 <= 200);
    } else {
      console.log(`  search at 1,000,000 messages: not measured here (the engine part keeps its million-message instance only with BENCH_DIR set); the figure above is at ${n.toLocaleString('en')}`);
    }
    b.close();
  } finally {
    await server.close();
    for (const c of clients.values()) c.close();
    await supervisor.stopAll();
    await host.closeAll();
    if (!process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
    else console.log(`  kept ${dir}`);
  }
  console.log('\nWeb summary (JSON):');
  console.log(JSON.stringify({ messages: n, rows }));
}

// `node dist/bench/web.js` runs this part alone.
if (import.meta.url === `file://${process.argv[1]}`) runWebBench().catch((e) => { console.error(e); process.exit(1); });
