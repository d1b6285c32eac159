/**
 * Thumbprints an Instance Host trusts besides the ones given at start (`--trusted-thumbprints`):
 * `<data>/config/trusted-thumbprints.txt`, one per line (`#` comments allowed), read again when
 * the file changes, so a newly paired CAS can be let in without a restart. Lines that are not
 * thumbprints are logged once and skipped.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../common/logger.js';
import { normalizeThumbprint } from '../common/certs.js';

export const TRUSTED_THUMBPRINTS_FILE = path.join('config', 'trusted-thumbprints.txt');

export function trustedThumbprintsFile(dataDir: string, log: Logger): () => readonly string[] {
  const file = path.join(dataDir, TRUSTED_THUMBPRINTS_FILE);
  let stamp = '';
  let cached: readonly string[] = [];
  return () => {
    let next: string;
    try {
      const st = statSync(file);
      next = `${st.mtimeMs}:${st.size}`;
    } catch {
      cached = [];
      stamp = '';
      return cached;
    }
    if (next === stamp) return cached;
    stamp = next;
    const list: string[] = [];
    readFileSync(file, 'utf8').split(/\r?\n/).forEach((raw, index) => {
      const line = raw.replace(/#.*/, '').trim();
      if (line === '') return;
      const thumbprint = normalizeThumbprint(line);
      if (thumbprint) list.push(thumbprint);
      else log.warn({ file, line: index + 1 }, 'not a certificate thumbprint (40 hex digits); line skipped');
    });
    cached = list;
    return cached;
  };
}
