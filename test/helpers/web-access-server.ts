/**
 * Web Access over HTTPS on a free loopback port for one instance client (`acme`), with the
 * sample branding and a self-signed certificate: what Web Access tests over a real instance start from.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { InstanceClient } from '../../src/instance/client.js';
import { generateSelfSigned } from '../../src/common/certs.js';
import { createLogger } from '../../src/common/logger.js';
import { BrandingStore, defaultSampleDir } from '../../src/cas/web/branding.js';
import { listenWebAccess } from '../../src/cas/web/app.js';

type WebAccessOptions = Parameters<typeof listenWebAccess>[0];

export interface TestWebAccess {
  server: Awaited<ReturnType<typeof listenWebAccess>>;
  /** The certificate clients must trust. */
  ca: string;
  origin: string;
  close(): Promise<void>;
}

/** `extra`: further options of the web app (e.g. an `audit` sink). */
export async function listenTestWebAccess(acme: InstanceClient, extra: Partial<WebAccessOptions> = {}): Promise<TestWebAccess> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'coffer-web-'));
  const log = createLogger('silent');
  const cert = generateSelfSigned('localhost');
  const server = await listenWebAccess({
    resolveInstance: async (name) => (name === 'acme' ? { ok: true, instanceId: 'acme', client: acme } : { ok: false, reason: 'unknown', message: 'unknown' }),
    branding: new BrandingStore({ dir: path.join(dataDir, 'branding'), sampleDir: defaultSampleDir(), log }),
    cookieSecret: randomBytes(24).toString('hex'), logger: log,
    ...extra,
  } as WebAccessOptions, { port: 0, host: '127.0.0.1', tls: { key: cert.keyPem, cert: cert.certPem } });
  return {
    server, ca: cert.certPem, origin: `https://127.0.0.1:${server.port}`,
    /** Closes the server (unless a test already did) and removes its files. */
    async close() { await server.close().catch(() => {}); rmSync(dataDir, { recursive: true, force: true }); },
  };
}
