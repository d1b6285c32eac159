import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { thumbprintOf } from '../src/common/certs.js';
import { InstanceClient } from '../src/instance/client.js';
import { SMTPServer } from 'smtp-server';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../src/common/logger.js';
import { loadConfig } from '../src/common/config.js';
import { ManagementApiClient } from '../src/management/client/api-client.js';
import { startCofferServer, type CofferServer } from '../src/server/coffer-server.js';
import type { Envelope } from '../src/management/api/envelope.js';
import { randomPortOffset } from './helpers/ports.js';

const PASSWORD = 'test-admin-password-1';

describe('instance lifecycle through the Management API over HTTPS', () => {
  let dataDir: string;
  let server: CofferServer;
  let api: ManagementApiClient;
  let hostName: string;

  const ok = (envelope: Envelope) => {
    if (envelope.statusCode !== 'succeeded') throw new Error(`expected succeeded, got ${envelope.statusCode}: ${envelope.error?.message}`);
    return envelope.result as any;
  };
  const failed = (envelope: Envelope) => {
    expect(envelope.statusCode).toBe('failed');
    return envelope.error!.message;
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'coffer-mgmt-'));
    const config = loadConfig({ data: dataDir, 'port-offset': String(randomPortOffset()) }, {});
    server = await startCofferServer(config, { log: createLogger('silent'), productVersion: 'test', env: { COFFER_ADMIN_PASSWORD: PASSWORD }, casServices: [] });
    api = new ManagementApiClient({ host: '127.0.0.1', port: server.management!.ports.api, user: 'admin', password: PASSWORD, thumbprint: server.thumbprints.management! });
    hostName = server.management!.serverName;
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('lists the local Instance Host and CAS of single server mode with their thumbprints', async () => {
    const hosts = ok(await api.invoke('GetInstanceHosts'));
    expect(hosts).toEqual([expect.objectContaining({ serverName: hostName, serverCertificate: { thumbprint: server.thumbprints.instanceHost } })]);
    const cases = ok(await api.invoke('GetClientAccessServers', { withServiceStatus: false }));
    expect(cases).toEqual([expect.objectContaining({ serverName: hostName, serverCertificate: { thumbprint: server.thumbprints.cas } })]);
  });

  it('creates an instance, starts it, creates a user, freezes, thaws and stops it', async () => {
    const created = ok(await api.invoke('CreateInstance', { config: { instanceID: 'acme', alias: 'acme-corp', instanceHost: hostName, startMode: 'manual' } }));
    expect(created).toMatchObject({ instanceID: 'acme', alias: 'acme-corp', status: 'stopped' });
    expect(existsSync(path.join(dataDir, 'instances', 'acme'))).toBe(true);

    ok(await api.invoke('StartInstances', { instanceFilter: 'acme' }));
    expect(ok(await api.invoke('GetInstances', { instanceFilter: '*' }))).toEqual([expect.objectContaining({ instanceID: 'acme', status: 'running', startStopError: null })]);

    ok(await api.invoke('CreateUser', { instanceID: 'acme', userName: 'jane', privileges: 'login', password: 'jane-secret' }));
    expect(ok(await api.invoke('GetUsers', { instanceID: 'acme' }))).toEqual([expect.objectContaining({ userName: 'jane' })]);
    expect(failed(await api.invoke('GetUserInfo', { instanceID: 'acme', userName: 'nobody' }))).toMatch(/nobody/);

    ok(await api.invoke('FreezeInstances', { instanceFilter: '*' }));
    expect(ok(await api.invoke('GetInstances', { instanceFilter: 'acme' }))[0].status).toBe('frozen');
    expect(ok(await api.invoke('GetUsers', { instanceID: 'acme' }))).toHaveLength(1);
    expect(failed(await api.invoke('SetUserFullName', { instanceID: 'acme', userName: 'jane', fullName: 'Jane' }))).toMatch(/frozen; SetUserFullName would wait/);
    ok(await api.invoke('ThawInstances', { instanceFilter: 'acme' }));
    expect(ok(await api.invoke('GetInstances', { instanceFilter: 'acme' }))[0].status).toBe('running');

    // A long-running function answers with a token and finishes under get-status.
    const verify = await api.call('VerifyStores', { instanceID: 'acme', includeIndexes: true });
    expect(verify.statusCode).toBe('running');
    expect((await api.invoke('VerifyStores', { instanceID: 'acme', includeIndexes: false })).statusCode).toBe('succeeded');

    ok(await api.invoke('StopInstances', { instanceFilter: 'acme' }));
    expect(ok(await api.invoke('GetInstances', { instanceFilter: '* .stopped' }))).toEqual([expect.objectContaining({ instanceID: 'acme', status: 'stopped' })]);
    expect(failed(await api.invoke('GetUsers', { instanceID: 'acme' }))).toMatch(/acme' is stopped.*StartInstances/);
  });

  it('refuses bad and clashing instance IDs and aliases with messages naming them', async () => {
    expect(failed(await api.invoke('CreateInstance', { config: { instanceID: '9lives', instanceHost: hostName } }))).toMatch(/config\.instanceID.*must start with a lower-case letter/);
    expect(failed(await api.invoke('CreateInstance', { config: { instanceID: 'ab', instanceHost: hostName } }))).toMatch(/at least 3 characters/);
    expect(failed(await api.invoke('CreateInstance', { config: { instanceID: 'Upper', instanceHost: hostName } }))).toMatch(/instanceID/);
    expect(failed(await api.invoke('CreateInstance', { config: { instanceID: 'x'.repeat(33), instanceHost: hostName } }))).toMatch(/at most 32/);
    expect(failed(await api.invoke('CreateInstance', { config: { instanceID: 'acme', instanceHost: hostName } }))).toMatch(/already the ID of instance 'acme'/);
    expect(failed(await api.invoke('CreateInstance', { config: { instanceID: 'acme-corp', instanceHost: hostName } }))).toMatch(/already the alias of instance 'acme'/);
    expect(failed(await api.invoke('CreateInstance', { config: { instanceID: 'globex', alias: 'acme', instanceHost: hostName } }))).toMatch(/config\.alias.*already the ID/);
    expect(failed(await api.invoke('CreateInstance', { config: { instanceID: 'globex', alias: 'bad_alias', instanceHost: hostName } }))).toMatch(/config\.alias/);
    expect(failed(await api.invoke('CreateInstance', { config: { instanceID: 'globex', instanceHost: 'no-such-host' } }))).toMatch(/no Instance Host 'no-such-host'/);
    expect(failed(await api.invoke('CreateInstance', { config: { instanceID: 'globex', instanceHost: hostName, startMode: 'sometimes' } }))).toMatch(/config\.startMode/);
  });

  it('selects instances with every instanceFilter form', async () => {
    ok(await api.invoke('CreateInstance', { config: { instanceID: 'globex', instanceHost: hostName, startMode: 'manual' } }));
    ok(await api.invoke('CreateInstance', { config: { instanceID: 'initech', instanceHost: hostName, startMode: 'disabled' } }));
    ok(await api.invoke('StartInstances', { instanceFilter: 'globex' }));
    const ids = async (filter: string) => ok(await api.invoke('GetInstances', { instanceFilter: filter })).map((row: { instanceID: string }) => row.instanceID).sort();
    expect(await ids('*')).toEqual(['acme', 'globex', 'initech']);
    expect(await ids('acme initech')).toEqual(['acme', 'initech']);
    expect(await ids(`*${hostName}`)).toEqual(['acme', 'globex', 'initech']);
    expect(await ids('*other-host')).toEqual([]);
    expect(await ids('* .running')).toEqual(['globex']);
    expect(await ids('* .stopped')).toEqual(['acme', 'initech']);
    expect(failed(await api.invoke('GetInstances', { instanceFilter: 'nope' }))).toMatch(/instance 'nope' does not exist/);
    expect(failed(await api.invoke('GetInstances', { instanceFilter: '.running' }))).toMatch(/instanceFilter/);
    expect(failed(await api.invoke('StartInstances', { instanceFilter: 'initech' }))).toMatch(/start mode disabled/);
    expect(failed(await api.invoke('DeleteInstances', { instanceFilter: 'globex' }))).toMatch(/Stop these instances.*globex \(running\)/);
    ok(await api.invoke('StopInstances', { instanceFilter: '* .running' }));
    ok(await api.invoke('DeleteInstances', { instanceFilter: 'globex initech' }));
    expect(await ids('*')).toEqual(['acme']);
  });

  it('keeps instance configuration and pushes the IMAP connection log setting into the instance', async () => {
    ok(await api.invoke('SetInstanceConfiguration', { config: { instanceID: 'acme', displayName: 'ACME Corp', imapServerConnectionLogEnabled: true, startMode: 'automatic' } }));
    expect(ok(await api.invoke('GetInstanceConfiguration', { instanceID: 'acme' }))).toMatchObject({ instanceID: 'acme', alias: 'acme-corp', displayName: 'ACME Corp', startMode: 'automatic', imapServerConnectionLogEnabled: true });
    ok(await api.invoke('StartInstances', { instanceFilter: 'acme', safeMode: true }));
    expect(ok(await api.invoke('GetInstances', { instanceFilter: 'acme' }))[0].status).toBe('safeMode');
    ok(await api.invoke('StartInstances', { instanceFilter: 'acme', safeMode: false }));
    expect(ok(await api.invoke('GetInstances', { instanceFilter: 'acme' }))[0].status).toBe('running');
    expect(failed(await api.invoke('SetInstanceConfiguration', { config: { instanceID: 'acme', baseDirectory: '/elsewhere' } }))).toMatch(/must be stopped/);
    // The instance itself now keeps IMAP connection log lines a CAS sends it.
    const hostCert = readRole(dataDir, 'instance-host');
    const client = await InstanceClient.connect('acme', { host: '127.0.0.1', port: server.instanceHost!.port, thumbprint: hostCert.thumbprint }, hostCert);
    await client.connectionLog(['C: a1 LOGIN jane [redacted]']);
    client.close();
    const logs = readdirSync(path.join(dataDir, 'instances', 'acme', 'logs'));
    expect(readFileSync(path.join(dataDir, 'instances', 'acme', 'logs', logs[0]!), 'utf8')).toContain('a1 LOGIN jane');
  });

  it('stores settings of parts not built yet and says truthfully what it cannot run', async () => {
    ok(await api.invoke('SetComplianceConfiguration', { instanceID: 'acme', config: { legalHoldEnabled: true } }));
    expect(ok(await api.invoke('GetComplianceConfiguration', { instanceID: 'acme' }))).toMatchObject({ legalHoldEnabled: true });
    const job = ok(await api.invoke('CreateJob', { instanceID: 'acme', name: 'nightly', action: 'VerifyStores', time: '02:00' }));
    expect(ok(await api.invoke('GetJobs', { instanceID: 'acme' }))).toEqual([expect.objectContaining({ id: job.id, name: 'nightly' })]);
    expect(failed(await api.invoke('RunJobAsync', { instanceID: 'acme', id: job.id }))).toMatch(/does not run jobs yet/);
    expect(failed(await api.invoke('GetJobs', { instanceID: 'nothere' }))).toMatch(/Instance 'nothere' does not exist/);
  });

  it('keeps the instance SMTP settings without showing the password, and really sends the test message', async () => {
    const received: { to: string[]; data: string }[] = [];
    const smtp = new SMTPServer({
      authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => { received.push({ to: session.envelope.rcptTo.map((r) => r.address), data: Buffer.concat(chunks).toString('utf8') }); callback(); });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    try {
      const smtpPort = (smtp.server.address() as { port: number }).port;
      expect(failed(await api.invoke('TestSmtpSettings', { instanceID: 'acme' }))).toMatch(/SetSmtpSettings first/);
      ok(await api.invoke('SetSmtpSettings', { instanceID: 'acme', settings: { hostname: '127.0.0.1', port: smtpPort, protocol: 'SMTP', password: 'smtp-secret', fromEmailAddress: 'archive@acme.example', recipientEmailAddresses: ['ops@acme.example'] } }));
      expect(ok(await api.invoke('GetSmtpSettings', { instanceID: 'acme' }))).toMatchObject({ hostname: '127.0.0.1', password: null });
      ok(await api.invoke('TestSmtpSettings', { instanceID: 'acme' }));
      expect(received).toEqual([expect.objectContaining({ to: ['ops@acme.example'], data: expect.stringContaining('instance acme') })]);
    } finally {
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
    }
  });

  it('registers, pairs, lists and deletes Instance Hosts and CASes, pinned by thumbprint', async () => {
    const thumbprint = 'ab:cd:'.repeat(10).slice(0, 59).replace(/:$/, '');
    expect(failed(await api.invoke('CreateInstanceHost', { config: { serverName: 'host2', serverCertificate: { thumbprint: 'xyz' } } }))).toMatch(/thumbprint/);
    ok(await api.invoke('CreateInstanceHost', { config: { serverName: 'host2', port: 9472, serverCertificate: { thumbprint: '12'.repeat(20) } } }));
    expect(failed(await api.invoke('CreateInstanceHost', { config: { serverName: 'HOST2' } }))).toMatch(/already exists/);
    const host2 = ok(await api.invoke('GetInstanceHosts', { serverNameFilter: 'host2' }));
    expect(host2).toEqual([expect.objectContaining({ serverName: 'host2', port: 9472, serverCertificate: { thumbprint: '12'.repeat(20) }, status: 'disconnected' })]);
    expect(failed(await api.invoke('CreateInstance', { config: { instanceID: 'remote', instanceHost: 'host2' } }))).toMatch(/Instance Host 'host2' is not connected/);
    ok(await api.invoke('DeleteInstanceHost', { serverName: 'host2' }));
    expect(failed(await api.invoke('DeleteInstanceHost', { serverName: hostName }))).toMatch(/still has instances \(acme\)/);

    ok(await api.invoke('PairWithManagementServer', { serverType: 'clientAccessServer', serverName: 'cas2', port: 18473, thumbprint }));
    const pairs = ok(await api.invoke('GetClientAccessServers', { serverNameFilter: 'cas2', withServiceStatus: false }));
    expect(pairs).toEqual([{ serverName: 'cas2', port: 18473, serverCertificate: { thumbprint: 'ABCD'.repeat(10) } }]);
    expect(failed(await api.invoke('PairWithManagementServer', { serverType: 'mailServer', serverName: 'x', port: 1, thumbprint }))).toMatch(/serverType/);
    ok(await api.invoke('DeleteClientAccessServer', { serverName: 'cas2' }));
    expect(failed(await api.invoke('DeleteClientAccessServer', { serverName: 'cas2' }))).toMatch(/does not exist/);

    const status = ok(await api.invoke('GetServiceStatus'));
    expect(status.instanceHosts).toEqual([expect.objectContaining({ serverName: hostName, status: 'running' })]);
  });

  it('creates and lists directories on an Instance Host', async () => {
    const dir = path.join(dataDir, 'extra', 'stores');
    ok(await api.invoke('CreateDirectoryOnInstanceHost', { serverName: hostName, path: dir }));
    expect(ok(await api.invoke('GetDirectoriesOnInstanceHost', { serverName: hostName, path: path.join(dataDir, 'extra') }))).toEqual([dir]);
    expect(failed(await api.invoke('CreateDirectoryOnInstanceHost', { serverName: hostName, path: 'relative/dir' }))).toMatch(/not an absolute path/);
  });

  it('reports a crashed instance as error with the reason, and cancels a forwarded long-running call', async () => {
    ok(await api.invoke('CreateInstance', { config: { instanceID: 'crashy', instanceHost: hostName, startMode: 'manual' } }));
    ok(await api.invoke('StartInstances', { instanceFilter: 'crashy' }));
    const pid = ok(await api.invoke('GetInstances', { instanceFilter: 'crashy' }))[0].processID as number;
    process.kill(pid, 'SIGKILL');
    const until = Date.now() + 10_000;
    let row: { status: string; startStopError: string | null } = { status: '', startStopError: null };
    while (Date.now() < until && row.status !== 'error') {
      row = ok(await api.invoke('GetInstances', { instanceFilter: 'crashy' }))[0];
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(row).toMatchObject({ status: 'error', startStopError: expect.stringMatching(/exited \(SIGKILL\)/) });
    expect(failed(await api.invoke('GetUsers', { instanceID: 'crashy' }))).toMatch(/crashy' is error/);
    ok(await api.invoke('DeleteInstances', { instanceFilter: 'crashy' }));

    const progress = await api.invoke('VerifyStores', { instanceID: 'acme', includeIndexes: true });
    expect(progress).toMatchObject({ statusCode: 'succeeded', percentProgress: 100 });
    const running = await api.call('VerifyStores', { instanceID: 'acme', includeIndexes: true });
    expect(running.statusCode).toBe('running');
    await api.cancel(running.token!);
    let status = running;
    while (status.statusCode === 'running') status = await api.getStatus(running.token!, status.statusVersion, 5000);
    expect(status.statusCode).toBe('cancelled');
  });
});

function readRole(dataDir: string, name: string) {
  const keyPem = readFileSync(path.join(dataDir, 'certs', `${name}.key.pem`), 'utf8');
  const certPem = readFileSync(path.join(dataDir, 'certs', `${name}.crt.pem`), 'utf8');
  return { keyPem, certPem, thumbprint: thumbprintOf(certPem) };
}
