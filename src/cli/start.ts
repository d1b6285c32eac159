/**
 * `coffer start [--data DIR] [--port-offset N] [--roles management,instance-host,cas] [--demo]`:
 * runs the roles of this machine in one supervisor process (single server mode by default),
 * prints ports, certificate thumbprints and where the admin password is, and stops cleanly on
 * SIGINT/SIGTERM (CAS first, then the Management Server, then every instance).
 *
 * Multi server mode adds: `--management-server HOST:PORT` and `--management-thumbprint X` (a CAS
 * without the management role: where the role endpoint 8471 is, and whose pushes to accept), and
 * `--trusted-thumbprints A,B` (an Instance Host without the management role: the Management
 * Server and CAS certificates it serves; more can be added to `<data>/config/trusted-thumbprints.txt`
 * while it runs).
 *
 * `--web-session-store memory|redis://host:6379/0` (or COFFER_WEB_SESSION_STORE): where the CAS keeps
 * Web Access sessions; Redis lets several CASes behind one name share them (src/cas/web/README.md).
 *
 * CAS services (IMAP, Web Access) are registered by `src/cas/services.ts` when that module exists:
 * it calls registerCasService() from src/server/cas-role.ts when imported.
 */
import { existsSync, readFileSync, writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createLogger, type Logger } from '../common/logger.js';
import { ConfigError, loadConfig, port, redactUrl, type CofferConfig } from '../common/config.js';
import { normalizeThumbprint } from '../common/certs.js';
import { InstanceClient } from '../instance/client.js';
import { startCofferServer, type CofferServer } from '../server/coffer-server.js';
import { registeredCasServiceCount } from '../server/cas-role.js';
import { roleCertificate } from '../server/role-certificates.js';
import { MANAGEMENT_DB_RELATIVE_PATH } from '../management/db/management-db.js';
import { INITIAL_ADMIN_PASSWORD_FILE } from '../management/admins.js';
import { generateDemoMessages } from './demo-data.js';

export const DEMO_INSTANCE_ID = 'demo';
export const DEMO_USER = 'demo';
export const DEMO_PASSWORD_FILE = path.join('config', 'demo-password.txt');
/** Messages per ingest call: a few hundred small messages fit easily. */
const DEMO_BATCH = 100;

function productVersion(): string {
  try {
    const here = path.dirname(fileURLToPath(import.meta.url));
    for (const candidate of [path.join(here, '..', '..', 'package.json'), path.join(here, '..', 'package.json')]) {
      if (existsSync(candidate)) return String((JSON.parse(readFileSync(candidate, 'utf8')) as { version?: string }).version ?? '0.0.0');
    }
  } catch { /* fall through */ }
  return '0.0.0';
}

/** Loads the lead's CAS service registrations (IMAP, Web Access) when that module exists. */
async function loadCasServices(log: Logger): Promise<void> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const module = path.join(here, '..', 'cas', 'services.js');
  if (!existsSync(module)) return;
  await import(pathToFileURL(module).href);
  log.debug({ module }, 'CAS services registered');
}

function multiServerOptions(flags: Record<string, unknown>) {
  let managementServer: { host: string; port: number; thumbprint: string } | undefined;
  if (flags['management-server'] !== undefined) {
    const match = /^(.+):(\d{1,5})$/.exec(String(flags['management-server']));
    if (!match) throw new ConfigError('--management-server: expected HOST:PORT (the role endpoint, 8471 by default)');
    const thumbprint = normalizeThumbprint(String(flags['management-thumbprint'] ?? ''));
    if (!thumbprint) throw new ConfigError('--management-thumbprint: expected the Management Server certificate thumbprint (40 hex digits)');
    managementServer = { host: match[1]!, port: Number(match[2]), thumbprint };
  }
  const trusted = flags['trusted-thumbprints'] === undefined ? [] : String(flags['trusted-thumbprints']).split(',').map((t) => t.trim()).filter(Boolean).map((t) => {
    const normalized = normalizeThumbprint(t);
    if (!normalized) throw new ConfigError(`--trusted-thumbprints: '${t}' is not a thumbprint of 40 hex digits`);
    return normalized;
  });
  if (managementServer && !trusted.includes(managementServer.thumbprint)) trusted.push(managementServer.thumbprint);
  return { managementServer, trustedThumbprints: trusted };
}

