/**
 * scrypt password hashes: `scrypt$N$r$p$salt$hash` (base64), compared in constant time.
 * Successful verifications are remembered for a while (as Dovecot's auth_cache does): mail
 * clients log in again on every connection, several at once, and API scripts authenticate every
 * request, while one scrypt costs ~50 ms of CPU. Only successes are kept, as an HMAC of the stored
 * hash and the password under a key that lives in this process alone; a changed password has a
 * new stored hash, so its old entry can never match again.
 */
import { createHmac, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { LRUCache } from 'lru-cache';

const N = 16384, R = 8, P = 1, KEYLEN = 32;

function scrypt(password: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password, salt, KEYLEN, opts, (e, k) => (e ? reject(e) : resolve(k))));
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, { N, r: R, p: P });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** How long a successful verification is remembered, and how many are. */
export const VERIFIED_TTL_MS = 10 * 60_000;
const VERIFIED_MAX = 20_000;
const processKey = randomBytes(32);
const verified = new LRUCache<string, true>({ max: VERIFIED_MAX, ttl: VERIFIED_TTL_MS });
const fingerprint = (password: string, stored: string) => createHmac('sha256', processKey).update(stored).update('\0').update(password, 'utf8').digest('base64');

export async function verifyPassword(password: string, stored: string | null | undefined): Promise<boolean> {
  if (!stored) return false;
  const remembered = fingerprint(password, stored);
  if (verified.get(remembered)) return true;
  const ok = await verifyWithScrypt(password, stored);
  if (ok) verified.set(remembered, true);
  return ok;
}

async function verifyWithScrypt(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, salt, hash] = parts;
  const expected = Buffer.from(hash!, 'base64');
  const key = await scrypt(password, Buffer.from(salt!, 'base64'), { N: Number(n), r: Number(r), p: Number(p) });
  return key.length === expected.length && timingSafeEqual(key, expected);
}
