/**
 * The CAS for the IMAP bench in its own process (so its memory can be measured alone): an
 * ImapServer on a free TLS port of 127.0.0.1 over one InstanceClient to the bench's Instance Host.
 * Started by src/bench/imap.ts with fork(); environment BENCH_IMAP_CHILD =
 * JSON { dir, host, port, thumbprint, instanceId, keyFile, certFile }.
 * IPC: sends { ready, tlsPort }; answers { rss } to 'rss' (after a GC when --expose-gc is on).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createLogger } from '../common/logger.js';
import { loadOrCreateRoleCertificate } from '../common/certs.js';
import { InstanceClient } from '../instance/client.js';
import { ImapServer } from '../cas/imap/server.js';

async function main(): Promise<void> {
  const cfg = JSON.parse(process.env.BENCH_IMAP_CHILD ?? '{}') as { dir: string; host: string; port: number; thumbprint: string; instanceId: string; keyFile: string; certFile: string };
  const identity = loadOrCreateRoleCertificate(path.join(cfg.dir, 'certs'), 'instance-host');
  const client = await InstanceClient.connect(cfg.instanceId, { host: cfg.host, port: cfg.port, thumbprint: cfg.thumbprint }, identity);
  const key = readFileSync(cfg.keyFile, 'utf8');
  const cert = readFileSync(cfg.certFile, 'utf8');
  const server = new ImapServer({
    resolveInstance: async (id) => (id.toLowerCase() === cfg.instanceId ? { ok: true, instanceId: cfg.instanceId, client } : { ok: false, reason: 'unknown', message: 'unknown instance' }),
    tls: () => ({ key, cert }),
    productName: () => 'Coffer',
    log: createLogger('error'),
    host: '127.0.0.1',
    plainPort: null,
    tlsPort: 0,
    limits: { maxConnectionsPerAddress: 5000 },
  });
  const ports = await server.listen();
  process.on('message', (m: unknown) => {
    if (m === 'rss') {
      const g = (globalThis as { gc?: () => void }).gc;
      if (g) { g(); g(); }
      process.send!({ rss: process.memoryUsage().rss });
    } else if (m === 'stop') {
      void server.close().finally(() => { client.close(); process.exit(0); });
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ ready: true, tlsPort: ports.tlsPort });
}

main().catch((e) => { console.error(e); process.exit(1); });
