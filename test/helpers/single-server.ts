/**
 * Single server mode in the test process (Management Server, Instance Host, CAS with Web Access)
 * with one running instance `acme`, its users and one message in jane's Inbox: what tests of
 * instance settings set through the real Management API start from.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import '../../src/cas/services.js';
import { thumbprintOf } from '../../src/common/certs.js';
import { createLogger } from '../../src/common/logger.js';
import { loadConfig, port } from '../../src/common/config.js';
import { InstanceClient } from '../../src/instance/client.js';
import { ManagementApiClient } from '../../src/management/client/api-client.js';
import type { Envelope } from '../../src/management/api/envelope.js';
import { startCofferServer, type CofferServer } from '../../src/server/coffer-server.js';
import { randomPortOffset } from './ports.js';
import { WebClient } from './web-client.js';

export const ADMIN_PASSWORD = 'test-admin-password-1';

export interface SingleServer {
  dataDir: string;
  server: CofferServer;
  api: ManagementApiClient;
  /** A direct client of the instance (the Instance Host's own certificate). */
  instance: InstanceClient;
  /** jane's Inbox folder id. */
  inbox: number;
  /** A new browser-like HTTPS client of the CAS's Web Access. */
  web(): WebClient;
  connectInstance(): Promise<InstanceClient>;
  close(): Promise<void>;
}

/** The result of a Management API call that must succeed. */
export function ok(envelope: Envelope): any {
  if (envelope.statusCode !== 'succeeded') throw new Error(`expected succeeded, got ${envelope.statusCode}: ${envelope.error?.message}`);
  return envelope.result;
}

function readRole(dataDir: string, name: string) {
  const keyPem = readFileSync(path.join(dataDir, 'certs', `${name}.key.pem`), 'utf8');
  const certPem = readFileSync(path.join(dataDir, 'certs', `${name}.crt.pem`), 'utf8');
  return { keyPem, certPem, thumbprint: thumbprintOf(certPem) };
}

/** Users get password `pw-<name>-123` and privileges `login,export`; jane's Inbox holds a message with `subject`. */
export async function startSingleServer(p: { users: string[]; subject: string }): Promise<SingleServer> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'coffer-single-'));
  const config = loadConfig({ data: dataDir, 'port-offset': String(randomPortOffset()) }, {});
  const server = await startCofferServer(config, { log: createLogger('silent'), productVersion: 'test', env: { COFFER_ADMIN_PASSWORD: ADMIN_PASSWORD } });
  const api = new ManagementApiClient({ host: '127.0.0.1', port: server.management!.ports.api, user: 'admin', password: ADMIN_PASSWORD, thumbprint: server.thumbprints.management! });
  const webPort = port(config, 'https');
  const casCa = readRole(dataDir, 'cas').certPem;
  ok(await api.invoke('CreateInstance', { config: { instanceID: 'acme', instanceHost: server.management!.serverName, startMode: 'manual' } }));
  ok(await api.invoke('StartInstances', { instanceFilter: 'acme' }));
  for (const user of p.users) ok(await api.invoke('CreateUser', { instanceID: 'acme', userName: user, privileges: 'login,export', password: `pw-${user}-123` }));
  const connectInstance = () => {
    const hostCert = readRole(dataDir, 'instance-host');
    return InstanceClient.connect('acme', { host: '127.0.0.1', port: server.instanceHost!.port, thumbprint: hostCert.thumbprint }, hostCert);
  };
  const instance = await connectInstance();
  await instance.ingest('jane', [{ name: 'm', folder: 'Inbox', raw: Buffer.from(`From: a@b.example\r\nSubject: ${p.subject}\r\nDate: Mon, 01 Jan 2024 10:00:00 +0000\r\n\r\nbody\r\n`) }]);
  const s = await instance.authenticate({ user: 'jane', password: 'pw-jane-123', channel: 'web' });
  if (!s.ok) throw new Error(s.message);
  const inbox = (await instance.listFolders({ session: s.session })).find((f) => f.path === 'jane/Inbox')!.id;
  await instance.logout({ session: s.session });
  return {
    dataDir, server, api, instance, inbox, connectInstance,
    web: () => new WebClient(webPort, casCa),
    async close() {
      instance.close();
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
