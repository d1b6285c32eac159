/**
 * `npm run bench`: archive engine figures on this machine, beside their targets.
 *   - ingest messages/s and bytes stored / bytes raw (index included) for the ordinary corpus and
 *     for BENCH_MESSAGES generated messages (default 100,000, 75 KB mean, realistic MIME mix);
 *   - search latency p50/p95 for typical queries at that size and at BENCH_MILLION small
 *     messages (default 1,000,000; 0 skips), against a full scan of the same folder as reference.
 * Environment: BENCH_DIR (work folder, default a temp dir), BENCH_MESSAGES, BENCH_MILLION, BENCH_KEEP=1.
 */
import { mkdirSync, mkdtempSync, rmSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../common/logger.js';
import { loadOrCreateRoleCertificate } from '../common/certs.js';
import { InstanceSupervisor } from '../instance-host/supervisor.js';
import { createInstanceHostServer } from '../instance-host/server.js';
import { InstanceClient } from '../instance/client.js';
import { generateMessage } from './generate.js';
import type { SearchCriterion } from '../instance/api.js';

const CORPUS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/corpus');
const env = (k: string, d: number) => (process.env[k] !== undefined ? Number(process.env[k]) : d);

interface Row { what: string; value: string; target: string; reference?: string }
const rows: Row[] = [];
const report = (r: Row) => { rows.push(r); console.log(`  ${r.what.padEnd(58)} ${r.value.padStart(14)}   target ${r.target}${r.reference ? `   reference ${r.reference}` : ''}`); };

/**
 * CPU seconds used so far by this process and by an instance process (Linux /proc): on a shared
 * machine the wall-clock rate moves with other load, CPU per message much less.
 */
function cpuSeconds(pid: number | null): { bench: number; instance: number; mainThread: number } {
  const u = process.cpuUsage();
  const ticks = (stat: string) => { const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); return (Number(f[11]) + Number(f[12])) / 100; }; // utime + stime (USER_HZ 100)
  let instance = NaN, mainThread = NaN;
  try {
    instance = ticks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    mainThread = ticks(readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8'));
  } catch { /* not Linux, or the process is gone */ }
  return { bench: (u.user + u.system) / 1e6, instance, mainThread };
}

function cpuLine(label: string, before: ReturnType<typeof cpuSeconds>, pid: number | null, n: number, secs: number): void {
  const after = cpuSeconds(pid);
  const inst = after.instance - before.instance, bench = after.bench - before.bench, main = after.mainThread - before.mainThread;
  console.log(`  ${label}: ${secs.toFixed(1)} s wall; CPU ${inst.toFixed(1)} s instance (main thread ${main.toFixed(1)} s) + ${bench.toFixed(1)} s bench (reading or generating, sending) = ${((inst + bench) / n * 1000).toFixed(2)} ms per message`);
}

/**
 * Sends ingest batches as a pipelined importer does: up to two in flight, so the instance prepares
 * one while it writes the other, and the next is read or generated meanwhile.
 */
class BatchSender {
  private flying: Promise<unknown>[] = [];
  constructor(private c: InstanceClient, private depth = 2) {}
  async send(batch: { name: string; folder: string; raw: Buffer }[]): Promise<void> {
    while (this.flying.length >= this.depth) await this.flying.shift();
    this.flying.push(this.c.ingest('bench', batch));
  }
  async drain(): Promise<void> { await Promise.all(this.flying.splice(0)); }
}

/**
 * Lets sockets move while batches are read or generated: the Instance Host's relay and TLS run
 * in this process, and a batch sent stays in its buffers until the event loop turns.
 */
const yieldToIo = () => new Promise<void>((r) => setImmediate(r));

function pct(list: number[], p: number): number {
  const s = [...list].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function main(): Promise<void> {
  const dir = process.env.BENCH_DIR ? path.resolve(process.env.BENCH_DIR) : mkdtempSync(path.join(os.tmpdir(), 'coffer-bench-'));
  const log = createLogger('warn');
  const identity = loadOrCreateRoleCertificate(path.join(dir, 'certs'), 'instance-host');
  const supervisor = new InstanceSupervisor(log);
  const server = createInstanceHostServer({ supervisor, certificate: () => identity, pinned: () => new Set([identity.thumbprint]), log, instancesDir: path.join(dir, 'instances') });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = { host: '127.0.0.1', port: (server.address() as { port: number }).port, thumbprint: identity.thumbprint };
  const open = async (id: string) => {
    supervisor.define({ instanceId: id, baseDir: path.join(dir, 'instances', id), startMode: 'manual' });
    await supervisor.start(id);
    const c = await InstanceClient.connect(id, address, identity);
    await c.management('CreateUser', { userName: 'bench', privileges: 'login', password: 'bench-pw' });
    return c;
  };
  const storedBytes = async (c: InstanceClient) => {
    await new Promise((r) => setTimeout(r, 1500)); // idle checkpoint folds WAL files back
    return (await c.management<{ size: number }[]>('GetStores', {})).reduce((n, s) => n + (s.size ?? 0), 0);
  };
  console.log(`Coffer archive engine benchmark — ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, work folder ${dir}\n`);

  // 1. The ordinary corpus.
  {
    const c = await open('corpus');
    const files: string[] = [];
    const walk = (d: string) => { for (const n of readdirSync(d, { withFileTypes: true })) { if (n.isDirectory()) { if (!n.name.startsWith('_')) walk(path.join(d, n.name)); } else if (n.name.endsWith('.eml')) files.push(path.join(d, n.name)); } };
    // The whole corpus, as the storage target is stated; the ordinary part alone is printed too.
    walk(path.join(CORPUS, 'ordinary'));
    const ordinaryCount = files.length;
    walk(path.join(CORPUS, 'fixtures'));
    const raw = files.reduce((n, f) => n + statSync(f).size, 0);
    const ordinaryRaw = files.slice(0, ordinaryCount).reduce((n, f) => n + statSync(f).size, 0);
    const pid = supervisor.get('corpus')?.pid ?? null;
    const cpu0 = cpuSeconds(pid);
    const t = Date.now();
    const sender = new BatchSender(c);
    for (let i = 0; i < files.length; i += 1000) {
      const batch: { name: string; folder: string; raw: Buffer }[] = [];
      for (const f of files.slice(i, i + 1000)) {
        batch.push({ name: f, folder: 'corpus', raw: readFileSync(f) });
        if (batch.length % 50 === 0) await yieldToIo();
      }
      await sender.send(batch);
    }
    await sender.drain();
    const secs = (Date.now() - t) / 1000;
    console.log(`corpus: ${files.length} messages, ${(raw / 2 ** 20).toFixed(1)} MB (ordinary mail ${ordinaryCount} messages, ${(ordinaryRaw / 2 ** 20).toFixed(1)} MB)`);
    report({ what: 'corpus ingest (messages/s)', value: (files.length / secs).toFixed(0), target: '≥ 1000' });
    cpuLine('corpus ingest', cpu0, pid, files.length, secs);
    report({ what: 'corpus stored / raw, index included', value: `${((await storedBytes(c)) / raw * 100).toFixed(1)} %`, target: '≤ 60 %' });
    c.close();
    await supervisor.stop('corpus');
  }

  // 2. Generated mail at 75 KB mean, then search at that size. The messages are written to files
  // first and ingested from there, as `coffer import` reads a directory: generating them costs
  // about half a millisecond of CPU each, which would otherwise compete with the instance on two
  // cores and be counted as ingest.
  const n = env('BENCH_MESSAGES', 100_000);
  if (n > 0) {
    const sourceDir = path.join(dir, 'generated-eml');
    const tg = Date.now();
    let raw = 0;
    for (let i = 0; i < n; i++) {
      if (i % 1000 === 0) mkdirSync(path.join(sourceDir, String(i / 1000)), { recursive: true });
      const m = generateMessage(1, i);
      raw += m.raw.length;
      writeFileSync(path.join(sourceDir, String(Math.floor(i / 1000)), `${i}.eml`), m.raw);
    }
    // The files an import reads are at rest: without this the kernel is still writing gigabytes of
    // them back to disk while the timed ingest runs, and every fsync of the archive waits behind it.
    const ts = Date.now();
    try { execFileSync('sync'); } catch { /* no sync(1): measured as it is */ }
    console.log(`generated: ${n} messages, ${(raw / 2 ** 20).toFixed(0)} MB (mean ${(raw / n / 1024).toFixed(1)} KB), written to files in ${((ts - tg) / 1000).toFixed(1)} s, synced in ${((Date.now() - ts) / 1000).toFixed(1)} s`);
    const c = await open('gen');
    const pid = supervisor.get('gen')?.pid ?? null;
    const cpu0 = cpuSeconds(pid);
    const t = Date.now();
    let batch: { name: string; folder: string; raw: Buffer }[] = [];
    let batchBytes = 0;
    const sender = new BatchSender(c);
    for (let i = 0; i < n; i++) {
      const data = readFileSync(path.join(sourceDir, String(Math.floor(i / 1000)), `${i}.eml`));
      batch.push({ name: `gen-${i}`, folder: `Inbox/${i % 10}`, raw: data });
      batchBytes += data.length;
      if (batch.length >= 500 || batchBytes > 32 * 2 ** 20) {
        await sender.send(batch);
        batch = []; batchBytes = 0;
      } else if (batch.length % 16 === 0) await yieldToIo();
      if (i % 10_000 === 9_999) process.stderr.write(`  ingested ${i + 1} (${((i + 1) / ((Date.now() - t) / 1000)).toFixed(0)}/s)\n`);
    }
    if (batch.length) await sender.send(batch);
    await sender.drain();
    const secs = (Date.now() - t) / 1000;
    rmSync(sourceDir, { recursive: true, force: true });
    report({ what: `generated ingest from files (messages/s)`, value: (n / secs).toFixed(0), target: '≥ 1000' });
    cpuLine('generated ingest', cpu0, pid, n, secs);
    report({ what: 'generated stored / raw, index included', value: `${((await storedBytes(c)) / raw * 100).toFixed(1)} %`, target: '≤ 60 %' });
    await searchFigures(c, `${n.toLocaleString('en')} messages`);
    c.close();
    await supervisor.stop('gen');
  }

  // 3. A million small messages for search at scale.
  const million = env('BENCH_MILLION', 1_000_000);
  if (million > 0) {
    const c = await open('million');
    const t = Date.now();
    let inFlight: Promise<unknown> | null = null;
    for (let i = 0; i < million; i += 1000) {
      const batch = Array.from({ length: Math.min(1000, million - i) }, (_, j) => ({ name: `m-${i + j}`, folder: `Inbox/${(i + j) % 10}`, raw: generateMessage(2, i + j, { attachments: false }).raw }));
      if (inFlight) await inFlight;
      inFlight = c.ingest('bench', batch);
      if (i % 50_000 === 0 && i > 0) process.stderr.write(`  ingested ${i} small messages (${(i / ((Date.now() - t) / 1000)).toFixed(0)}/s)\n`);
    }
    if (inFlight) await inFlight;
    report({ what: 'small-message ingest (messages/s)', value: (million / ((Date.now() - t) / 1000)).toFixed(0), target: '≥ 1000' });
    await searchFigures(c, `${million.toLocaleString('en')} messages`);
    c.close();
    await supervisor.stop('million');
  }

  await supervisor.stopAll();
  await server.closeAll();
  if (!process.env.BENCH_KEEP && !process.env.BENCH_DIR) rmSync(dir, { recursive: true, force: true });
  console.log('\nsummary (JSON):');
  console.log(JSON.stringify(rows));
  if (process.env.BENCH_IMAP !== '0') await (await import('./imap.js')).runImapBench(); // IMAP: Coffer CAS vs Dovecot (src/bench/imap.ts)
  if (process.env.BENCH_WEB !== '0') await (await import('./web.js')).runWebBench(); // Web Access: TTFB, search, first-view bytes (src/bench/web.ts)
}

/** Typical queries: single words, two words, a sender, a prefix; web search and IMAP SEARCH in one folder. */
async function searchFigures(c: InstanceClient, label: string): Promise<void> {
  const auth = await c.authenticate({ user: 'bench', password: 'bench-pw', channel: 'web' });
  if (!auth.ok) throw new Error(auth.message);
  const folders = await c.listFolders({ session: auth.session });
  const folder = folders.filter((f) => f.messages > 0).sort((a, b) => b.messages - a.messages)[0]!;
  const queries = ['invoice', 'Rechnung', 'budget meeting', 'anna.muller', 'deliv*', 'Konferenz Protokoll', 'contract', 'réunion', '予算', 'quarterly report'];
  const web: number[] = [];
  for (let round = 0; round < 3; round++) for (const q of queries) {
    const t = process.hrtime.bigint();
    await c.searchArchive({ session: auth.session, query: { text: q, limit: 50 } });
    web.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  report({ what: `web search at ${label}, p50 / p95 (ms)`, value: `${pct(web, 50).toFixed(1)} / ${pct(web, 95).toFixed(1)}`, target: 'p95 ≤ 100 ms' });
  const imap: number[] = [];
  const imapQueries: SearchCriterion[] = [{ key: 'body', value: 'invoice' }, { key: 'text', value: 'budget' }, { key: 'subject', value: 'meeting' }, { key: 'from', value: 'anna' }, { key: 'body', value: 'nvoic' }];
  for (const q of imapQueries) {
    const t = process.hrtime.bigint();
    await c.search({ session: auth.session, folderId: folder.id, criteria: q });
    imap.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  // Reference: the same folder scanned without the index (what an IMAP server without FTS does).
  const t = process.hrtime.bigint();
  // A needle without letters or digits gives the index nothing to narrow: every message is read.
  await c.search({ session: auth.session, folderId: folder.id, criteria: { key: 'body', value: '%%~%%' } });
  const scanMs = Number(process.hrtime.bigint() - t) / 1e6;
  report({ what: `IMAP SEARCH in a ${folder.messages}-message folder, p50 / max (ms)`, value: `${pct(imap, 50).toFixed(1)} / ${Math.max(...imap).toFixed(1)}`, target: 'fast', reference: `full scan ${scanMs.toFixed(0)} ms` });
}

main().catch((e) => { console.error(e); process.exit(1); });
