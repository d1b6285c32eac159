import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RoutingCache } from '../src/cas/routing/routing-cache.js';
import { diffTables, type RoutingEntry } from '../src/cas/routing/routing-wire.js';

const entry = (instanceId: string, alias: string | null = null, status: RoutingEntry['status'] = 'running'): RoutingEntry =>
  ({ instanceId, alias, hostName: 'host1', address: { host: '127.0.0.1', port: 8472, thumbprint: 'AB'.repeat(20) }, status });

describe('CAS routing cache', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'coffer-rcache-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('looks up by ID or alias, case-insensitively, and forgets cached answers when the table changes', () => {
    const cache = new RoutingCache(null);
    expect(cache.lookup('acme')).toBeUndefined();
    cache.replace({ version: 1, entries: [entry('acme', 'acme-corp'), entry('globex')] });
    expect(cache.lookup('ACME-Corp')?.instanceId).toBe('acme');
    expect(cache.lookup('globex')?.instanceId).toBe('globex');
    expect(cache.lookup('initech')).toBeUndefined();
    expect(cache.apply({ fromVersion: 1, toVersion: 2, upserts: [entry('initech')], removes: ['globex'] })).toBe(true);
    expect(cache.lookup('initech')?.instanceId).toBe('initech');
    expect(cache.lookup('globex')).toBeUndefined();
    expect(cache.version).toBe(2);
  });

  it('refuses a change that does not follow its version (the caller re-reads)', () => {
    const cache = new RoutingCache(null);
    cache.replace({ version: 7, entries: [entry('acme')] });
    expect(cache.apply({ fromVersion: 5, toVersion: 6, upserts: [entry('bogus')], removes: ['acme'] })).toBe(false);
    expect(cache.lookup('acme')).toBeDefined();
    expect(cache.lookup('bogus')).toBeUndefined();
    expect(cache.apply({ fromVersion: 7, toVersion: 7, upserts: [], removes: [] })).toBe(true);
  });

  it('keeps the table on disk and loads it again; a damaged file is ignored, not trusted', () => {
    const data = path.join(dir, 'data');
    const first = RoutingCache.forDataDir(data);
    first.replace({ version: 3, entries: [entry('acme', 'acme-corp')] });
    const again = RoutingCache.forDataDir(data);
    expect(again.loadFromDisk()).toBe(true);
    expect(again.version).toBe(3);
    expect(again.lookup('acme-corp')?.instanceId).toBe('acme');
    expect(JSON.parse(readFileSync(path.join(data, 'cas', 'routing-table.json'), 'utf8')).version).toBe(3);

    const broken = path.join(dir, 'broken');
    mkdirSync(path.join(broken, 'cas'), { recursive: true });
    writeFileSync(path.join(broken, 'cas', 'routing-table.json'), '{"version": 1, "entries": [{"instanceId": 5}]}');
    const damaged = RoutingCache.forDataDir(broken);
    expect(damaged.loadFromDisk()).toBe(false);
    expect(damaged.hasTable).toBe(false);
  });

  it('diffs two tables into upserts and removes', () => {
    expect(diffTables([entry('a'), entry('b'), entry('c')], [entry('a'), entry('b', 'bee'), entry('d')])).toEqual({ upserts: [entry('b', 'bee'), entry('d')], removes: ['c'] });
  });
});
