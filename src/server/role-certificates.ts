/**
 * The role certificates of this machine, in `<data>/certs/` (DESIGN.md §4): one key pair per role,
 * created on first start. Roles pin each other by these thumbprints; local tools (coffer import,
 * coffer api) find them here too.
 */
import path from 'node:path';
import { loadOrCreateRoleCertificate, type RoleCertificate } from '../common/certs.js';
import type { CofferConfig } from '../common/config.js';

export const ROLE_CERTIFICATE_NAMES = Object.freeze({ management: 'management', instanceHost: 'instance-host', cas: 'cas' });

export function certificatesDir(config: Pick<CofferConfig, 'dataDir'>): string {
  return path.join(config.dataDir, 'certs');
}

export function roleCertificate(config: Pick<CofferConfig, 'dataDir'>, role: keyof typeof ROLE_CERTIFICATE_NAMES): RoleCertificate {
  return loadOrCreateRoleCertificate(certificatesDir(config), ROLE_CERTIFICATE_NAMES[role], `coffer-${ROLE_CERTIFICATE_NAMES[role]}`);
}