/** Options `coffer start` takes; anything else is a typo that would otherwise be ignored silently. */
const START_FLAGS = ['data', 'port-offset', 'roles', 'host', 'log-level', 'demo', 'config', 'management-server', 'management-thumbprint', 'trusted-thumbprints', 'web-session-store'];

export async function startCommand(flags: Record<string, unknown>, positional: readonly string[] = []): Promise<number> {
  const unknown = Object.keys(flags).filter((name) => !START_FLAGS.includes(name));
  if (unknown.length > 0 || positional.length > 0) {
    throw new ConfigError(`coffer start: unknown ${unknown.length > 0 ? `option --${unknown[0]}` : `argument ${JSON.stringify(positional[0])}`}; expected ${START_FLAGS.map((f) => `--${f}`).join(', ')}`);
  }
  const config = loadConfig(flags);
  const log = createLogger(config.logLevel, { role: 'supervisor' });
  const isFirstStart = !existsSync(path.join(config.dataDir, MANAGEMENT_DB_RELATIVE_PATH));
  await loadCasServices(log);
  const server = await startCofferServer(config, { log, productVersion: productVersion(), ...multiServerOptions(flags) });

  let stopping: Promise<void> | null = null;
  const stop = (signal: string) => {
    if (stopping) process.stdout.write(`${signal}: already stopping; waiting for the instances to close.\n`);
    stopping ??= (async () => {
      process.stdout.write(`\n${signal}: stopping Coffer (instances are closed cleanly)…\n`);
      await server.close();
      process.stdout.write('Coffer stopped.\n');
    })();
    return stopping;
  };
  const stopped = new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stop(signal).then(resolve, (error) => { log.error({ err: error }, 'shutdown failed'); resolve(); }));
  });

  let demo: { password: string; messages: number } | null = null;
  if (config.demo && isFirstStart) {
    try {
      demo = await createDemo(config, server, log);
    } catch (error) {
      process.stderr.write(`could not create the demo instance: ${(error as Error).message}\n`);
    }
  }
  process.stdout.write(summary(config, server, isFirstStart, demo));
  await stopped;
  return 0;
}

async function createDemo(config: CofferConfig, server: CofferServer, log: Logger): Promise<{ password: string; messages: number }> {
  const management = server.management;
  const hostAddress = management && server.instanceHost ? { host: '127.0.0.1', port: server.instanceHost.port, thumbprint: server.instanceHost.thumbprint } : null;
  if (!management || !hostAddress) throw new Error('the demo needs the management and instance-host roles in this process');
  log.info('creating the demo instance');
  await management.invoke('CreateInstance', { config: { instanceID: DEMO_INSTANCE_ID, displayName: 'Coffer demo', instanceHost: management.serverName, startMode: 'automatic' } });
  await management.invoke('StartInstances', { instanceFilter: DEMO_INSTANCE_ID });
  const password = randomBytes(9).toString('base64url');
  await management.invoke('CreateUser', { instanceID: DEMO_INSTANCE_ID, userName: DEMO_USER, fullName: 'Demo User', privileges: 'login', password });
  const file = path.join(config.dataDir, DEMO_PASSWORD_FILE);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  const client = await InstanceClient.connect(DEMO_INSTANCE_ID, hostAddress, roleCertificate(config, 'management'));
  const messages = generateDemoMessages();
  try {
    for (let i = 0; i < messages.length; i += DEMO_BATCH) {
      await client.ingest(DEMO_USER, messages.slice(i, i + DEMO_BATCH).map((m) => ({ name: m.name, folder: m.folder, raw: m.raw, flags: m.flags, internalDate: m.internalDate })));
    }
  } finally {
    client.close();
  }
  return { password, messages: messages.length };
}

