/**
 * Secrets a CAS keeps across restarts, in `<data>/cas/` (mode 0600): the Web Access cookie-signing
 * secret, so sessions survive a restart of the CAS. Created on first use.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { CofferConfig } from '../common/config.js';

/** @fastify/session refuses secrets shorter than 32 characters; 48 random bytes give 64. */
const COOKIE_SECRET_BYTES = 48;

export function casCookieSecret(config: Pick<CofferConfig, 'dataDir'>): string {
  const file = path.join(config.dataDir, 'cas', 'cookie-secret');
  if (existsSync(file)) {
    const secret = readFileSync(file, 'utf8').trim();
    if (secret.length >= 32) return secret;
  }
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const secret = randomBytes(COOKIE_SECRET_BYTES).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return secret;
}
