/**
 * The bench's generated mail: 75 KB mean, and a quarter of its attachments repeat an earlier
 * message's document (the storage figure depends on it), none with `repeatedAttachments: 0`.
 */
import { describe, it, expect } from 'vitest';
import { generateMessage } from '../src/bench/generate.js';

/** Base64 bodies of attachment parts, as text. */
function attachmentBodies(raw: Buffer): string[] {
  const s = raw.toString('latin1');
  return [...s.matchAll(/Content-Disposition: attachment; filename="[^"]*"\r\n\r\n([A-Za-z0-9+/=\r\n]+?)\r\n--/g)].map((m) => m[1]!);
}

function stats(repeatedAttachments?: number) {
  const seen = new Set<string>();
  let attachments = 0, repeats = 0, bytes = 0;
  const n = 1000;
  for (let i = 0; i < n; i++) {
    const raw = generateMessage(1, i, repeatedAttachments === undefined ? {} : { repeatedAttachments }).raw;
    bytes += raw.length;
    for (const body of attachmentBodies(raw)) {
      attachments++;
      if (seen.has(body)) repeats++;
      seen.add(body);
    }
  }
  return { meanKb: bytes / n / 1024, attachments, share: repeats / attachments };
}

describe('bench generator', () => {
  it('repeats about a quarter of the attachments by default, none when asked, at a 75 KB mean', () => {
    const usual = stats();
    expect(usual.attachments).toBeGreaterThan(400);
    expect(usual.share).toBeGreaterThan(0.18);
    expect(usual.share).toBeLessThan(0.32);
    expect(usual.meanKb).toBeGreaterThan(60);
    expect(usual.meanKb).toBeLessThan(90);
    const fresh = stats(0);
    expect(fresh.share).toBe(0);
    expect(fresh.attachments).toBe(usual.attachments);
  });

  it('is deterministic: the same seed and index give the same bytes', () => {
    expect(generateMessage(5, 123).raw.equals(generateMessage(5, 123).raw)).toBe(true);
  });
});
