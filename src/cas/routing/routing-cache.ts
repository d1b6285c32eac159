/**
 * The CAS's copy of the routing table: kept in memory, mirrored to `<data>/cas/routing-table.json`
 * (written atomically) so a CAS that restarts while the Management Server is down still routes
 * with the last table it had. Look-ups by instance ID or alias go through an LRU cache of
 * answers, negative ones included, so a flood of made-up names costs one map probe each.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import path from 'node:path';
import { LRUCache } from 'lru-cache';
import { isRoutingTable, type RoutingChange, type RoutingEntry, type RoutingTable } from './routing-wire.js';

/** Names looked up recently; more than the instances of a large provider, small in memory. */
const LOOKUP_CACHE_ENTRIES = 10_000;

export const ROUTING_TABLE_FILE = path.join('cas', 'routing-table.json');

export class RoutingCache {
  #table: RoutingTable = { version: -1, entries: [] };
  #byName = new Map<string, RoutingEntry>();
  readonly #lookups = new LRUCache<string, { entry: RoutingEntry | null }>({ max: LOOKUP_CACHE_ENTRIES });

  /** `file`: where the table is kept on disk; null keeps it in memory only. */
  constructor(private readonly file: string | null) {}

  static forDataDir(dataDir: string): RoutingCache {
    return new RoutingCache(path.join(dataDir, ROUTING_TABLE_FILE));
  }

  get version(): number { return this.#table.version; }
  get table(): RoutingTable { return this.#table; }
  get hasTable(): boolean { return this.#table.version >= 0; }

  /** Loads the table kept on disk; false when there is none or it is unreadable (then it is ignored). */
  loadFromDisk(): boolean {
    if (!this.file) return false;
    try {
      const value: unknown = JSON.parse(readFileSync(this.file, 'utf8'));
      if (!isRoutingTable(value)) return false;
      this.#install(value, false);
      return true;
    } catch {
      return false;
    }
  }

  replace(table: RoutingTable): void {
    this.#install(table, true);
  }

  /** Applies a pushed change; false when it does not follow the version held (the caller re-reads). */
  apply(change: RoutingChange): boolean {
    if (change.fromVersion !== this.#table.version) return false;
    if (change.toVersion === change.fromVersion && change.upserts.length === 0 && change.removes.length === 0) return true;
    const entries = new Map(this.#table.entries.map((e) => [e.instanceId, e]));
    for (const id of change.removes) entries.delete(id);
    for (const entry of change.upserts) entries.set(entry.instanceId, entry);
    this.#install({ version: change.toVersion, entries: [...entries.values()] }, true);
    return true;
  }

  /** The entry whose ID or alias is `name` (case-insensitive: IDs are lower case by rule). */
  lookup(name: string): RoutingEntry | undefined {
    const key = name.toLowerCase();
    const cached = this.#lookups.get(key);
    if (cached) return cached.entry ?? undefined;
    const entry = this.#byName.get(key) ?? null;
    this.#lookups.set(key, { entry });
    return entry ?? undefined;
  }

  #install(table: RoutingTable, persist: boolean): void {
    const byName = new Map<string, RoutingEntry>();
    for (const entry of table.entries) byName.set(entry.instanceId, entry);
    // An ID wins over another instance's alias (the Management Server keeps them unique anyway).
    for (const entry of table.entries) if (entry.alias && !byName.has(entry.alias)) byName.set(entry.alias, entry);
    this.#table = { version: table.version, entries: [...table.entries] };
    this.#byName = byName;
    this.#lookups.clear();
    if (persist && this.file) writeAtomically(this.file, `${JSON.stringify(this.#table, null, 2)}\n`);
  }
}

function writeAtomically(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o600 });
  const fd = openSync(tmp, 'r');
  try { fsyncSync(fd); } finally { closeSync(fd); }
  renameSync(tmp, file);
}
