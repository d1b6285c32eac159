/**
 * Password hashes for system administrators: scrypt (node:crypto), stored as
 * `scrypt$<N>$<r>$<p>$<salt b64>$<hash b64>` so the cost can be raised later without breaking
 * stored hashes. Comparison is constant-time; an unknown user costs the same as a known one.
 */
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** N=2^14, r=8: 16 MiB and a few tens of ms per check, OWASP's floor for scrypt. */
const COST = 2 ** 14;
const BLOCK_SIZE = 8;
const PARALLELISM = 1;
const KEY_BYTES = 64;
const SALT_BYTES = 16;
/** scrypt needs 128 * N * r bytes; leave head-room above node's 32 MiB default for raised costs. */
const MAX_MEMORY_BYTES = 256 * 1024 * 1024;

export const MIN_PASSWORD_CHARS = 8;

function scrypt(password: string, salt: Buffer, keyBytes: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCallback(password.normalize('NFC'), salt, keyBytes, options, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await scrypt(password, salt, KEY_BYTES, { N: COST, r: BLOCK_SIZE, p: PARALLELISM, maxmem: MAX_MEMORY_BYTES });
  return ['scrypt', COST, BLOCK_SIZE, PARALLELISM, salt.toString('base64'), key.toString('base64')].join('$');
}

/** false for a wrong password and for a malformed hash (never throws on stored data). */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, cost, blockSize, parallelism, saltText, keyText] = parts;
  const N = Number(cost);
  const r = Number(blockSize);
  const p = Number(parallelism);
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0)) return false;
  const expected = Buffer.from(keyText ?? '', 'base64');
  if (expected.length === 0) return false;
  try {
    const actual = await scrypt(password, Buffer.from(saltText ?? '', 'base64'), expected.length, { N, r, p, maxmem: MAX_MEMORY_BYTES });
    return timingSafeEqual(actual, expected);
  } catch {
    return false;
  }
}

let dummyHash: Promise<string> | null = null;

/** Spends the time of one check, so that "no such user" cannot be told apart by timing. */
export async function spendVerificationTime(password: string): Promise<void> {
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  await verifyPassword(password, await dummyHash);
}

/** A random password of `bytes` bytes of entropy, URL-safe text. */
export function generatePassword(bytes = 18): string {
  return randomBytes(bytes).toString('base64url');
}

/** null when acceptable, else why not. */
export function describePasswordProblem(password: string): string | null {
  if (password.length < MIN_PASSWORD_CHARS) return `must be at least ${MIN_PASSWORD_CHARS} characters long`;
  return null;
}
