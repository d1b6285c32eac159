/**
 * The IMAP server's layering and read-only construction, checked on the source (STYLE.md rules 1
 * and 3): commands reach the archive only through the typed, read-only instance view.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../src/cas/imap');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'protocol' ? [] : sources(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

describe('IMAP server layering', () => {
  const files = sources(ROOT);

  it('imports from the instance only its typed interface, its client type and the compact MIME tree', () => {
    const allowed = new Set(['instance/api.js', 'instance/client.js', 'instance/mime-compact.js']);
    for (const file of files) {
      for (const match of readFileSync(file, 'utf8').matchAll(/from '([^']+)'/g)) {
        const target = path.resolve(path.dirname(file), match[1]!);
        const relative = path.relative(path.resolve(ROOT, '../..'), target).split(path.sep).join('/');
        if (!match[1]!.startsWith('.')) continue;
        expect(relative.startsWith('instance/') ? allowed.has(relative) : !relative.startsWith('instance-host/') && !relative.startsWith('management/') && !relative.startsWith('cas/web/'), `${path.relative(ROOT, file)} imports ${match[1]}`).toBe(true);
      }
    }
  });

  it('never calls an instance method that changes mail', () => {
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      expect(/\.(ingest|management)\(/.test(text), path.relative(ROOT, file)).toBe(false);
    }
  });

  it('keeps one command per file, each registered once', () => {
    const registry = readFileSync(path.join(ROOT, 'registry.ts'), 'utf8');
    for (const file of readdirSync(path.join(ROOT, 'commands'))) {
      expect(registry.includes(`./commands/${file.replace(/\.ts$/, '.js')}`), file).toBe(true);
    }
  });
});
