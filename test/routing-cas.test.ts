import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../src/common/logger.js';
import { loadConfig } from '../src/common/config.js';
import { connectPinned } from '../src/common/mtls.js';
import { RpcPeer } from '../src/common/rpc/peer.js';
import { generateSelfSigned, thumbprintOf } from '../src/common/certs.js';
import { ManagementApiClient } from '../src/management/client/api-client.js';
import { startCofferServer, type CofferServer } from '../src/server/coffer-server.js';
import type { BrandingReloadOutcome } from '../src/server/cas-role.js';
import { RoutingCache } from '../src/cas/routing/routing-cache.js';
import { RoutingClient } from '../src/cas/routing/routing-client.js';
import { createInstanceResolver } from '../src/cas/routing/instance-resolver.js';
import { ROUTING_RPC } from '../src/cas/routing/routing-wire.js';
import type { Envelope } from '../src/management/api/envelope.js';
import { randomPortOffset } from './helpers/ports.js';

const PASSWORD = 'routing-admin-password';
const silent = createLogger('silent');

async function eventually<T>(probe: () => T | Promise<T>, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('routing table for Client Access Servers', () => {
  let dataDir: string;
  let server: CofferServer;
  let api: ManagementApiClient;
  let hostName: string;
  let brandingOutcome: BrandingReloadOutcome = { ok: true };
  let brandingReloads = 0;
  const ok = (envelope: Envelope) => {
    if (envelope.statusCode !== 'succeeded') throw new Error(`${envelope.statusCode}: ${envelope.error?.message}`);
    return envelope.result as any;
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'coffer-routing-'));
    const config = loadConfig({ data: dataDir, 'port-offset': String(randomPortOffset()) }, {});
    server = await startCofferServer(config, {
      log: silent, productVersion: 'test', env: { COFFER_ADMIN_PASSWORD: PASSWORD },
      casServices: [async (ctx) => { ctx.onReloadBranding(() => { brandingReloads++; return brandingOutcome; }); return { close: async () => {} }; }],
    });
    api = new ManagementApiClient({ host: '127.0.0.1', port: server.management!.ports.api, user: 'admin', password: PASSWORD, thumbprint: server.thumbprints.management! });
    hostName = server.management!.serverName;
    ok(await api.invoke('CreateInstance', { config: { instanceID: 'acme', instanceHost: hostName, startMode: 'manual' } }));
    ok(await api.invoke('StartInstances', { instanceFilter: 'acme' }));
    ok(await api.invoke('CreateUser', { instanceID: 'acme', userName: 'jane', privileges: 'login', password: 'jane-secret' }));
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('pushes a routing change (an alias added) to the CAS, which keeps it on disk', async () => {
    const routing = server.routing!;
    await eventually(() => routing.lookup('acme')?.status === 'running');
    expect(routing.lookup('acme-corp')).toBeUndefined();
    const before = routing.version;
    ok(await api.invoke('SetInstanceConfiguration', { config: { instanceID: 'acme', alias: 'acme-corp' } }));
    const entry = await eventually(() => routing.lookup('acme-corp'));
    expect(entry).toMatchObject({ instanceId: 'acme', alias: 'acme-corp', status: 'running', hostName });
    expect(routing.version).toBeGreaterThan(before);
    const onDisk = JSON.parse(readFileSync(path.join(dataDir, 'cas', 'routing-table.json'), 'utf8'));
    expect(onDisk.version).toBe(routing.version);
    expect(onDisk.entries).toEqual([expect.objectContaining({ instanceId: 'acme', alias: 'acme-corp' })]);
    expect(ok(await api.invoke('GetClientAccessServers', { withServiceStatus: true }))[0].serviceStatus).toMatchObject({ status: 'connected' });
  });

  it('resolves an ID or alias to one shared instance connection and reopens it when it closed', async () => {
    const resolver = createInstanceResolver({ lookup: (name) => server.routing!.lookup(name), certificate: () => readCas(dataDir), log: silent });
    const first = await resolver.resolveInstance('acme');
    const second = await resolver.resolveInstance('ACME-corp');
    if (!first.ok || !second.ok) throw new Error('not resolved');
    expect(second.client).toBe(first.client);
    first.client.close();
    await eventually(() => first.client.isClosed);
    const third = await resolver.resolveInstance('acme');
    if (!third.ok) throw new Error(third.message);
    expect(third.client).not.toBe(first.client);
    expect((await third.client.authenticate({ user: 'jane', password: 'jane-secret', channel: 'imap' })).ok).toBe(true);
    expect(await resolver.resolveInstance('nobody')).toMatchObject({ ok: false, reason: 'unknown' });
    resolver.close();
  });

  it('re-reads the whole table when a pushed change does not follow its version', async () => {
    const routing = server.routing!;
    const version = routing.version;
    const management = readRole(dataDir, 'management');
    const socket = await connectPinned('127.0.0.1', server.cas!.pushPort, management, server.thumbprints.cas!);
    const peer = new RpcPeer(socket);
    // A change from a version the CAS never had, carrying a bogus entry: the CAS must not apply it.
    const answer = await peer.call<{ version: number }>(ROUTING_RPC.routingChanged, { fromVersion: version + 5, toVersion: version + 6, upserts: [{ instanceId: 'bogus', alias: null, hostName: 'x', address: null, status: 'running' }], removes: [] });
    peer.close();
    expect(answer.version).toBe(version);
    expect(routing.lookup('bogus')).toBeUndefined();
    expect(routing.lookup('acme')).toBeDefined();
  });

  it('refuses pushes from a certificate that is not the Management Server', async () => {
    const stranger = generateSelfSigned('stranger');
    const socket = await connectPinned('127.0.0.1', server.cas!.pushPort, stranger, server.thumbprints.cas!).catch(() => null);
    if (socket) {
      const peer = new RpcPeer(socket);
      await expect(peer.call(ROUTING_RPC.getRoutingVersion, {}, 3000)).rejects.toThrow();
    }
  });

  it('pushes ReloadBranding to the CAS and reports a refused branding folder', async () => {
    ok(await api.invoke('ReloadBranding'));
    expect(brandingReloads).toBe(1);
    brandingOutcome = { ok: false, error: 'branding.json: colours.primary is not a colour' };
    const refused = await api.invoke('ReloadBranding');
    expect(refused.statusCode).toBe('failed');
    expect(refused.error!.message).toMatch(/colours\.primary is not a colour/);
  });

  it('serves a CAS of its own machine (multi server mode) once it is paired by thumbprint', async () => {
    const casData = mkdtempSync(path.join(os.tmpdir(), 'coffer-cas2-'));
    const casConfig = loadConfig({ data: casData, 'port-offset': String(randomPortOffset()), roles: 'cas' }, {});
    const cas2 = await startCofferServer(casConfig, {
      log: silent, productVersion: 'test', casServices: [],
      managementServer: { host: '127.0.0.1', port: server.management!.ports.roleEndpoint, thumbprint: server.thumbprints.management! },
    });
    try {
      // Not paired yet: the role endpoint refuses its certificate, so it has no table.
      expect(cas2.routing!.lookup('acme')).toBeUndefined();
      expect(cas2.routing!.lastReadError).not.toBeNull();
      ok(await api.invoke('PairWithManagementServer', { serverType: 'clientAccessServer', serverName: 'localhost', port: cas2.cas!.pushPort, thumbprint: cas2.thumbprints.cas! }));
      await eventually(() => cas2.routing!.lookup('acme-corp'));
      const resolver = createInstanceResolver({ lookup: (name) => cas2.routing!.lookup(name), certificate: () => readCas(casData), log: silent });
      const resolved = await resolver.resolveInstance('acme-corp');
      if (!resolved.ok) throw new Error(resolved.message);
      expect((await resolved.client.authenticate({ user: 'jane', password: 'jane-secret', channel: 'imap' })).ok).toBe(true);
      resolver.close();
      ok(await api.invoke('DeleteClientAccessServer', { serverName: 'localhost' }));
    } finally {
      await cas2.close();
      rmSync(casData, { recursive: true, force: true });
    }
  });

  it('keeps routing from its cached table while the Management Server is down, also after a CAS restart', async () => {
    const liveResolver = createInstanceResolver({ lookup: (name) => server.routing!.lookup(name), certificate: () => readCas(dataDir), log: silent });
    await server.management!.close();
    // The running CAS still routes …
    const live = await liveResolver.resolveInstance('acme-corp');
    if (!live.ok) throw new Error(live.message);
    expect((await live.client.authenticate({ user: 'jane', password: 'jane-secret', channel: 'web' })).ok).toBe(true);
    // … and a CAS started now, with the Management Server unreachable, routes from the table on disk.
    const restarted = new RoutingClient({
      cache: RoutingCache.forDataDir(dataDir),
      management: { host: '127.0.0.1', port: server.management!.ports.roleEndpoint, thumbprint: server.thumbprints.management! },
      certificate: () => readCas(dataDir), log: silent, pollIntervalMs: 0,
    });
    await restarted.start();
    expect(restarted.lastReadError).not.toBeNull();
    const resolver = createInstanceResolver({ lookup: (name) => restarted.lookup(name), certificate: () => readCas(dataDir), log: silent });
    const resolved = await resolver.resolveInstance('acme-corp');
    if (!resolved.ok) throw new Error(resolved.message);
    expect(resolved.instanceId).toBe('acme');
    expect((await resolved.client.authenticate({ user: 'jane', password: 'jane-secret', channel: 'imap' })).ok).toBe(true);
    resolver.close();
    liveResolver.close();
    await restarted.close();
  });
});

function readRole(dataDir: string, name: string) {
  const keyPem = readFileSync(path.join(dataDir, 'certs', `${name}.key.pem`), 'utf8');
  const certPem = readFileSync(path.join(dataDir, 'certs', `${name}.crt.pem`), 'utf8');
  return { keyPem, certPem, thumbprint: thumbprintOf(certPem) };
}

function readCas(dataDir: string) {
  return readRole(dataDir, 'cas');
}
