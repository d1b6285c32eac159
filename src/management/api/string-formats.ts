/**
 * String arguments with a grammar of their own (Function Reference): instance IDs, instance
 * filters, and comma-separated privilege lists. Each check returns null or a message without the
 * argument name; validate.ts prefixes it.
 */
import type { StringFormat } from './functions/declare.js';
import { describeInstanceIdProblem } from '../instance-ids.js';
import { parseInstanceFilter } from '../instance-filter.js';

/** Global privileges; `none` and `admin` must stand alone. */
export const GLOBAL_PRIVILEGES = [
  'none',
  'admin',
  'login',
  'changePassword',
  'archive',
  'modifyArchiveProfiles',
  'export',
  'modifyExportProfiles',
  'delete',
] as const;

/** Folder privileges; `none` must stand alone. */
export const FOLDER_PRIVILEGES = ['none', 'read', 'write', 'delete'] as const;

export function describeFormatProblem(value: string, format: StringFormat): string | null {
  switch (format) {
    case 'instanceId': {
      const problem = describeInstanceIdProblem(value);
      return problem ? `'${value}' is not a valid instance ID: it ${problem}` : null;
    }
    case 'instanceFilter': {
      const parsed = parseInstanceFilter(value);
      return parsed.ok ? null : parsed.message;
    }
    case 'privileges':
      return describePrivilegeListProblem(value, GLOBAL_PRIVILEGES, ['none', 'admin']);
    case 'folderPrivileges':
      return describePrivilegeListProblem(value, FOLDER_PRIVILEGES, ['none']);
  }
}

export function parsePrivilegeList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

function describePrivilegeListProblem(value: string, known: readonly string[], standAlone: readonly string[]): string | null {
  const items = parsePrivilegeList(value);
  if (items.length === 0) return `is empty; expected a comma-separated list of ${known.join(', ')}`;
  for (const item of items) {
    if (!known.includes(item)) return `has unknown privilege '${item}' (expected ${known.join(', ')})`;
  }
  for (const item of standAlone) {
    if (items.includes(item) && items.length > 1) return `'${item}' must be the only value in the list`;
  }
  return null;
}
