/**
 * How local tools (the import command, `coffer start`'s own roles) reach the Instance Host on this
 * machine: its certificate in `<data>/certs/` gives both its thumbprint and a client identity
 * the host trusts (whoever can read the host's key is the host's operator).
 */
import path from 'node:path';
import { existsSync } from 'node:fs';
import { loadOrCreateRoleCertificate, type RoleCertificate } from '../common/certs.js';
import { port, type CofferConfig } from '../common/config.js';
import type { HostAddress } from '../instance/client.js';

export function certDir(config: Pick<CofferConfig, 'dataDir'>): string { return path.join(config.dataDir, 'certs'); }

export function localHost(config: CofferConfig): { address: HostAddress; identity: RoleCertificate } {
  const dir = certDir(config);
  if (!existsSync(path.join(dir, 'instance-host.crt.pem'))) {
    throw new Error(`no Instance Host certificate in ${dir}: start Coffer first (npm start, or coffer start --data ${config.dataDir})`);
  }
  const identity = loadOrCreateRoleCertificate(dir, 'instance-host');
  return { address: { host: '127.0.0.1', port: port(config, 'instanceHost'), thumbprint: identity.thumbprint }, identity };
}
