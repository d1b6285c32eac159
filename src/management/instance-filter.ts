/**
 * instanceFilter of GetInstances, StartInstances, StopInstances, RestartInstances,
 * FreezeInstances, ThawInstances and DeleteInstances (Function Reference):
 *   `*`                               all instances
 *   `instance01 instance02`           those instances
 *   `*instancehost01 *instancehost02` all instances on those Instance Hosts
 *   `* .running` / `* .stopped`       narrowed to running / stopped instances
 * Terms are separated by white space; a status suffix narrows the whole selection.
 */
import { describeInstanceIdProblem } from './instance-ids.js';

export type InstanceStatusFilter = 'running' | 'stopped';

export interface InstanceFilter {
  readonly isAll: boolean;
  readonly instanceIds: readonly string[];
  readonly hostNames: readonly string[];
  readonly status: InstanceStatusFilter | null;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; message: string };

export function parseInstanceFilter(text: string): ParseResult<InstanceFilter> {
  const terms = text.split(/\s+/).filter((term) => term.length > 0);
  if (terms.length === 0) return { ok: false, message: 'is empty; use * for all instances' };
  let isAll = false;
  let status: InstanceStatusFilter | null = null;
  const instanceIds: string[] = [];
  const hostNames: string[] = [];
  for (const term of terms) {
    if (term === '*') {
      isAll = true;
    } else if (term === '.running' || term === '.stopped') {
      if (status !== null && status !== term.slice(1)) return { ok: false, message: 'cannot combine .running and .stopped' };
      status = term.slice(1) as InstanceStatusFilter;
    } else if (term.startsWith('.')) {
      return { ok: false, message: `has an unknown status suffix '${term}' (expected .running or .stopped)` };
    } else if (term.startsWith('*')) {
      hostNames.push(term.slice(1));
    } else {
      const problem = describeInstanceIdProblem(term);
      if (problem) return { ok: false, message: `names '${term}', which is not an instance ID: it ${problem}` };
      instanceIds.push(term);
    }
  }
  if (!isAll && instanceIds.length === 0 && hostNames.length === 0) {
    return { ok: false, message: 'has only a status suffix; put * or instance IDs before it' };
  }
  return { ok: true, value: { isAll, instanceIds: dedupe(instanceIds), hostNames: dedupe(hostNames), status } };
}

export interface FilterableInstance {
  readonly id: string;
  readonly host: string;
  readonly isRunning: boolean;
}

/** The instances the filter selects, in the order given. Host names compare case-insensitively (DNS). */
export function selectInstances<T extends FilterableInstance>(filter: InstanceFilter, instances: readonly T[]): T[] {
  const ids = new Set(filter.instanceIds);
  const hosts = new Set(filter.hostNames.map((host) => host.toLowerCase()));
  return instances.filter((instance) => {
    const isNamed = filter.isAll || ids.has(instance.id) || hosts.has(instance.host.toLowerCase());
    if (!isNamed) return false;
    if (filter.status === 'running') return instance.isRunning;
    if (filter.status === 'stopped') return !instance.isRunning;
    return true;
  });
}

function dedupe(values: string[]): string[] {
  return [...new Set(values)];
}
