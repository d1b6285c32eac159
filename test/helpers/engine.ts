/** A real Instance Host (supervisor + mTLS endpoint on port 0) over a temporary data folder. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../src/common/logger.js';
import { loadOrCreateRoleCertificate, type RoleCertificate } from '../../src/common/certs.js';
import { InstanceSupervisor } from '../../src/instance-host/supervisor.js';
import { createInstanceHostServer, type InstanceHostServer } from '../../src/instance-host/server.js';
import { InstanceClient, type HostAddress } from '../../src/instance/client.js';

export interface Engine {
  dataDir: string;
  supervisor: InstanceSupervisor;
  server: InstanceHostServer;
  address: HostAddress;
  identity: RoleCertificate;
  connect(instanceId: string): Promise<InstanceClient>;
  startInstance(instanceId: string, startMode?: 'automatic' | 'manual'): Promise<InstanceClient>;
  close(): Promise<void>;
}

/** A running instance `acme` with user `jane` (password `pw`) logged in over the `imap` channel. */
export async function startEngineWithJane(): Promise<{ engine: Engine; acme: InstanceClient; session: string }> {
  const engine = await startEngine();
  const acme = await engine.startInstance('acme');
  await acme.management('CreateUser', { userName: 'jane', privileges: 'login', password: 'pw' });
  const auth = await acme.authenticate({ user: 'jane', password: 'pw', channel: 'imap' });
  if (!auth.ok) throw new Error(auth.message);
  return { engine, acme, session: auth.session };
}

/** With `portOffset`, the host listens where `coffer import --port-offset N --data DIR` looks for it. */
export async function startEngine(opts: { portOffset?: number } = {}): Promise<Engine> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'coffer-test-'));
  const log = createLogger('silent');
  const identity = loadOrCreateRoleCertificate(path.join(dataDir, 'certs'), 'instance-host');
  const supervisor = new InstanceSupervisor(log);
  const server = createInstanceHostServer({ supervisor, certificate: () => identity, pinned: () => new Set([identity.thumbprint]), log, instancesDir: path.join(dataDir, 'instances') });
  // A port that is taken fails the test at once (not an uncaught error and a hook timeout).
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.portOffset === undefined ? 0 : 8472 + opts.portOffset, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  const address: HostAddress = { host: '127.0.0.1', port: (server.address() as { port: number }).port, thumbprint: identity.thumbprint };
  const clients: InstanceClient[] = [];
  const engine: Engine = {
    dataDir, supervisor, server, address, identity,
    async connect(id) { const c = await InstanceClient.connect(id, address, identity); clients.push(c); return c; },
    async startInstance(id, startMode = 'manual') {
      supervisor.define({ instanceId: id, baseDir: path.join(dataDir, 'instances', id), startMode });
      await supervisor.start(id);
      return engine.connect(id);
    },
    async close() {
      for (const c of clients) c.close();
      await supervisor.stopAll();
      await server.closeAll();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return engine;
}
