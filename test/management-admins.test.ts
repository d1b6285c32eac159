import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import forge from 'node-forge';
import { SMTPServer } from 'smtp-server';
import { generate } from 'otplib';
import { buildManagementApiApp } from '../src/management/api/build-app.js';
import { openManagementServer, type ManagementServerParts } from '../src/management/management-server.js';
import { ManagementApiClient } from '../src/management/client/api-client.js';
import type { AuthenticatedAdmin } from '../src/management/admins.js';

function selfSignedCertificate(): { key: string; cert: string } {
  const keys = forge.pki.rsa.generateKeyPair(2048);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 86_400_000);
  const attrs = [{ name: 'commonName', value: 'localhost' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([{ name: 'basicConstraints', cA: true }, { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { key: forge.pki.privateKeyToPem(keys.privateKey), cert: forge.pki.certificateToPem(cert) };
}

interface ReceivedMail {
  from: string;
  to: string[];
  data: string;
}

describe('system administrators and system SMTP through the Management API', () => {
  let dataDir: string;
  let app: FastifyInstance;
  let parts: ManagementServerParts;
  let port: number;
  let ca: string;
  let adminPassword: string;
  let smtp: SMTPServer;
  let smtpPort: number;
  const received: ReceivedMail[] = [];
  const api = (user: string, password: string) => new ManagementApiClient({ host: '127.0.0.1', port, user, password, ca });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'coffer-mgmt-admins-'));
    parts = await openManagementServer(dataDir, { facts: { productVersion: '0.1.0-test', startedAt: new Date() }, env: {} });
    adminPassword = parts.initialAdministrator?.generatedPassword ?? '';
    const tlsMaterial = selfSignedCertificate();
    ca = tlsMaterial.cert;
    app = await buildManagementApiApp<AuthenticatedAdmin>({ tls: tlsMaterial, api: parts.apiOptions });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as { port: number }).port;

    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            data: Buffer.concat(chunks).toString('utf8'),
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    smtpPort = (smtp.server.address() as { port: number }).port;
  });

  afterAll(async () => {
    await app.close();
    await new Promise<void>((resolve) => smtp.close(resolve));
    await rm(dataDir, { recursive: true, force: true });
  });

  it('creates admin on first start with a generated password kept in a 0600 file', async () => {
    expect(parts.initialAdministrator).toMatchObject({ userName: 'admin' });
    expect(adminPassword.length).toBeGreaterThanOrEqual(20);
    const file = join(dataDir, 'config', 'admin-password.txt');
    expect((await readFile(file, 'utf8')).trim()).toBe(adminPassword);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await api('admin', adminPassword).call('Ping')).statusCode).toBe('succeeded');
    const again = await openManagementServer(dataDir, { facts: { productVersion: 'x', startedAt: new Date() }, env: {} });
    expect(again.initialAdministrator).toBeNull();
  });

  it('takes the first password from COFFER_ADMIN_PASSWORD when it is set', async () => {
    const otherDir = await mkdtemp(join(tmpdir(), 'coffer-mgmt-env-'));
    try {
      const other = await openManagementServer(otherDir, { facts: { productVersion: 'x', startedAt: new Date() }, env: { COFFER_ADMIN_PASSWORD: 'correct horse battery' } });
      expect(other.initialAdministrator).toEqual({ userName: 'admin', generatedPassword: null, passwordFile: null });
      expect(await other.admins.authenticateApi('admin', 'correct horse battery')).toEqual({ userName: 'admin' });
      expect(await other.admins.authenticateApi('admin', 'wrong horse')).toBeNull();
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  it('creates, lists, configures, re-passwords and deletes a system administrator', async () => {
    const client = api('admin', adminPassword);
    const created = await client.call('CreateSystemAdministrator', { config: { userName: 'jane', fullName: 'Jane Roe', emailAddress: 'jane@example.test' }, password: 'jane-password-1' });
    expect(created).toMatchObject({ statusCode: 'succeeded', result: { userName: 'jane', mfaStatus: 'disabled', hasApiPassword: false } });
    const duplicate = await client.call('CreateSystemAdministrator', { config: { userName: 'JANE' }, password: 'another-password' });
    expect(duplicate.error?.message).toMatch(/already exists/);
    const list = await client.call('GetSystemAdministrators');
    expect((list.result as { userName: string }[]).map((a) => a.userName)).toEqual(['admin', 'jane']);
    expect(JSON.stringify(list.result)).not.toMatch(/scrypt|passwordHash/);
    await client.call('SetSystemAdministratorConfiguration', { config: { userName: 'jane', fullName: 'Jane Q. Roe' } });
    expect((await client.call('SetSystemAdministratorConfiguration', { config: { userName: 'jane', emailAddress: 'Jane Roe' } })).error?.message).toMatch(/not valid/);
    expect(parts.admins.get('jane')).toMatchObject({ fullName: 'Jane Q. Roe', emailAddress: 'jane@example.test' });
    expect((await client.call('SetSystemAdministratorPassword', { userName: 'jane', password: 'short' })).error?.message).toMatch(/at least 8 characters/);
    await client.call('SetSystemAdministratorPassword', { userName: 'jane', password: 'jane-password-2' });
    expect((await api('jane', 'jane-password-2').call('Ping')).statusCode).toBe('succeeded');
    expect((await api('jane', 'jane-password-1').post('/api/invoke/Ping', '')).status).toBe(401);
    expect((await client.call('DeleteSystemAdministrator', { userName: 'jane' })).statusCode).toBe('succeeded');
    expect((await client.call('DeleteSystemAdministrator', { userName: 'admin' })).error?.message).toMatch(/last one/);
  });

  it('refuses a user name with a colon, which Basic authentication cannot carry', async () => {
    const answer = await api('admin', adminPassword).call('CreateSystemAdministrator', { config: { userName: 'ops:1' }, password: 'long-enough-pw' });
    expect(answer.error?.message).toMatch(/must not contain ':'/);
  });

  it('moves MFA from pending to active with the first valid TOTP code, and then accepts only the API password', async () => {
    await parts.admins.create({ userName: 'mfa-user', emailAddress: 'mfa@example.test' }, 'mfa-password-1');
    const enrolment = await parts.admins.enableMfa('mfa-user');
    expect(enrolment.otpauthUri).toMatch(/^otpauth:\/\/totp\/.*secret=/);
    expect(parts.admins.get('mfa-user')?.mfaStatus).toBe('pending');
    expect((await api('mfa-user', 'mfa-password-1').post('/api/invoke/Ping', '')).status).toBe(401);

    expect(await parts.admins.verifyMfaCode('mfa-user', '000000')).toBe(false);
    expect(parts.admins.get('mfa-user')?.mfaStatus).toBe('pending');
    const code = await generate({ secret: enrolment.secret });
    expect(await parts.admins.verifyMfaCode('mfa-user', code)).toBe(true);
    expect(parts.admins.get('mfa-user')?.mfaStatus).toBe('active');
    expect(await parts.admins.verifyMfaCode('mfa-user', code)).toBe(false); // a code is good once
    expect(await parts.admins.authenticateConsole('mfa-user', 'mfa-password-1')).toEqual({ step: 'code', admin: { userName: 'mfa-user' } });

    const apiPassword = await parts.admins.generateApiPassword('mfa-user');
    expect((await api('mfa-user', apiPassword).call('Ping')).statusCode).toBe('succeeded');
    expect((await api('mfa-user', 'mfa-password-1').post('/api/invoke/Ping', '')).status).toBe(401);
    expect(JSON.stringify(JSON.parse(await readFile(join(dataDir, 'config', 'management-db.json'), 'utf8')))).not.toContain(apiPassword);

    const reset = await parts.admins.resetMfa('mfa-user');
    expect(reset.secret).not.toBe(enrolment.secret);
    expect(parts.admins.get('mfa-user')?.mfaStatus).toBe('pending');
    expect(await parts.admins.verifyMfaCode('mfa-user', await generate({ secret: enrolment.secret }))).toBe(false);
    await parts.admins.disableMfa('mfa-user');
    expect((await api('mfa-user', 'mfa-password-1').call('Ping')).statusCode).toBe('succeeded');
  });

  it('keeps the SMTP password out of GetSystemSmtpConfiguration and keeps it on a round trip', async () => {
    const client = api('admin', adminPassword);
    const set = await client.call('SetSystemSmtpConfiguration', {
      config: { hostname: 'mail.example.test', port: 587, protocol: 'SMTP-TLS', authenticationRequired: true, username: 'u', password: 'smtp-secret', fromEmailAddress: 'coffer@example.test', recipientSystemAdministrator: ['admin'] },
    });
    expect(set.statusCode).toBe('succeeded');
    const got = await client.call('GetSystemSmtpConfiguration');
    expect(got.result).toMatchObject({ hostname: 'mail.example.test', password: null, recipientSystemAdministrator: ['admin'] });
    await client.call('SetSystemSmtpConfiguration', { config: got.result as object });
    expect(parts.db.read().systemSmtp?.password).toBe('smtp-secret');
    const unknown = await client.call('SetSystemSmtpConfiguration', { config: { hostname: 'h', recipientSystemAdministrator: ['nobody'] } });
    expect(unknown.error?.message).toMatch(/no system administrator 'nobody'/);
  });

  it('sends a test message through a real SMTP server with TestSystemSmtpConfiguration', async () => {
    const client = api('admin', adminPassword);
    await client.call('SetSystemAdministratorConfiguration', { config: { userName: 'admin', emailAddress: 'admin@example.test' } });
    await client.call('SetSystemSmtpConfiguration', {
      config: { hostname: '127.0.0.1', port: smtpPort, protocol: 'SMTP', fromDisplayName: 'Coffer', fromEmailAddress: 'coffer@example.test', recipientSystemAdministrator: ['admin'] },
    });
    const answer = await client.call('TestSystemSmtpConfiguration');
    expect(answer.statusCode, answer.error?.message).toBe('succeeded');
    expect(answer.result).toMatchObject({ recipients: ['admin@example.test'] });
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ from: 'coffer@example.test', to: ['admin@example.test'] });
    expect(received[0]?.data).toMatch(/Subject: Coffer: test of the system SMTP configuration/);
  });

  it('reports a failed delivery with the SMTP error as the message', async () => {
    const client = api('admin', adminPassword);
    await client.call('SetSystemSmtpConfiguration', {
      config: { hostname: '127.0.0.1', port: smtpPort, protocol: 'SMTP-TLS', fromEmailAddress: 'coffer@example.test', recipientSystemAdministrator: ['admin'] },
    });
    const answer = await client.call('TestSystemSmtpConfiguration');
    expect(answer.statusCode).toBe('failed');
    expect(answer.error?.message).toMatch(/^Sending the test message through 127\.0\.0\.1:\d+ failed: .*STARTTLS/i);
  });

  it('answers GetEnvironmentInfo and GetServiceStatus from the Management Server itself', async () => {
    const client = api('admin', adminPassword);
    const environment = await client.call('GetEnvironmentInfo');
    expect(environment.result).toMatchObject({ version: '0.1.0-test', userName: 'admin', systemProperties: { processors: expect.any(Array) } });
    const status = await client.call('GetServiceStatus');
    expect(status.result).toMatchObject({ managementServer: { status: 'running', version: '0.1.0-test' }, instanceHosts: [], clientAccessServers: [] });
  });

  it('answers paths outside the API with a plain 404', async () => {
    const answer = await api('admin', adminPassword).post('/api/other', '');
    expect(answer.status).toBe(404);
  });

  it('answers functions the Management Server cannot run yet with a clear failure', async () => {
    const answer = await api('admin', adminPassword).call('GetInstances', { instanceFilter: '*' });
    expect(answer).toMatchObject({ statusCode: 'failed', error: { message: 'GetInstances is not available on this Management Server yet.' } });
  });
});
