import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../src/common/logger.js';
import { trustedThumbprintsFile } from '../src/server/trusted-thumbprints.js';

describe('trusted thumbprints file of an Instance Host (multi server mode)', () => {
  const data = mkdtempSync(path.join(os.tmpdir(), 'coffer-trust-'));
  afterAll(() => rmSync(data, { recursive: true, force: true }));

  it('reads thumbprints, skips what is not one, and notices changes without a restart', async () => {
    const read = trustedThumbprintsFile(data, createLogger('silent'));
    expect(read()).toEqual([]);
    mkdirSync(path.join(data, 'config'));
    const file = path.join(data, 'config', 'trusted-thumbprints.txt');
    writeFileSync(file, `# management server\n${'ab'.repeat(20)}\nnot-a-thumbprint\n\n${'12:'.repeat(19)}12  # cas\n`);
    expect(read()).toEqual(['AB'.repeat(20), '12'.repeat(20)]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    writeFileSync(file, `${'cd'.repeat(20)}\n`);
    expect(read()).toEqual(['CD'.repeat(20)]);
  });
});