function summary(config: CofferConfig, server: CofferServer, isFirstStart: boolean, demo: { password: string; messages: number } | null): string {
  const lines = [`Coffer is running (data: ${config.dataDir}; roles: ${config.roles.join(', ')}).`, ''];
  const row = (label: string, value: string) => lines.push(`  ${label.padEnd(34)} ${value}`);
  if (server.management) {
    row('Management API (HTTPS)', `https://${config.host}:${server.management.ports.api}/api/`);
    row('Management Console (HTTPS)', `https://${config.host}:${server.management.ports.console}/`);
    row('Role endpoint (mutual TLS)', String(server.management.ports.roleEndpoint));
  }
  if (server.instanceHost) row('Instance Host (mutual TLS)', `${server.instanceHost.port}${server.management ? `  (serverName '${server.management.serverName}': use it as instanceHost in CreateInstance)` : ''}`);
  if (server.cas) {
    row('CAS push endpoint (mutual TLS)', String(server.cas.pushPort));
    if (registeredCasServiceCount() > 0) {
      row('IMAP (STARTTLS) / IMAPS', `${port(config, 'imap')} / ${port(config, 'imaps')}`);
      row('Web Access (HTTPS)', `https://${config.host}:${port(config, 'https')}/`);
      const store = config.webSessionStore;
      row('Web Access sessions', store.kind === 'redis' ? `Redis ${redactUrl(store.url)} (shared by the CASes that name it)` : 'in memory (this CAS only)');
    } else row('IMAP and Web Access', 'not plugged in to this build');
  }
  lines.push('', '  Certificate thumbprints (SHA-1):');
  if (server.thumbprints.management) row('  Management Server', server.thumbprints.management);
  if (server.thumbprints.instanceHost) row('  Instance Host', server.thumbprints.instanceHost);
  if (server.thumbprints.cas) row('  Client Access Server', server.thumbprints.cas);
  if (server.management) {
    lines.push('');
    const initial = server.management.parts.initialAdministrator;
    if (initial?.generatedPassword) lines.push(`  Administrator 'admin', password (shown once, also in ${initial.passwordFile}): ${initial.generatedPassword}`);
    else if (initial) lines.push(`  Administrator 'admin' created with the password from COFFER_ADMIN_PASSWORD.`);
    else {
      const file = path.join(config.dataDir, INITIAL_ADMIN_PASSWORD_FILE);
      lines.push(`  Administrator 'admin': password ${existsSync(file) ? `in ${file}` : 'as set before (COFFER_ADMIN_PASSWORD on first start)'}.`);
    }
    lines.push(`  Try: coffer api --data ${config.dataDir}${config.portOffset ? ` --port-offset ${config.portOffset}` : ''} GetInstances --instanceFilter='*'`);
  }
  if (demo) {
    lines.push('', `  Demo instance '${DEMO_INSTANCE_ID}': user '${DEMO_USER}', password ${demo.password} (also in ${path.join(config.dataDir, DEMO_PASSWORD_FILE)}), ${demo.messages} sample messages.`);
    if (registeredCasServiceCount() > 0) lines.push(`  Log in with IMAP as ${DEMO_USER}@${DEMO_INSTANCE_ID} on port ${port(config, 'imaps')}, or at https://${config.host}:${port(config, 'https')}/${DEMO_INSTANCE_ID}/`);
  } else if (config.demo && !isFirstStart) {
    const file = path.join(config.dataDir, DEMO_PASSWORD_FILE);
    if (existsSync(file)) lines.push('', `  Demo instance '${DEMO_INSTANCE_ID}': user '${DEMO_USER}', password in ${file}.`);
  }
  lines.push('', 'Stop with Ctrl+C (SIGINT) or SIGTERM.', '');
  return `${lines.join('\n')}\n`;
}
