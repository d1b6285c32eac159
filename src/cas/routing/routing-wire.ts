/**
 * The routing protocol between the Management Server and the Client Access Servers (DESIGN.md §3):
 *
 *   CAS → Management Server, 8471 (mutual TLS, pinned):  `getRoutingTable` → RoutingTable
 *   Management Server → CAS, 8473 (mutual TLS, pinned):  `routingChanged(RoutingChange)` → {version}
 *                                                        `reloadBranding()` → {ok, error}
 *                                                        `getRoutingVersion()` → number
 *
 * Every change carries the version it applies to (`fromVersion`): a CAS whose table is at another
 * version missed a change and reads the whole table again.
 */
import type { HostAddress } from '../../instance/client.js';

export type RoutedStatus = 'running' | 'stopped' | 'starting' | 'stopping' | 'frozen' | 'safeMode' | 'error';

export interface RoutingEntry {
  readonly instanceId: string;
  readonly alias: string | null;
  /** serverName of the Instance Host. */
  readonly hostName: string;
  /** Where the CAS connects to reach the instance; null while the host has no thumbprint. */
  readonly address: HostAddress | null;
  readonly status: RoutedStatus;
}

export interface RoutingTable {
  readonly version: number;
  readonly entries: readonly RoutingEntry[];
}

export interface RoutingChange {
  readonly fromVersion: number;
  readonly toVersion: number;
  readonly upserts: readonly RoutingEntry[];
  /** Instance IDs no longer routed. */
  readonly removes: readonly string[];
}

export const ROUTING_RPC = Object.freeze({
  getRoutingTable: 'getRoutingTable',
  routingChanged: 'routingChanged',
  reloadBranding: 'reloadBranding',
  getRoutingVersion: 'getRoutingVersion',
});

/** Statuses in which an instance answers calls (frozen instances still read). */
export const ROUTABLE_STATUSES: readonly RoutedStatus[] = ['running', 'frozen', 'safeMode'];

export function sameEntry(a: RoutingEntry, b: RoutingEntry): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The change that turns `before` into `after` (entries keyed by instance ID). */
export function diffTables(before: readonly RoutingEntry[], after: readonly RoutingEntry[]): { upserts: RoutingEntry[]; removes: string[] } {
  const old = new Map(before.map((e) => [e.instanceId, e]));
  const upserts = after.filter((e) => { const o = old.get(e.instanceId); return !o || !sameEntry(o, e); });
  const kept = new Set(after.map((e) => e.instanceId));
  return { upserts, removes: before.filter((e) => !kept.has(e.instanceId)).map((e) => e.instanceId) };
}

export function isRoutingEntry(value: unknown): value is RoutingEntry {
  if (typeof value !== 'object' || value === null) return false;
  const e = value as Record<string, unknown>;
  const address = e.address as Record<string, unknown> | null;
  return typeof e.instanceId === 'string' && (e.alias === null || typeof e.alias === 'string') && typeof e.hostName === 'string' && typeof e.status === 'string'
    && (address === null || (typeof address === 'object' && typeof address.host === 'string' && typeof address.port === 'number' && typeof address.thumbprint === 'string'));
}

export function isRoutingTable(value: unknown): value is RoutingTable {
  if (typeof value !== 'object' || value === null) return false;
  const t = value as Record<string, unknown>;
  return Number.isInteger(t.version) && Array.isArray(t.entries) && t.entries.every(isRoutingEntry);
}
