import { describe, it, expect } from 'vitest';
import { hashPassword, verifyPassword } from '../src/common/password.js';

describe('password hashes and the cache of successful verifications', () => {
  it('accepts the password, refuses others, also after a success was remembered', async () => {
    const stored = await hashPassword('correct horse');
    expect(await verifyPassword('correct horse', stored)).toBe(true);
    expect(await verifyPassword('correct horse', stored)).toBe(true); // remembered
    expect(await verifyPassword('correct hors', stored)).toBe(false);
    expect(await verifyPassword('Correct horse', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('a remembered success does not carry over to a new hash (password changed)', async () => {
    const before = await hashPassword('old-pass');
    expect(await verifyPassword('old-pass', before)).toBe(true);
    const after = await hashPassword('new-pass');
    expect(await verifyPassword('old-pass', after)).toBe(false);
    expect(await verifyPassword('new-pass', after)).toBe(true);
  });

  it('a remembered success is tied to the stored hash byte for byte', async () => {
    const stored = await hashPassword('pw-1');
    expect(await verifyPassword('pw-1', stored)).toBe(true);
    const parts = stored.split('$');
    const tampered = [...parts.slice(0, 5), Buffer.alloc(32, 7).toString('base64')].join('$');
    expect(await verifyPassword('pw-1', tampered)).toBe(false);
    expect(await verifyPassword('pw-1', null)).toBe(false);
  });

  it('remembering makes a repeated login cheap (the second check skips scrypt)', async () => {
    const stored = await hashPassword('speedy');
    const t0 = performance.now();
    await verifyPassword('speedy', stored);
    const first = performance.now() - t0;
    const t1 = performance.now();
    for (let i = 0; i < 10; i++) await verifyPassword('speedy', stored);
    const tenMore = performance.now() - t1;
    // Ten remembered checks together cost less than one scrypt.
    expect(tenMore).toBeLessThan(first);
  });
});
